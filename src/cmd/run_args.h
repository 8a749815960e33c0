/*
 * run_args: the `mmdb run` command line as an API, so that a sweep worker
 * (src/cmd/sweep.c) trains a trial in its own process exactly as `mmdb run`
 * would, and `mmdb sweep create` checks swept flags against the real option
 * table. Implemented in src/cmd/run.c.
 */
#ifndef MMDB_RUN_ARGS_H
#define MMDB_RUN_ARGS_H

#include <stdint.h>

struct db;
struct mmdb_ctx;
struct run_config;

/*
 * Parses a `mmdb run` command line (argv[0] is the command's name, as
 * getopt_long wants) into cfg: defaults and --preset first, so explicit
 * flags win; the last of a repeated flag wins. Returns 0, 2 for a usage
 * error (message printed), or 3 after -h (usage printed). *resume gets
 * --resume's argument (may be NULL when not wanted). cfg->tags is malloc'd:
 * free((void *)cfg->tags) when done; other strings point into argv.
 */
int run_parse_args(int argc, char **argv, struct run_config *cfg, const char **resume);

/*
 * What NAME (a long option of `mmdb run`, without its dashes) is: 1 takes a
 * value, 0 takes none, -1 no such option.
 */
int run_option_kind(const char *name);

/* The command line as a JSON array (what a run's config keeps as "argv").
 * Caller frees. */
char *run_argv_json(int argc, char **argv);

/* Reads back the command line kept in run id's config: *argv (NULL-ended,
 * caller frees with run_argv_free) and *argc. Returns 0 or -1 (message). */
int run_stored_argv(struct db *db, int64_t id, int *argc, char ***argv);
void run_argv_free(int argc, char **argv);

/*
 * Trains a parsed configuration as `mmdb run` does: fills the defaults that
 * depend on the machine (loader workers) and the test hooks from the
 * environment, keeps argv (the command line to store) and calls
 * train_run(). resume_id > 0 continues that run. Returns train_run's code
 * (0 finished, 1 interrupted, 2 pruned, -1 failed); *run_id as train_run.
 */
int run_train(struct mmdb_ctx *ctx, struct run_config *cfg, int argc, char **argv,
	      int64_t resume_id, int64_t *run_id);

#endif
