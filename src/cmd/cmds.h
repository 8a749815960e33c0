/* cmds.h: one entry point per subcommand; each lives in src/cmd/<name>.c. */
#ifndef MMDB_CMDS_H
#define MMDB_CMDS_H

#include "../mmdb.h"

int cmd_init(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_sql(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_env(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_ingest(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_stats(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_images(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_tokenize(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_vocab(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_model(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_run(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_runs(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_sweep(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_show(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_compare(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_predict(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_export(int argc, char **argv, struct mmdb_ctx *ctx);
int cmd_tui(int argc, char **argv, struct mmdb_ctx *ctx);

#endif
