/*
 * main.c: global options, then dispatch to src/cmd/ through one table.
 */
#define _POSIX_C_SOURCE 200809L
#include "cmd/cmds.h"
#include "db.h"
#include "util.h"

#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct mmdb_ctx *ctx);
	int flags;
	const char *help;
};

static const struct command commands[] = {
	{ "init", cmd_init, 0, "create or migrate the database" },
	{ "sql", cmd_sql, NEEDS_DB_RO, "run SQL over everything" },
	{ "env", cmd_env, 0, "versions, CUDA devices and threads" },
	{ "ingest", cmd_ingest, NEEDS_DB, "posts and labels from Fakeddit TSV files" },
	{ "stats", cmd_stats, NEEDS_DB, "posts per split and label, image coverage, errors" },
	{ "images", cmd_images, NEEDS_DB, "fetch, import or verify images in the cache" },
	{ "tokenize", cmd_tokenize, 0, "WordPiece token ids for texts on stdin" },
	{ "vocab", cmd_vocab, NEEDS_DB, "build a WordPiece vocab from the ingested titles" },
	{ "model", cmd_model, 0, "list model presets, inspect or fetch weight files" },
	{ "run", cmd_run, NEEDS_DB, "train and evaluate a model, recorded epoch by epoch" },
	{ "runs", cmd_runs, NEEDS_DB, "runs as a table; runs rm RUN" },
	{ "sweep", cmd_sweep, NEEDS_DB, "many runs from one command: a queue that workers drain" },
	{ "show", cmd_show, NEEDS_DB, "one run in full" },
	{ "compare", cmd_compare, NEEDS_DB, "runs side by side" },
	{ "predict", cmd_predict, NEEDS_DB, "classify new posts with a run's best checkpoint" },
	{ "export", cmd_export, NEEDS_DB, "a run's epochs, predictions or config as CSV or JSON" },
	{ "tui", cmd_tui, NEEDS_DB_RO, "the terminal dashboard" },
};

static void usage(FILE *f)
{
	size_t i;
	fprintf(f, "usage: mmdb [--db PATH] [--cache DIR] [-q] [-v] COMMAND [ARGS]\n"
		   "       mmdb --version | --help\n\n"
		   "mmdb keeps a multimodal dataset and every training run made on it in one\n"
		   "SQLite database.\n\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'mmdb COMMAND -h' describes a command.\n"
		   "--db defaults to $MMDB_DB, then ./mmdb.db; --cache to $MMDB_CACHE, then\n"
		   "mmdb-cache/ beside the database. A command waits up to $MMDB_BUSY_TIMEOUT\n"
		   "seconds (10) for another process's lock on the database.\n");
}

static char *default_cache(const char *db_path)
{
	char *copy = xstrdup(db_path), *dir = dirname(copy);
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "%s/mmdb-cache", dir);
	free(copy);
	return sb_detach(&sb);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "cache", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct mmdb_ctx ctx = { 0 };
	const char *cache = NULL, *s;
	const struct command *cmd = NULL;
	size_t i;
	int c, ret;

	/* '+' stops at the first non-option: the command's own options follow. */
	while ((c = getopt_long(argc, argv, "+qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': ctx.db_path = optarg; break;
		case 'c': cache = optarg; break;
		case 'q': ctx.quiet = 1; break;
		case 'v': ctx.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("mmdb %s\n", MMDB_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, argv[optind]))
			cmd = &commands[i];
	if (!cmd)
		return usage_error("unknown command '%s' (see 'mmdb --help')", argv[optind]);

	if (!ctx.db_path)
		ctx.db_path = getenv("MMDB_DB");
	if (!ctx.db_path || !*ctx.db_path)
		ctx.db_path = "mmdb.db";
	if (!cache)
		cache = getenv("MMDB_CACHE");
	if ((s = getenv("MMDB_BUSY_TIMEOUT")) && *s) {
		double secs;
		if (parse_double(s, 0, 86400, "$MMDB_BUSY_TIMEOUT", &secs))
			return 2;
		db_set_busy_timeout((int)(secs * 1000));
	}
	ctx.cache_dir = cache && *cache ? xstrdup(cache) : default_cache(ctx.db_path);

	argc -= optind;
	argv += optind;
	/* The command parses its own options from argv[0] on; 0 (not 1) makes
	 * glibc start afresh, so options may follow plain arguments again
	 * (mmdb sql "SELECT ..." --format csv) despite the "+" above. */
	optind = 0;

	/* -h is answered before the database is touched. */
	if (!(argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) &&
	    (cmd->flags & NEEDS_DB)) {
		if (db_open(&ctx.db, ctx.db_path, 0)) {
			free(ctx.cache_dir);
			return 1;
		}
	}
	ret = cmd->fn(argc, argv, &ctx);
	db_close(ctx.db);
	free(ctx.cache_dir);
	return ret;
}
