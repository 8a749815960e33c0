/*
 * mmdb.h: what main.c hands every subcommand.
 */
#ifndef MMDB_H
#define MMDB_H

struct db;

struct mmdb_ctx {
	const char *db_path;   /* --db, $MMDB_DB, or ./mmdb.db */
	char *cache_dir;       /* --cache, $MMDB_CACHE, or mmdb-cache/ beside the database */
	int quiet;             /* -q: no progress output */
	int verbose;           /* -v */
	struct db *db;         /* open (and migrated) when the command has NEEDS_DB */
};

/* Command flags in main.c's table. */
enum {
	NEEDS_DB = 1 << 0,     /* main opens ctx->db read-write (creating/migrating) */
	NEEDS_DB_RO = 1 << 1,  /* the command opens the database itself */
};

#endif
