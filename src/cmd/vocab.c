/*
 * mmdb vocab: build a WordPiece vocab from the ingested titles, record a
 * vocab file, list the recorded ones.
 */
#include "cmds.h"
#include "../db.h"
#include "../output.h"
#include "../util.h"
#include "../vocab.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vocab_usage(FILE *f)
{
	fprintf(f,
		"usage: mmdb vocab build [--size N] [--min-count N] [--out FILE]\n"
		"       mmdb vocab add FILE\n"
		"       mmdb vocab list [--format table|csv|json]\n\n"
		"build   a WordPiece vocab from the titles of the train split (all splits when\n"
		"        there is no train split): [PAD] [UNK] [CLS] [SEP] [MASK], every\n"
		"        character seen and its ## form, then the most frequent whole words\n"
		"        (lower-cased, accents stripped, as the tokenizer sees them).\n"
		"        --size N       tokens in all (default %d)\n"
		"        --min-count N  occurrences a word needs (default %d)\n"
		"        --out FILE     where to write (default <cache>/vocab/vocab-<sha8>.txt)\n"
		"        Prints the path; the vocab is recorded in the vocabs table.\n"
		"add     records an existing vocab.txt (e.g. bert-base-uncased's) in the\n"
		"        vocabs table; prints its id.\n"
		"list    the recorded vocabs.\n",
		VOCAB_DEFAULT_SIZE, VOCAB_DEFAULT_MIN_COUNT);
}

static int vocab_build_cmd(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "min-count", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vocab_build_opts o = { VOCAB_DEFAULT_SIZE, VOCAB_DEFAULT_MIN_COUNT, NULL, ctx->quiet };
	char *path = NULL;
	int64_t id;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_int(optarg, 7, 10000000, "--size", &o.size))
				return 2;
			break;
		case 'm':
			if (parse_int(optarg, 1, INT32_MAX, "--min-count", &o.min_count))
				return 2;
			break;
		case 'o': o.out = optarg; break;
		case 'h': vocab_usage(stdout); return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("vocab build: unexpected argument '%s'", argv[optind]);
	if (vocab_build(ctx->db, ctx->cache_dir, &o, &path, &id))
		return 1;
	printf("%s\n", path);
	free(path);
	return 0;
}

static int vocab_add_cmd(int argc, char **argv, struct mmdb_ctx *ctx)
{
	int64_t id;
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		vocab_usage(stdout);
		return 0;
	}
	if (argc != 2)
		return usage_error("vocab add: one vocab file wanted");
	if (vocab_register(ctx->db, argv[1], "file", &id))
		return 1;
	printf("%lld\n", (long long)id);
	return 0;
}

static int vocab_list_cmd(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, fmt = FMT_TABLE, r;
	struct db_stmt *st = NULL;
	struct table *t;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("vocab list: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h': vocab_usage(stdout); return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("vocab list: unexpected argument '%s'", argv[optind]);
	if (db_prepare(ctx->db, &st, "SELECT id, size, source, created_at, sha256, path FROM vocabs "
				     "ORDER BY id"))
		return 1;
	t = table_new(6);
	table_set_header(t, 0, "id");
	table_set_header(t, 1, "size");
	table_set_header(t, 2, "source");
	table_set_header(t, 3, "created_at");
	table_set_header(t, 4, "sha256");
	table_set_header(t, 5, "path");
	while ((r = db_step(st)) == DB_ROW) {
		table_add_row(t);
		table_cell_int(t, 0, db_column_int(st, 0));
		table_cell_int(t, 1, db_column_int(st, 1));
		table_cell_text(t, 2, db_column_text(st, 2));
		table_cell_text(t, 3, db_column_text(st, 3));
		table_cell_text(t, 4, db_column_text(st, 4));
		table_cell_text(t, 5, db_column_text(st, 5));
	}
	db_finalize(st);
	if (r == DB_DONE)
		table_print(t, stdout, fmt);
	table_free(t);
	return r == DB_DONE ? 0 : 1;
}

int cmd_vocab(int argc, char **argv, struct mmdb_ctx *ctx)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (!sub)
		return usage_error("vocab: build, add or list wanted (mmdb vocab -h)");
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		vocab_usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "build"))
		return vocab_build_cmd(argc - 1, argv + 1, ctx);
	if (!strcmp(sub, "add"))
		return vocab_add_cmd(argc - 1, argv + 1, ctx);
	if (!strcmp(sub, "list"))
		return vocab_list_cmd(argc - 1, argv + 1, ctx);
	return usage_error("vocab: unknown subcommand '%s' (build, add, list)", sub);
}
