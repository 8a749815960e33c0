/*
 * db: SQLite access and schema migrations. See db.h.
 *
 * Migrations live in migrations/NNNN_<what>.sql; the build compiles them
 * into migrations.c as an array. PRAGMA user_version records the number of
 * the last one applied.
 */
#define _POSIX_C_SOURCE 200809L
#include "db.h"
#include "migrations.h"
#include "util.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct db {
	sqlite3 *h;
	char *path;
	int readonly;
	int busy_ms;          /* how long to wait for another connection's lock */
	double busy_since;    /* when the current wait began (now_seconds) */
};

struct db_stmt {
	sqlite3_stmt *s;
	struct db *db;
};

static int busy_timeout_ms = 10000;

void db_set_busy_timeout(int ms)
{
	busy_timeout_ms = ms;
}

/*
 * The busy handler: while another connection holds the lock, sleep and try
 * again until busy_ms have passed. SQLite's own handler (sqlite3_busy_timeout)
 * sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between tries and
 * has no notion of who came first: with several sweep workers claiming
 * trials (transactions of a fraction of a millisecond), an unlucky waiter
 * sleeps in ever longer steps while newcomers take the lock, and its claim
 * takes hundreds of milliseconds. Sleeps that start at 0.1 ms and double up
 * to 2 ms cut the tail (tests/bench/bench_sweep_claim.sh, 8 workers on 2
 * loaded cores: the slowest claim 80-520 ms against 440-1260 ms; median
 * and p95 within the noise of each other, both well under 10 ms); a long
 * wait (a training run's epoch transaction) costs a wake-up every 2 ms.
 */
static int busy_wait(void *arg, int count)
{
	struct db *db = arg;
	double now = now_seconds();
	struct timespec ts;
	long us;

	if (count == 0)
		db->busy_since = now;
	if ((now - db->busy_since) * 1000.0 >= db->busy_ms)
		return 0;
	us = 100L << (count < 5 ? count : 5); /* 0.1, 0.2, 0.4, 0.8, 1.6 ms, then 2 ms */
	if (us > 2000)
		us = 2000;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

/* 1 when the last error is another connection's lock outlasting the busy timeout. */
static int is_busy(struct db *db)
{
	int rc = sqlite3_extended_errcode(db->h) & 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

int db_is_busy(struct db *db)
{
	return is_busy(db);
}

static int busy_error(struct db *db)
{
	return error("database '%s' is locked by another process (gave up after waiting %.3g s "
		     "for its lock); nothing was written by this step: try again when it is done",
		     db->path, busy_timeout_ms / 1000.0);
}

const char *db_sqlite_version(void)
{
	return sqlite3_libversion();
}

int db_schema_version(void)
{
	return mmdb_migration_count ? mmdb_migrations[mmdb_migration_count - 1].version : 0;
}

static int db_err(struct db *db, const char *what)
{
	if (is_busy(db))
		return busy_error(db);
	return error("%s: %s (database '%s')", what, sqlite3_errmsg(db->h), db->path);
}

int db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int ret = is_busy(db) ? busy_error(db) : error("%s (database '%s')", msg ? msg : sqlite3_errmsg(db->h), db->path);
		sqlite3_free(msg);
		return ret;
	}
	return 0;
}

int db_begin(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
	return db_exec(db, "COMMIT");
}

int db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return 0;
	return db_exec(db, "ROLLBACK");
}

int db_user_version(struct db *db)
{
	int64_t v = 0;
	if (db_query_int(db, "PRAGMA user_version", 0, &v))
		return -1;
	return (int)v;
}

/*
 * A migration that edits a table's SQL in sqlite_schema (writable_schema:
 * the only way to widen a CHECK constraint without rebuilding the table)
 * leaves every connection's parsed schema stale, this one's included.
 * Incrementing schema_version, as SQLite's ALTER TABLE page prescribes,
 * makes each of them parse it again.
 */
static int bump_schema_version(struct db *db)
{
	int64_t v;
	char sql[64];
	if (db_query_int(db, "PRAGMA schema_version", 0, &v))
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA schema_version = %lld", (long long)v + 1);
	return db_exec(db, sql);
}

int db_migrate(struct db *db, int target)
{
	int cur, i, newest = db_schema_version();
	char sql[64];
	if (target <= 0 || target > newest)
		target = newest;
	cur = db_user_version(db);
	if (cur < 0)
		return -1;
	if (cur > newest)
		return error("database '%s' has schema version %d, newer than this mmdb "
			     "(%s) knows (%d); use a newer mmdb", db->path, cur, MMDB_VERSION, newest);
	/* Migrations are numbered by file (gaps allowed); user_version is the
	 * number of the last one applied. */
	for (i = 0; i < (int)mmdb_migration_count; i++) {
		int v = mmdb_migrations[i].version;
		if (v <= cur || v > target)
			continue;
		if (db_begin(db))
			return -1;
		/* Re-check under the write lock: another process may have migrated. */
		if (db_user_version(db) >= v) {
			db_rollback(db);
			continue;
		}
		if (db_exec(db, mmdb_migrations[i].sql) ||
		    (strstr(mmdb_migrations[i].sql, "writable_schema") && bump_schema_version(db))) {
			db_rollback(db);
			return error("migration %s failed", mmdb_migrations[i].name);
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
		if (db_exec(db, sql) || db_commit(db)) {
			db_rollback(db);
			return -1;
		}
	}
	return 0;
}

/*
 * Process-wide SQLite settings, before its first use: no memory statistics
 * (they take a global mutex on every allocation, a few percent of a bulk
 * insert; mmdb never reads them).
 */
static void sqlite_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*
 * Pages of a new database: 64 KiB instead of SQLite's 4 KiB. Fewer, larger
 * pages make the B-trees shallower and the page cache smaller in pages: an
 * ingest of 600k posts (random ids into two unique indexes) takes about a
 * tenth less CPU than with 16 KiB pages and a fifth less than with 4 KiB,
 * with fewer system calls. An empty database is 2 MB (a page per table and
 * index). Set before the first table and before WAL, which fix it.
 */
#define DB_PAGE_SIZE 65536

int db_open(struct db **out, const char *path, int flags)
{
	static pthread_once_t config_once = PTHREAD_ONCE_INIT;
	struct db *db;
	int oflags, rc, ntables = -1;
	*out = NULL;
	pthread_once(&config_once, sqlite_config);
	if ((flags & (DB_NO_CREATE | DB_READONLY)) && access(path, F_OK))
		return error("cannot open database '%s': no such file (run 'mmdb init' first)", path);
	db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(path);
	db->readonly = !!(flags & DB_READONLY);
	oflags = db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db->h, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		error("cannot open database '%s': %s", path,
		      db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto fail;
	}
	db->busy_ms = busy_timeout_ms;
	/* MMDB_BUSY_SQLITE=1: SQLite's own handler, for tests/bench/bench_sweep_claim.sh. */
	if (getenv("MMDB_BUSY_SQLITE") && !strcmp(getenv("MMDB_BUSY_SQLITE"), "1"))
		sqlite3_busy_timeout(db->h, busy_timeout_ms);
	else
		sqlite3_busy_handler(db->h, busy_wait, db);
	sqlite3_extended_result_codes(db->h, 1);
	/* A file that is not SQLite fails here with a clear message. */
	if (db_exec(db, "PRAGMA foreign_keys = ON"))
		goto fail;
	{
		struct db_stmt *st;
		if (db_prepare(db, &st, "SELECT count(*) FROM sqlite_master")) {
			goto fail;
		}
		rc = db_step(st);
		if (rc == DB_ROW)
			ntables = (int)db_column_int(st, 0);
		db_finalize(st);
		if (rc < 0)
			goto fail;
	}
	if (!db->readonly) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA page_size = %d", DB_PAGE_SIZE);
		if (ntables == 0 && db_exec(db, sql))
			goto fail;
		if (db_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL"))
			goto fail;
		if (!(flags & DB_NO_MIGRATE) && db_migrate(db, 0))
			goto fail;
	} else {
		int v = db_user_version(db);
		if (v < 0)
			goto fail;
		if (v > db_schema_version()) {
			error("database '%s' has schema version %d, newer than this mmdb knows (%d)",
			      path, v, db_schema_version());
			goto fail;
		}
		if (v < db_schema_version()) {
			error("database '%s' has schema version %d; run 'mmdb init' to migrate it to %d",
			      path, v, db_schema_version());
			goto fail;
		}
	}
	*out = db;
	return 0;
fail:
	db_close(db);
	return -1;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close_v2(db->h);
	free(db->path);
	free(db);
}

const char *db_path(const struct db *db)
{
	return db->path;
}

int db_prepare(struct db *db, struct db_stmt **out, const char *sql)
{
	struct db_stmt *st = xcalloc(1, sizeof(*st));
	st->db = db;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st->s, NULL) != SQLITE_OK) {
		free(st);
		*out = NULL;
		return db_err(db, "cannot prepare statement");
	}
	*out = st;
	return 0;
}

void db_finalize(struct db_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->s);
	free(st);
}

int db_step_quiet(struct db_stmt *st)
{
	int rc = sqlite3_step(st->s);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return -1;
}

int db_step(struct db_stmt *st)
{
	int rc = db_step_quiet(st);
	if (rc < 0 && is_busy(st->db)) {
		busy_error(st->db);
	} else if (rc < 0) {
		const char *sql = sqlite3_sql(st->s);
		error("%s (database '%s'; statement: %.60s%s)", sqlite3_errmsg(st->db->h),
		      st->db->path, sql ? sql : "?", sql && strlen(sql) > 60 ? "..." : "");
	}
	return rc;
}

int db_reset(struct db_stmt *st)
{
	sqlite3_reset(st->s);
	sqlite3_clear_bindings(st->s);
	return 0;
}

static int bind_rc(struct db_stmt *st, int rc)
{
	if (rc != SQLITE_OK)
		return db_err(st->db, "cannot bind parameter");
	return 0;
}

int db_bind_int(struct db_stmt *st, int idx, int64_t v)
{
	return bind_rc(st, sqlite3_bind_int64(st->s, idx, v));
}

int db_bind_double(struct db_stmt *st, int idx, double v)
{
	return bind_rc(st, sqlite3_bind_double(st->s, idx, v));
}

int db_bind_text(struct db_stmt *st, int idx, const char *s, int len)
{
	if (!s)
		return db_bind_null(st, idx);
	return bind_rc(st, sqlite3_bind_text(st->s, idx, s, len, SQLITE_TRANSIENT));
}

int db_bind_text_static(struct db_stmt *st, int idx, const char *s, int len)
{
	if (!s)
		return db_bind_null(st, idx);
	return bind_rc(st, sqlite3_bind_text(st->s, idx, s, len, SQLITE_STATIC));
}

int db_bind_blob(struct db_stmt *st, int idx, const void *p, int len)
{
	return bind_rc(st, sqlite3_bind_blob(st->s, idx, p, len, SQLITE_TRANSIENT));
}

int db_bind_null(struct db_stmt *st, int idx)
{
	return bind_rc(st, sqlite3_bind_null(st->s, idx));
}

int db_bind_index(struct db_stmt *st, const char *name)
{
	return sqlite3_bind_parameter_index(st->s, name);
}

int db_column_count(struct db_stmt *st)
{
	return sqlite3_column_count(st->s);
}

const char *db_column_name(struct db_stmt *st, int idx)
{
	return sqlite3_column_name(st->s, idx);
}

int db_column_type(struct db_stmt *st, int idx)
{
	return sqlite3_column_type(st->s, idx);
}

int64_t db_column_int(struct db_stmt *st, int idx)
{
	return sqlite3_column_int64(st->s, idx);
}

double db_column_double(struct db_stmt *st, int idx)
{
	return sqlite3_column_double(st->s, idx);
}

const char *db_column_text(struct db_stmt *st, int idx)
{
	return (const char *)sqlite3_column_text(st->s, idx);
}

const void *db_column_blob(struct db_stmt *st, int idx)
{
	return sqlite3_column_blob(st->s, idx);
}

int db_column_bytes(struct db_stmt *st, int idx)
{
	return sqlite3_column_bytes(st->s, idx);
}

int db_stmt_readonly(struct db_stmt *st)
{
	return sqlite3_stmt_readonly(st->s);
}

int64_t db_last_insert_rowid(struct db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}

int db_changes(struct db *db)
{
	return sqlite3_changes(db->h);
}

const char *db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->h);
}

int db_query_int(struct db *db, const char *sql, int64_t dflt, int64_t *out)
{
	struct db_stmt *st;
	int rc;
	if (db_prepare(db, &st, sql))
		return -1;
	rc = db_step(st);
	if (rc == DB_ROW && sqlite3_column_type(st->s, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(st->s, 0);
	else
		*out = dflt;
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

int db_run_script(struct db *db, const char *sql, int readonly, db_row_fn cb, void *data)
{
	const char *tail = sql;
	int ret = 0;
	while (tail && *tail) {
		struct db_stmt st = { NULL, db };
		long row = 0;
		int rc;
		if (sqlite3_prepare_v2(db->h, tail, -1, &st.s, &tail) != SQLITE_OK)
			return error("%s", sqlite3_errmsg(db->h));
		if (!st.s) /* whitespace or comment */
			continue;
		if (cb && sqlite3_column_count(st.s) > 0 && cb(&st, row++, data)) {
			sqlite3_finalize(st.s);
			return -1;
		}
		while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
			if (cb && cb(&st, row++, data)) {
				sqlite3_finalize(st.s);
				return -1;
			}
		}
		if (rc != SQLITE_DONE) {
			/* The connection is opened read-only; say how to write. */
			if (readonly && (rc & 0xff) == SQLITE_READONLY)
				ret = error("statement would write to the database; use 'mmdb sql --write' to allow it");
			else if (is_busy(db))
				ret = busy_error(db);
			else
				ret = error("%s", sqlite3_errmsg(db->h));
			sqlite3_finalize(st.s);
			return ret;
		}
		sqlite3_finalize(st.s);
	}
	return ret;
}
