/*
 * ui.h: what the dashboard's screens share: the app state, the screen
 * interface (each screen a draw/key pair), the actions keys map to, and the
 * safe drawing helpers. Only ui/ includes this (and so curses.h).
 */
#ifndef MMDB_UI_UI_H
#define MMDB_UI_UI_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <stdint.h>
#include <stdio.h>

#include "chart.h"
#include "model.h"
#include "tui.h"
#include "util.h"

enum screen_id {
	SCR_RUNS = 1 << 0,
	SCR_RUN = 1 << 1,
	SCR_COMPARE = 1 << 2,
	SCR_PREDS = 1 << 3,
	SCR_POST = 1 << 4,
	SCR_SWEEPS = 1 << 5,
	SCR_SWEEP = 1 << 6,
	SCR_ALL = 0xff,
};

/* What a key means; screens act on these, never on raw keys. */
enum action {
	ACT_NONE, ACT_QUIT, ACT_BACK, ACT_HELP,
	ACT_UP, ACT_DOWN, ACT_PGUP, ACT_PGDN, ACT_HOME, ACT_END, ACT_LEFT, ACT_RIGHT, ACT_ENTER,
	ACT_NEXT_VIEW, ACT_PREV_VIEW, ACT_VIEW1, ACT_VIEW2, ACT_VIEW3, ACT_VIEW4,
	ACT_MARK, ACT_COMPARE, ACT_DELETE, ACT_FILTER, ACT_STATUS, ACT_TAG, ACT_CLEAR,
	ACT_SORT_NEXT, ACT_SORT_PREV, ACT_SORT_INVERT, ACT_PREDS,
	ACT_SPLIT, ACT_WRONG, ACT_TRUE_CLASS, ACT_PRED_CLASS, ACT_CONF_WRONG, ACT_LOW_TRUE, ACT_SEARCH,
	ACT_POINT_PREV, ACT_POINT_NEXT, ACT_METRIC, ACT_IMAGE,
	ACT_SWEEPS, ACT_SWEEP_FILTER, ACT_AXIS_NEXT, ACT_AXIS_PREV,
	ACT_PROMPT_DONE, ACT_CONFIRMED,   /* sent by the app when a prompt ends */
};

/* What a key handler asks the loop to do next. */
enum key_result { K_NONE, K_RELOAD, K_BACK, K_QUIT };

struct app;
struct screen;

struct screen_ops {
	enum screen_id id;
	const char *name;
	/* Re-runs the screen's queries: 0, MODEL_GONE (its run is gone), -1. */
	int (*reload)(struct app *app, struct screen *s);
	/* Draws into the whole window; never queries. */
	void (*draw)(struct app *app, struct screen *s);
	/* Acts on one action; never draws. */
	int (*key)(struct app *app, struct screen *s, enum action a);
	void (*release)(struct screen *s);
};

struct screen {
	const struct screen_ops *ops;
	int stale;   /* reload before the next draw */
	double wake_at;   /* > 0: mark stale at this time (now_seconds()) */
};

#define APP_MAX_DEPTH 16

struct app {
	struct db *db;
	const char *db_path, *cache_dir;
	struct screen *stack[APP_MAX_DEPTH];
	int depth;
	int64_t data_version;
	double interval, last_check, now;
	int help;
	struct {
		int active, confirm, id;
		char label[160];
		char buf[256];
	} prompt;
	char msg[256];
	double msg_until;
	int colours;       /* number of colours the terminal has (0: mono) */
	/* Colour pairs made on demand for images: (fg << 9 | bg) -> pair. */
	int pair_key[4096];
	short pair_num[4096];
	int pairs_next;
	FILE *errf;        /* stderr while the screen is up */
	long errpos;
	char lasterr[256];
};

/* Screens: constructors (each returns a stale screen to push). */
struct screen *runs_screen_new(struct app *app);
struct screen *run_screen_new(struct app *app, int64_t run);
struct screen *compare_screen_new(struct app *app, const int64_t *runs, int n);
struct screen *preds_screen_new(struct app *app, int64_t run, const char *split, int label,
				int pred);
struct screen *post_screen_new(struct app *app, int64_t run, const char *post_id);
struct screen *sweeps_screen_new(struct app *app);
struct screen *sweep_screen_new(struct app *app, int64_t sweep);

/* App services for key handlers (they change state; they do not draw). */
void app_push(struct app *app, struct screen *s);
void app_message(struct app *app, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Starts a one-line text prompt; its end sends A_PROMPT_DONE with prompt.id. */
void app_prompt(struct app *app, int id, const char *label, const char *initial);
/* Asks a yes/no question; 'y' sends A_CONFIRMED with prompt.id. */
void app_confirm(struct app *app, int id, const char *question);
/* The last message library code printed (error()), or "" */
const char *app_last_error(struct app *app);

/* Colour pairs. */
enum {
	PAIR_SERIES = 1,    /* 1..6: one per run / series */
	PAIR_GOOD = 8, PAIR_BAD, PAIR_RUN, PAIR_DIM, PAIR_TITLE, PAIR_SEL, PAIR_MARK,
	PAIR_HEAT = 20,     /* 20..20+HEAT_LEVELS-1 */
	PAIR_DYNAMIC = 64,  /* and up: made by ui_image() */
};
#define HEAT_LEVELS 8
#define SERIES_COLOURS 6

/* Drawing helpers; text always goes through text_fit (see text.h). */
int ui_text(int y, int x, int w, const char *s);         /* returns columns used */
void ui_text_pad(int y, int x, int w, const char *s);    /* padded with spaces to w */
/* Wraps s over at most maxlines lines of w columns; returns lines used. */
int ui_text_wrap(int y, int x, int w, int maxlines, const char *s);
void ui_text_right(int y, int x, int w, const char *s);
int ui_textf(int y, int x, int w, const char *fmt, ...) PRINTF_LIKE(4, 5);
void ui_attr(int pair, attr_t a);                       /* set colour pair and attributes */
void ui_attr_off(void);
/* Title bar (line 0) and key hints (last line). */
void ui_title(struct app *app, const char *fmt, ...) PRINTF_LIKE(2, 3);
void ui_hints(struct app *app, const char *hints);
/* A horizontal bar for p in [0, 1], w cells, eighth-block resolution. */
void ui_bar(int y, int x, int w, double p);
/*
 * A line chart at (y, x) of w x h cells including its axes: y labels on the
 * left, epochs under the plot, `title` above with `legend` names coloured
 * per series.
 */
void ui_chart(int y, int x, int w, int h, const char *title, const struct chart_series *s,
	      int ns, const char *const *legend);
/*
 * A scatter plot at (y, x) of w x h cells: `title` above, y labels on the
 * left, under the plot an axis named `xname` with ticks: the categories
 * cats[0..ncats) at x = 0..ncats-1, else each decade (logx) or the ends
 * and the middle of the values.
 */
void ui_scatter(int y, int x, int w, int h, const char *title, const struct chart_series *s, int ns,
		int logx, const char *xname, char *const *cats, int ncats);
/*
 * Draws packed RGB pixels (w x h) at (y, x) with upper half blocks: each
 * cell shows two pixels, the top as foreground, the bottom as background,
 * in the terminal's 256 (or 8) colours. Takes (h + 1) / 2 rows, w columns.
 */
void ui_image(struct app *app, int y, int x, const uint8_t *rgb, int w, int h);
/* Tab strip "[1 Overview] 2 Charts ..." on line y. */
void ui_tabs(int y, const char *const *names, int n, int cur);

/* Formatting: "-" for NaN. */
const char *fmt_num(char *buf, size_t n, const char *fmt, double v);
const char *fmt_duration(char *buf, size_t n, double seconds);

#endif
