/*
 * mmdb ingest: Fakeddit TSV files (plain, compressed or in archives) into
 * posts, images (one 'pending' row per post with an image URL) and comments.
 *
 * Each file entry is read on a second thread (decompression, SHA-256,
 * parsing, typed conversion) and handed over in batches to the main thread,
 * which writes them with prepared statements (posts GROUP_ROWS to an INSERT)
 * inside BEGIN IMMEDIATE transactions of COMMIT_EVERY records (--batch), so a
 * killed ingest keeps what it committed and a re-run completes it. Rows
 * whose id is already stored with the same content count as unchanged; with
 * different content they are bad records ("duplicate id with different
 * content"), or, with --update, replace the stored row when it came from an
 * earlier ingest. Bad records
 * go to ingest_errors with file, line, column, reason and detail; --strict
 * runs everything in one transaction and rolls it back at the first one.
 *
 * This file holds the command, the walk over files and archive entries, and
 * each entry's header and hand-over; the reading thread is in
 * ingest_read.c, the database side in ingest_write.c (ingest_int.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "cmds.h"
#include "ingest_int.h"
#include "../archive.h"
#include "../ckpt.h"
#include "../db.h"
#include "../fakeddit.h"
#include "../progress.h"
#include "../tsv.h"
#include "../util.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static ssize_t tsv_from_archive(void *data, void *buf, size_t n)
{
	return ar_read(data, buf, n);
}

/* "multimodal_test_public.tsv" -> "test"; NULL if the name says no split or two. */
static const char *split_from_name(const char *path)
{
	const char *base = strrchr(path, '/'), *found = NULL;
	char *copy, *tok, *save = NULL;
	copy = xstrdup(base ? base + 1 : path);
	for (tok = strtok_r(copy, "_.- ", &save); tok; tok = strtok_r(NULL, "_.- ", &save)) {
		const char *s = NULL;
		if (!strcasecmp(tok, "train"))
			s = "train";
		else if (!strcasecmp(tok, "validate") || !strcasecmp(tok, "validation") ||
			 !strcasecmp(tok, "valid") || !strcasecmp(tok, "val") || !strcasecmp(tok, "dev"))
			s = "validate";
		else if (!strcasecmp(tok, "test"))
			s = "test";
		if (s && found && strcmp(s, found)) {
			found = NULL;
			break;
		}
		if (s)
			found = s;
	}
	free(copy);
	return found;
}

static int names_comments(const char *path)
{
	const char *base = strrchr(path, '/');
	return strstr(base ? base + 1 : path, "comment") != NULL;
}

static int is_archive_name(const char *path)
{
	static const char *const ext[] = { ".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2",
					   ".tar.xz", ".tar.zst", ".tbz2", ".txz", ".7z" };
	size_t i, n = strlen(path);
	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		size_t e = strlen(ext[i]);
		if (n > e && !strcasecmp(path + n - e, ext[i]))
			return 1;
	}
	return 0;
}

/* Exit-status-like results of one entry. */
enum { ENTRY_OK = 0, ENTRY_FAILED = 1, ENTRY_USAGE = 2 };

/*
 * Reads one entry's header here, then its records on the reading thread
 * while this one writes them. *ids collects this file's ingest ids.
 */
static int ingest_entry(struct ingest *in, struct ar_reader *ar, const char *display, int64_t size,
			int64_t **ids, size_t *nids, size_t *idalloc)
{
	struct reader rd = { ar, NULL, { 0 }, NULL };
	struct queue q;
	struct tsv_record hdr;
	struct progress *prog = NULL;
	pthread_t th;
	int started = 0, ret = ENTRY_OK, rc, done = 0;
	double t0 = now_seconds();
	char msg[256];
	long records = 0;

	ingest_queue_init(&q);
	in->file = display;
	in->ok = in->bad = in->unchanged = in->updated = 0;
	in->ingest_id = 0;
	in->ngroup = 0;

	rd.tsv = tsv_new(tsv_from_archive, ar, 0);
	rc = tsv_next(rd.tsv, &hdr);
	if (rc < 0) {
		ret = ENTRY_FAILED;
		goto out;
	}
	if (rc == 0) {
		error("'%s': empty file, not a TSV", display);
		ret = ENTRY_FAILED;
		goto out;
	}
	if (hdr.status == TSV_NUL || !utf8_valid(hdr.raw, hdr.raw_len)) {
		error("'%s': binary data, not a TSV file", display);
		ret = ENTRY_FAILED;
		goto out;
	}
	if (hdr.status != TSV_OK || hdr.nfields < 2) {
		error("'%s' line 1: not a TSV header (%s)", display,
		      hdr.status != TSV_OK ? tsv_status_str(hdr.status) : "no tab-separated columns");
		ret = ENTRY_FAILED;
		goto out;
	}
	if (fd_layout_from_header(&rd.layout, hdr.fields, hdr.lens, hdr.nfields, msg, sizeof(msg))) {
		error("'%s' line 1: %s", display, msg);
		ret = ENTRY_FAILED;
		goto out;
	}
	in->kind = rd.layout.kind;
	in->split = in->split_opt ? in->split_opt : split_from_name(display);
	if (in->kind == FD_POSTS && !in->split) {
		error("'%s': cannot tell the split from the file name; use --split train|validate|test",
		      display);
		ret = ENTRY_USAGE;
		goto out;
	}
	tsv_expect_fields(rd.tsv, rd.layout.nfields);

	rd.q = &q;
	if (pthread_create(&th, NULL, ingest_reader_main, &rd)) {
		error("cannot start a reading thread");
		ret = ENTRY_FAILED;
		goto out;
	}
	started = 1;
	prog = progress_start(display, 0, "records", in->ctx->quiet);
	while (!done) {
		struct batch *b = ingest_queue_pop(&q);
		size_t i;
		done = b->last;
		if (b->failed) {
			ingest_batch_put_spare(&q, b);
			ret = ENTRY_FAILED;
			break;
		}
		if (b->n && !in->ingest_id) {
			if (ingest_txn_begin(in) || ingest_create_row(in, size) ||
			    (!in->strict && (ingest_txn_commit(in) || ingest_txn_begin(in)))) {
				ingest_batch_put_spare(&q, b);
				ret = ENTRY_FAILED;
				break;
			}
			ALLOC_GROW(*ids, *nids + 1, *idalloc);
			(*ids)[(*nids)++] = in->ingest_id;
		}
		for (i = 0; i < b->n; i++) {
			if (ingest_write_item(in, b, &b->items[i]) || ingest_maybe_commit(in)) {
				ret = ENTRY_FAILED;
				break;
			}
		}
		/* The group points into the batch, which goes back to the reader. */
		if (!ret && ingest_flush_group(in))
			ret = ENTRY_FAILED;
		in->ngroup = 0;
		records += (long)b->n;
		ingest_batch_put_spare(&q, b);
		if (ret)
			break;
		progress_update(prog, (uint64_t)records);
		if (size > 0) {
			snprintf(msg, sizeof(msg), "%.0f%% of %.1f MB", 100.0 * (double)b->bytes / (double)size,
				 (double)size / 1e6);
			progress_note(prog, msg);
		}
	}
	progress_done(prog);
	prog = NULL;
	if (ret)
		goto out;
	if (records == 0) {
		error("'%s': a header but no records", display);
		ret = ENTRY_FAILED;
		goto out;
	}
	if (ingest_save_counts(in))
		ret = ENTRY_FAILED;
	else if (!in->strict && ingest_txn_commit(in))
		ret = ENTRY_FAILED;
	if (!ret && !in->ctx->quiet) {
		double secs = now_seconds() - t0;
		printf("%s: %ld ok, %ld bad, %ld unchanged, %ld updated (%s%s, %.1f s, %.0f records/s)\n",
		       display, in->ok, in->bad, in->unchanged, in->updated,
		       in->kind == FD_POSTS ? in->split : "comments", in->kind == FD_POSTS ? " split" : "",
		       secs, secs > 0 ? (double)records / secs : 0.0);
		if (in->bad && !in->strict)
			printf("  %ld bad records: mmdb sql \"SELECT line, column, reason, detail FROM "
			       "ingest_errors WHERE ingest_id = %lld\"\n", in->bad, (long long)in->ingest_id);
	}
	if (!ret) {
		/* Seconds now; size, sha256 and status once the whole file is read. */
		struct db_stmt *st = NULL;
		if (!in->strict && ingest_txn_begin(in))
			ret = ENTRY_FAILED;
		else if (db_prepare(in->db, &st, "UPDATE ingests SET seconds = ?2 WHERE id = ?1"))
			ret = ENTRY_FAILED;
		else {
			db_bind_int(st, 1, in->ingest_id);
			db_bind_double(st, 2, now_seconds() - t0);
			if (db_step(st) < 0)
				ret = ENTRY_FAILED;
			db_finalize(st);
		}
		if (!in->strict && ingest_txn_commit(in))
			ret = ENTRY_FAILED;
	}
out:
	if (ret == ENTRY_FAILED)
		ingest_mark_failed(in, in->ingest_id);
	if (started) {
		/* Stop the reader (it may wait for room), drain, join. */
		ingest_queue_cancel(&q);
		pthread_join(th, NULL);
	}
	ingest_queue_release(&q);
	progress_done(prog);
	tsv_free(rd.tsv);
	return ret;
}

/* Entries of an archive worth reading: regular *.tsv files, no macOS litter. */
static int wanted_entry(const struct ar_entry *e)
{
	const char *base = strrchr(e->name, '/');
	size_t n = strlen(e->name);
	base = base ? base + 1 : e->name;
	if (e->type != AR_FILE || !strncmp(base, "._", 2) || strstr(e->name, "__MACOSX/"))
		return 0;
	return n > 4 && !strcasecmp(e->name + n - 4, ".tsv");
}

static int ingest_file(struct ingest *in, const char *path)
{
	struct ar_reader *ar = NULL;
	struct ar_entry e;
	int64_t *ids = NULL, size = -1;
	size_t nids = 0, idalloc = 0, i;
	int rc, ret = ENTRY_OK, entries = 0;
	char hex[65];

	if (ar_open_flags(&ar, path, AR_HASH))
		return ENTRY_FAILED;
	while ((rc = ar_next(ar, &e)) == 1) {
		struct strbuf display = STRBUF_INIT;
		int r;
		if (ar_is_archive(ar)) {
			if (!wanted_entry(&e)) {
				if (in->ctx->verbose && e.type == AR_FILE)
					fprintf(stderr, "mmdb: '%s': skipping '%s' (not a .tsv file)\n", path, e.name);
				continue;
			}
			sb_addf(&display, "%s:%s", path, e.name);
		} else {
			sb_adds(&display, path);
		}
		entries++;
		r = ingest_entry(in, ar, display.buf, ar_is_archive(ar) ? -1 : ar_file_size(ar),
				 &ids, &nids, &idalloc);
		sb_release(&display);
		if (r) {
			ret = r;
			if (in->strict)
				goto out;
			/* A broken entry may leave the stream unusable: stop at a read error. */
			if (!ar_is_archive(ar))
				goto out;
		}
	}
	if (rc < 0) {
		ret = ENTRY_FAILED;
		goto out;
	}
	if (!entries) {
		error(ar_is_archive(ar) ? "'%s': no .tsv file in the archive" : "'%s': empty file, not a TSV",
		      path);
		ret = ENTRY_FAILED;
		goto out;
	}
	if (!nids)
		goto out;
	if (ar_sha256(ar, hex, &size)) {
		ret = ENTRY_FAILED;
		goto out;
	}
	{
		struct db_stmt *st = NULL;
		if ((!in->strict && ingest_txn_begin(in)) ||
		    db_prepare(in->db, &st, "UPDATE ingests SET sha256 = ?2, size = ?3, "
					   "status = CASE WHEN status = 'running' THEN 'completed' ELSE status END, "
					   "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?1")) {
			ret = ENTRY_FAILED;
			goto out;
		}
		for (i = 0; i < nids; i++) {
			db_bind_int(st, 1, ids[i]);
			db_bind_text(st, 2, hex, -1);
			db_bind_int(st, 3, size);
			if (db_step(st) < 0)
				ret = ENTRY_FAILED;
			db_reset(st);
		}
		db_finalize(st);
		if (!in->strict && ingest_txn_commit(in))
			ret = ENTRY_FAILED;
	}
out:
	if (ret && !in->strict && in->in_txn) {
		db_rollback(in->db);
		in->in_txn = 0;
	}
	for (i = 0; ret == ENTRY_FAILED && i < nids; i++)
		ingest_mark_failed(in, ids[i]);
	free(ids);
	ar_close(ar);
	return ret;
}

static void ingest_usage(FILE *f)
{
	fprintf(f, "usage: mmdb ingest [--split train|validate|test] [--dataset NAME] [--strict]\n"
		   "                   [--update] FILE...\n\n"
		   "Reads Fakeddit TSV files into the database: posts (multimodal_*.tsv, all_*.tsv,\n"
		   "reduced variants; columns found by header name) and comments (all_comments.tsv).\n"
		   "Files may be plain, compressed (.gz .bz2 .xz .zst) or archives (.zip, .tar.*)\n"
		   "holding .tsv files. Each post with an image URL gets a 'pending' images row.\n\n"
		   "  --split S      the split of every file (default: from the file name:\n"
		   "                 multimodal_train, all_validate, *_test_public, ...)\n"
		   "  --dataset NAME dataset the posts belong to (default: fakeddit)\n"
		   "  --strict       any bad record fails the whole ingest; nothing is written\n"
		   "  --update       a stored post whose content changed (same id, from an earlier\n"
		   "                 ingest) is updated; without it, that is a bad record\n"
		   "  --batch N      records per transaction (default %d)\n\n"
		   "Bad records are skipped and kept in ingest_errors (file, line, column, reason,\n"
		   "detail). Running the same ingest again changes nothing; a killed ingest run\n"
		   "again completes. Every ingest is recorded in the ingests table.\n", COMMIT_EVERY);
}

int cmd_ingest(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "split", required_argument, NULL, 's' },
		{ "dataset", required_argument, NULL, 'd' },
		{ "strict", no_argument, NULL, 'S' },
		{ "update", no_argument, NULL, 'u' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ingest in;
	const char *dataset = "fakeddit";
	int c, i, ret = 0;
	struct db_stmt *st = NULL;

	memset(&in, 0, sizeof(in));
	in.ctx = ctx;
	in.db = ctx->db;
	in.commit_every = COMMIT_EVERY;
	while ((c = getopt_long(argc, argv, "s:d:Suh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (strcmp(optarg, "train") && strcmp(optarg, "validate") && strcmp(optarg, "test"))
				return usage_error("ingest: unknown split '%s' (train, validate, test)", optarg);
			in.split_opt = optarg;
			break;
		case 'd':
			if (!*optarg)
				return usage_error("ingest: --dataset needs a name");
			dataset = optarg;
			break;
		case 'S': in.strict = 1; break;
		case 'u': in.update = 1; break;
		case 'b': {
			int n;
			if (parse_int(optarg, 1, 100000000, "--batch", &n))
				return 2;
			in.commit_every = n;
			break;
		}
		case 'h': ingest_usage(stdout); return 0;
		default: ingest_usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		ingest_usage(stderr);
		return 2;
	}
	/* Every file must say its split (or be comments, or an archive) before anything is read. */
	for (i = optind; i < argc && !in.split_opt; i++)
		if (!split_from_name(argv[i]) && !names_comments(argv[i]) && !is_archive_name(argv[i]))
			return usage_error("ingest: cannot tell the split of '%s' from its name; "
					   "use --split train|validate|test", argv[i]);

	/*
	 * Bulk-load settings for this connection only: a bigger page cache, and
	 * statements compiled without CHECK constraints. SQLite evaluates a
	 * CHECK of the form `x IN (3 or more values)` (posts.split,
	 * images.status) by building a temporary index on every execution,
	 * which made each single-row insert cost several times the insert
	 * itself. What those CHECKs guard holds by construction here: split is
	 * one of three constants, labels are range-checked by fd_convert(),
	 * images.status takes its default, ingests' columns get constants.
	 * (Setting the pragma expires prepared statements, so it is set once,
	 * before any is prepared.) Foreign keys are not checked row by row
	 * either: every reference written here is to the dataset and ingests
	 * rows this command made, or to the post it just inserted.
	 */
	if (db_exec(in.db, "PRAGMA cache_size = -24576; PRAGMA ignore_check_constraints = ON; "
			   "PRAGMA foreign_keys = OFF") ||
	    ingest_mark_stale(in.db) ||
	    ingest_prepare_all(&in)) {
		ret = 1;
		goto out;
	}
	if (!in.strict)
		in.ckpt = ckpt_start(in.db, ctx->db_path);
	if (db_prepare(in.db, &st, "INSERT INTO datasets(name) VALUES (?1) ON CONFLICT(name) DO NOTHING") ||
	    db_bind_text(st, 1, dataset, -1) || db_step(st) < 0) {
		ret = 1;
		goto out;
	}
	db_finalize(st);
	st = NULL;
	if (db_prepare(in.db, &st, "SELECT id FROM datasets WHERE name = ?1") ||
	    db_bind_text(st, 1, dataset, -1) || db_step(st) != DB_ROW) {
		ret = 1;
		goto out;
	}
	in.dataset_id = db_column_int(st, 0);
	db_finalize(st);
	st = NULL;

	if (in.strict && ingest_txn_begin(&in)) {
		ret = 1;
		goto out;
	}
	for (i = optind; i < argc; i++) {
		int r = ingest_file(&in, argv[i]);
		if (r && (ret == 0 || r == ENTRY_USAGE))
			ret = r;
		if (r && in.strict)
			break;
	}
	if (in.strict) {
		if (ret) {
			db_rollback(in.db);
			in.in_txn = 0;
			if (!in.strict_failed)
				error("--strict: nothing was ingested");
		} else if (ingest_txn_commit(&in)) {
			ret = 1;
		}
	}
out:
	if (in.in_txn)
		db_rollback(in.db);
	ckpt_stop(in.ckpt);
	db_finalize(st);
	ingest_finalize_all(&in);
	return ret;
}
