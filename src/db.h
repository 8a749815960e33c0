/*
 * db: the one module that talks to SQLite. It opens (and creates or
 * migrates) the database with WAL, busy_timeout and foreign keys, and offers
 * a thin statement API so no other module includes sqlite3.h.
 *
 * Errors: every function returning int returns 0 (or a DB_ROW/DB_DONE code)
 * on success and -1 after printing a message through error().
 */
#ifndef MMDB_DB_H
#define MMDB_DB_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_stmt;

enum db_open_flags {
	DB_READONLY = 1 << 0, /* open read-only (mmdb sql without --write) */
	DB_NO_CREATE = 1 << 1, /* a missing file is an error, not a new database */
	DB_NO_MIGRATE = 1 << 2, /* do not migrate (tests of the migration path) */
};

/* Step results. */
#define DB_DONE 0
#define DB_ROW 1

/* Column types, as SQLite's. */
enum db_type { DB_INTEGER = 1, DB_FLOAT = 2, DB_TEXT = 3, DB_BLOB = 4, DB_NULL = 5 };

/*
 * Opens the database at path, creating it unless DB_NO_CREATE, and applies
 * every pending migration (each in one transaction) unless DB_NO_MIGRATE or
 * DB_READONLY. A database whose user_version is newer than this binary's is
 * refused. On success *out owns the handle; release with db_close().
 */
int db_open(struct db **out, const char *path, int flags);
void db_close(struct db *db);

/*
 * How long a connection opened after this call waits for another process's
 * lock before giving up with "database ... is locked" (milliseconds; 10000
 * by default).
 */
void db_set_busy_timeout(int ms);
/*
 * 1 when the last failed call on db failed because another process held
 * the database's lock past the busy timeout (the error then said so).
 */
int db_is_busy(struct db *db);
const char *db_path(const struct db *db);

/* Applies migrations up to `target` (0 = all); used by db_open and tests. */
int db_migrate(struct db *db, int target);
/* The schema version this binary knows, and the database's. */
int db_schema_version(void);
int db_user_version(struct db *db);

/* Runs one or more statements that return no rows. */
int db_exec(struct db *db, const char *sql);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* Prepared statements. *out owns the statement; free with db_finalize(). */
int db_prepare(struct db *db, struct db_stmt **out, const char *sql);
void db_finalize(struct db_stmt *st);
/* Returns DB_ROW, DB_DONE or -1 (with the message printed). */
int db_step(struct db_stmt *st);
/* Like db_step, but prints nothing on error (for callers that report). */
int db_step_quiet(struct db_stmt *st);
int db_reset(struct db_stmt *st);

/* Binding: idx counts from 1. len < 0 means NUL-terminated; NULL s binds NULL. */
int db_bind_int(struct db_stmt *st, int idx, int64_t v);
int db_bind_double(struct db_stmt *st, int idx, double v);
int db_bind_text(struct db_stmt *st, int idx, const char *s, int len);
/* Like db_bind_text, without a copy: s must stay valid until the statement
 * is reset (db_reset) or the parameter bound again. For bulk inserts. */
int db_bind_text_static(struct db_stmt *st, int idx, const char *s, int len);
int db_bind_blob(struct db_stmt *st, int idx, const void *p, int len);
int db_bind_null(struct db_stmt *st, int idx);
/* Index of a named parameter (":name"), 0 if none. */
int db_bind_index(struct db_stmt *st, const char *name);

/* Columns: idx counts from 0. Text and blobs stay valid until the next step. */
int db_column_count(struct db_stmt *st);
const char *db_column_name(struct db_stmt *st, int idx);
int db_column_type(struct db_stmt *st, int idx);
int64_t db_column_int(struct db_stmt *st, int idx);
double db_column_double(struct db_stmt *st, int idx);
const char *db_column_text(struct db_stmt *st, int idx); /* NULL for NULL */
const void *db_column_blob(struct db_stmt *st, int idx);
int db_column_bytes(struct db_stmt *st, int idx);
/* 1 if the statement writes nothing (for mmdb sql's read-only check). */
int db_stmt_readonly(struct db_stmt *st);

int64_t db_last_insert_rowid(struct db *db);
int db_changes(struct db *db);
const char *db_errmsg(struct db *db);
/* Runs a query returning one integer (first column of first row); *out = dflt if no row. */
int db_query_int(struct db *db, const char *sql, int64_t dflt, int64_t *out);

/*
 * Runs a whole SQL text (possibly several statements) and hands each result
 * row to cb; used by mmdb sql. `tail` points at unparsed text on return.
 * cb gets the statement for column access; row = 0 is called once per
 * statement with its column names before any row (even if none follow).
 */
typedef int (*db_row_fn)(struct db_stmt *st, long row, void *data);
int db_run_script(struct db *db, const char *sql, int readonly, db_row_fn cb, void *data);

const char *db_sqlite_version(void);

#endif
