/*
 * mmdb stats: what the database holds. Posts per split and label (2-, 3-
 * and 6-way, with class names), image coverage by status and ingest errors
 * by reason, as readable tables, one CSV table or one JSON object with
 * stable keys (documented in the README).
 */
#include "cmds.h"
#include "../db.h"
#include "../output.h"
#include "../util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *const splits[] = { "train", "validate", "test" };
static const struct {
	const char *key, *column;
	int classes;
} schemes[] = {
	{ "2way", "label_2way", 2 },
	{ "3way", "label_3way", 3 },
	{ "6way", "label_6way", 6 },
};
static const char *const image_statuses[] = { "ok", "pending", "removed", "not_image", "http_error",
					      "timeout", "too_large", "corrupt", "failed" };

struct stats {
	int64_t posts[3];
	int64_t labels[3][3][7];    /* split, scheme, label (index 6: NULL) */
	char names[3][6][48];       /* scheme, label -> class name */
	int64_t posts_total, posts_no_image, errors;
	struct {
		char status[32];
		int64_t n;
	} images[16];
	int nimages;
	struct {
		char reason[96];
		int64_t n;
	} reasons[32];
	int nreasons;
};

static int split_index(const char *s)
{
	size_t i;
	for (i = 0; s && i < ARRAY_SIZE(splits); i++)
		if (!strcmp(s, splits[i]))
			return (int)i;
	return -1;
}

static int load(struct db *db, const char *dataset, struct stats *s)
{
	struct db_stmt *st = NULL;
	struct strbuf sql = STRBUF_INIT;
	const char *where = dataset ? " WHERE dataset_id = (SELECT id FROM datasets WHERE name = ?1)" : "";
	size_t k;
	int rc, ret = -1;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < ARRAY_SIZE(schemes); k++) {
		sb_reset(&sql);
		sb_addf(&sql, "SELECT split, %s, count(*) FROM posts%s GROUP BY 1, 2", schemes[k].column, where);
		if (db_prepare(db, &st, sql.buf))
			goto out;
		if (dataset)
			db_bind_text(st, 1, dataset, -1);
		while ((rc = db_step(st)) == DB_ROW) {
			int sp = split_index(db_column_text(st, 0));
			int64_t n = db_column_int(st, 2);
			int label = db_column_type(st, 1) == DB_NULL ? 6 : (int)db_column_int(st, 1);
			if (sp < 0 || label < 0 || (label > 5 && label != 6))
				continue;
			s->labels[sp][k][label] += n;
			if (k == 0) {
				s->posts[sp] += n;
				s->posts_total += n;
			}
		}
		db_finalize(st);
		st = NULL;
		if (rc < 0)
			goto out;
	}
	if (db_prepare(db, &st, "SELECT scheme, label, name FROM label_names"))
		goto out;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *scheme = db_column_text(st, 0);
		int64_t label = db_column_int(st, 1);
		for (k = 0; k < ARRAY_SIZE(schemes); k++)
			if (scheme && !strcmp(scheme, schemes[k].key) && label >= 0 && label < 6)
				snprintf(s->names[k][label], sizeof(s->names[k][label]), "%s",
					 db_column_text(st, 2));
	}
	db_finalize(st);
	st = NULL;
	if (rc < 0)
		goto out;

	sb_reset(&sql);
	sb_addf(&sql, "SELECT coalesce(i.status, 'none'), count(*) FROM posts p "
		      "LEFT JOIN images i ON i.post_id = p.id%s GROUP BY 1 ORDER BY 2 DESC",
		dataset ? " WHERE p.dataset_id = (SELECT id FROM datasets WHERE name = ?1)" : "");
	if (db_prepare(db, &st, sql.buf))
		goto out;
	if (dataset)
		db_bind_text(st, 1, dataset, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *status = db_column_text(st, 0);
		if (!strcmp(status, "none")) {
			s->posts_no_image = db_column_int(st, 1);
			continue;
		}
		if (s->nimages < (int)ARRAY_SIZE(s->images)) {
			snprintf(s->images[s->nimages].status, sizeof(s->images[0].status), "%s", status);
			s->images[s->nimages++].n = db_column_int(st, 1);
		}
	}
	db_finalize(st);
	st = NULL;
	if (rc < 0)
		goto out;

	if (db_prepare(db, &st, "SELECT reason, count(*) FROM ingest_errors GROUP BY 1 ORDER BY 2 DESC, 1"))
		goto out;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t n = db_column_int(st, 1);
		s->errors += n;
		if (s->nreasons < (int)ARRAY_SIZE(s->reasons)) {
			snprintf(s->reasons[s->nreasons].reason, sizeof(s->reasons[0].reason), "%s",
				 db_column_text(st, 0) ? db_column_text(st, 0) : "");
			s->reasons[s->nreasons++].n = n;
		}
	}
	if (rc < 0)
		goto out;
	ret = 0;
out:
	db_finalize(st);
	sb_release(&sql);
	return ret;
}

static int64_t image_count(const struct stats *s, const char *status)
{
	int i;
	for (i = 0; i < s->nimages; i++)
		if (!strcmp(s->images[i].status, status))
			return s->images[i].n;
	return 0;
}

static void print_json(const struct stats *s, FILE *f)
{
	struct strbuf sb = STRBUF_INIT;
	size_t sp, k, i;
	int c;
	sb_adds(&sb, "{\"splits\": {");
	for (sp = 0; sp < ARRAY_SIZE(splits); sp++) {
		sb_addf(&sb, "%s\"%s\": {\"posts\": %lld, \"labels\": {", sp ? ", " : "", splits[sp],
			(long long)s->posts[sp]);
		for (k = 0; k < ARRAY_SIZE(schemes); k++) {
			sb_addf(&sb, "%s\"%s\": {", k ? ", " : "", schemes[k].key);
			for (c = 0; c < schemes[k].classes; c++)
				sb_addf(&sb, "%s\"%d\": %lld", c ? ", " : "", c, (long long)s->labels[sp][k][c]);
			sb_addf(&sb, ", \"null\": %lld}", (long long)s->labels[sp][k][6]);
		}
		sb_adds(&sb, "}}");
	}
	sb_addf(&sb, "}, \"posts\": %lld, \"ingest_errors\": %lld, \"ingest_errors_by_reason\": {",
		(long long)s->posts_total, (long long)s->errors);
	for (c = 0; c < s->nreasons; c++) {
		sb_adds(&sb, c ? ", " : "");
		sb_add_json_str(&sb, s->reasons[c].reason);
		sb_addf(&sb, ": %lld", (long long)s->reasons[c].n);
	}
	sb_adds(&sb, "}, \"images\": {");
	for (i = 0; i < ARRAY_SIZE(image_statuses); i++)
		sb_addf(&sb, "%s\"%s\": %lld", i ? ", " : "", image_statuses[i],
			(long long)image_count(s, image_statuses[i]));
	sb_addf(&sb, "}, \"posts_without_image\": %lld, \"label_names\": {", (long long)s->posts_no_image);
	for (k = 0; k < ARRAY_SIZE(schemes); k++) {
		sb_addf(&sb, "%s\"%s\": {", k ? ", " : "", schemes[k].key);
		for (c = 0; c < schemes[k].classes; c++) {
			sb_addf(&sb, "%s\"%d\": ", c ? ", " : "", c);
			sb_add_json_str(&sb, s->names[k][c]);
		}
		sb_adds(&sb, "}");
	}
	sb_adds(&sb, "}}\n");
	fputs(sb.buf, f);
	sb_release(&sb);
}

/* CSV: one table, a row per number: section, split, scheme, label, name, count. */
static void print_csv(const struct stats *s, FILE *f)
{
	struct table *t = table_new(6);
	size_t sp, k;
	int c, i;
	static const char *const hdr[] = { "section", "split", "scheme", "label", "name", "count" };
	for (c = 0; c < 6; c++)
		table_set_header(t, c, hdr[c]);
	for (sp = 0; sp < ARRAY_SIZE(splits); sp++) {
		table_add_row(t);
		table_cell_text(t, 0, "posts");
		table_cell_text(t, 1, splits[sp]);
		table_cell_int(t, 5, s->posts[sp]);
		for (k = 0; k < ARRAY_SIZE(schemes); k++)
			for (c = 0; c <= schemes[k].classes; c++) {
				int idx = c == schemes[k].classes ? 6 : c;
				table_add_row(t);
				table_cell_text(t, 0, "labels");
				table_cell_text(t, 1, splits[sp]);
				table_cell_text(t, 2, schemes[k].key);
				if (idx != 6) {
					table_cell_int(t, 3, c);
					table_cell_text(t, 4, s->names[k][c]);
				}
				table_cell_int(t, 5, s->labels[sp][k][idx]);
			}
	}
	for (i = 0; i < (int)ARRAY_SIZE(image_statuses); i++) {
		table_add_row(t);
		table_cell_text(t, 0, "images");
		table_cell_text(t, 4, image_statuses[i]);
		table_cell_int(t, 5, image_count(s, image_statuses[i]));
	}
	table_add_row(t);
	table_cell_text(t, 0, "images");
	table_cell_text(t, 4, "no image row");
	table_cell_int(t, 5, s->posts_no_image);
	for (i = 0; i < s->nreasons; i++) {
		table_add_row(t);
		table_cell_text(t, 0, "ingest_errors");
		table_cell_text(t, 4, s->reasons[i].reason);
		table_cell_int(t, 5, s->reasons[i].n);
	}
	table_print(t, f, FMT_CSV);
	table_free(t);
}

static void print_tables(const struct stats *s, FILE *f)
{
	struct table *t;
	size_t k, sp;
	int c, i;

	/* Posts: a row per scheme and class, a column per split. */
	t = table_new(6);
	table_set_header(t, 0, "scheme");
	table_set_header(t, 1, "label");
	table_set_header(t, 2, "name");
	for (sp = 0; sp < ARRAY_SIZE(splits); sp++)
		table_set_header(t, 3 + (int)sp, splits[sp]);
	table_add_row(t);
	table_cell_text(t, 2, "posts");
	for (sp = 0; sp < ARRAY_SIZE(splits); sp++)
		table_cell_int(t, 3 + (int)sp, s->posts[sp]);
	for (k = 0; k < ARRAY_SIZE(schemes); k++) {
		for (c = 0; c <= schemes[k].classes; c++) {
			int idx = c == schemes[k].classes ? 6 : c, any = 0;
			for (sp = 0; sp < ARRAY_SIZE(splits); sp++)
				any |= s->labels[sp][k][idx] != 0;
			if (idx == 6 && !any)
				continue; /* no NULL labels: no row */
			table_add_row(t);
			table_cell_text(t, 0, schemes[k].key);
			if (idx != 6) {
				table_cell_int(t, 1, c);
				table_cell_text(t, 2, s->names[k][c]);
			} else {
				table_cell_text(t, 2, "(no label)");
			}
			for (sp = 0; sp < ARRAY_SIZE(splits); sp++)
				table_cell_int(t, 3 + (int)sp, s->labels[sp][k][idx]);
		}
	}
	table_print(t, f, FMT_TABLE);
	table_free(t);

	fprintf(f, "\nimages (%lld posts without an image URL)\n", (long long)s->posts_no_image);
	t = table_new(2);
	table_set_header(t, 0, "status");
	table_set_header(t, 1, "posts");
	for (i = 0; i < s->nimages; i++) {
		table_add_row(t);
		table_cell_text(t, 0, s->images[i].status);
		table_cell_int(t, 1, s->images[i].n);
	}
	table_print(t, f, FMT_TABLE);
	table_free(t);

	fprintf(f, "\ningest errors: %lld\n", (long long)s->errors);
	if (s->nreasons) {
		t = table_new(2);
		table_set_header(t, 0, "reason");
		table_set_header(t, 1, "records");
		for (i = 0; i < s->nreasons; i++) {
			table_add_row(t);
			table_cell_text(t, 0, s->reasons[i].reason);
			table_cell_int(t, 1, s->reasons[i].n);
		}
		table_print(t, f, FMT_TABLE);
		table_free(t);
	}
}

static void stats_usage(FILE *f)
{
	fprintf(f, "usage: mmdb stats [--format table|csv|json] [--dataset NAME]\n\n"
		   "Posts per split and label (2-, 3- and 6-way, with class names), image\n"
		   "coverage by status and ingest errors by reason. --format json prints one\n"
		   "object with stable keys (see the README).\n");
}

int cmd_stats(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "dataset", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct stats s;
	const char *dataset = NULL;
	int c, fmt = FMT_TABLE;

	while ((c = getopt_long(argc, argv, "f:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("stats: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'd': dataset = optarg; break;
		case 'h': stats_usage(stdout); return 0;
		default: stats_usage(stderr); return 2;
		}
	}
	if (optind < argc)
		return usage_error("stats: unexpected argument '%s'", argv[optind]);
	if (load(ctx->db, dataset, &s))
		return 1;
	if (fmt == FMT_JSON)
		print_json(&s, stdout);
	else if (fmt == FMT_CSV)
		print_csv(&s, stdout);
	else
		print_tables(&s, stdout);
	return 0;
}
