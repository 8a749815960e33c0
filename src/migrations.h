/* migrations: the SQL of the migrations folder, compiled in (generated migrations.c). */
#ifndef MMDB_MIGRATIONS_H
#define MMDB_MIGRATIONS_H

#include <stddef.h>

struct mmdb_migration {
	int version;      /* NNNN of the file name; PRAGMA user_version after it */
	const char *name; /* file name, e.g. "0001_initial.sql" */
	const char *sql;
};

extern const struct mmdb_migration mmdb_migrations[];
extern const size_t mmdb_migration_count;

#endif
