/*
 * results: helpers the result commands (runs, show, compare, export) share:
 * a query's rows as an output table, label names of a scheme.
 */
#ifndef MMDB_RESULTS_H
#define MMDB_RESULTS_H

#include <stdint.h>

struct db;
struct table;
struct db_stmt;

/*
 * Runs sql with ?1 bound to id (when the statement has it) and ?2 to text
 * (when given), and returns its rows as a new table headed by the column
 * names (caller frees with table_free), or NULL after error().
 */
struct table *results_query(struct db *db, const char *sql, int64_t id, const char *text);

/* Steps st to the end, returning its rows as a new table (NULL on error);
 * st stays owned by the caller. */
struct table *results_from_stmt(struct db_stmt *st);

/* Prints a table in JSON after `"key": ` (for composing one object). */
void results_json_member(const struct table *t, const char *key, int first, int as_object);

/* The label names of a scheme ("6way") into names[0..C), malloc'd strings;
 * returns C or -1. */
int results_label_names(struct db *db, const char *scheme, char ***names);
void results_free_names(char **names, int n);

#endif
