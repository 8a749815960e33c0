/*
 * tui: the entry point of the ncurses dashboard (mmdb tui). Everything
 * behind it lives in ui/: a model (queries, ui/model.h) and screens that
 * draw it. src/cmd/tui.c parses options and calls tui_run().
 */
#ifndef MMDB_UI_TUI_H
#define MMDB_UI_TUI_H

#include <stdint.h>

struct db;

struct tui_options {
	struct db *db;           /* open, read-only; stays owned by the caller */
	const char *db_path;     /* for the write connection a deletion opens */
	const char *cache_dir;   /* <cache>/objects and <cache>/runs */
	int64_t run;             /* > 0: open this run's screen first */
	double interval;         /* seconds between checks for new data */
	const char *timing;      /* file to append draw/key timings to, or NULL */
	double t0;               /* now_seconds() when the command started, for timings */
	double exec_age;         /* seconds from exec to t0 (library start-up), or -1 */
};

/*
 * Runs the dashboard on the terminal until the user quits. Returns 0, or -1
 * (message printed) when the terminal cannot be used. Messages printed by
 * library code while the screen is up are shown in the status line and
 * repeated on stderr after the screen is restored.
 */
int tui_run(const struct tui_options *opt);

/* The ncurses version string ("ncurses 6.4.20221231"). */
const char *tui_curses_version(void);

#endif
