/*
 * app: the dashboard's main loop. One pass: check for new data, reload the
 * top screen if stale, redraw once, wait for a key (with a timeout, so new
 * epochs appear without one), map it through the key table and hand the
 * action to the screen. KEY_RESIZE is handled here and nowhere else.
 */
#define _XOPEN_SOURCE 700
#include "ui.h"
#include "text.h"
#include "db.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIN_COLS 80
#define MIN_LINES 24

/* The key table: the first row whose screens include the current one wins. */
struct binding {
	unsigned screens;
	int key;
	enum action act;
	const char *name;   /* shown in help; NULL for aliases */
	const char *help;
};

#define NAV (SCR_ALL)
static const struct binding bindings[] = {
	{ NAV, KEY_UP, ACT_UP, "Up k", "move up" },
	{ NAV, 'k', ACT_UP, NULL, NULL },
	{ NAV, KEY_DOWN, ACT_DOWN, "Down j", "move down" },
	{ NAV, 'j', ACT_DOWN, NULL, NULL },
	{ NAV, KEY_PPAGE, ACT_PGUP, "PgUp PgDn", "page up / down" },
	{ NAV, KEY_NPAGE, ACT_PGDN, NULL, NULL },
	{ NAV, KEY_HOME, ACT_HOME, "Home End g G", "first / last row" },
	{ NAV, 'g', ACT_HOME, NULL, NULL },
	{ NAV, KEY_END, ACT_END, NULL, NULL },
	{ NAV, 'G', ACT_END, NULL, NULL },
	{ SCR_RUN | SCR_COMPARE, KEY_LEFT, ACT_LEFT, "Left Right", "move across (matrix cell)" },
	{ SCR_RUN | SCR_COMPARE, KEY_RIGHT, ACT_RIGHT, NULL, NULL },
	{ SCR_RUNS, '\n', ACT_ENTER, "Enter", "open the run" },
	{ SCR_SWEEPS, '\n', ACT_ENTER, "Enter", "open the sweep's trials" },
	{ SCR_SWEEP, '\n', ACT_ENTER, "Enter", "open the trial's run" },
	{ SCR_RUN, '\n', ACT_ENTER, "Enter", "confusion view: the posts of the cell" },
	{ SCR_PREDS | SCR_COMPARE, '\n', ACT_ENTER, "Enter", "open the post" },
	{ SCR_ALL, '\n', ACT_ENTER, NULL, NULL },
	{ SCR_ALL, '\r', ACT_ENTER, NULL, NULL },
	{ SCR_ALL, KEY_ENTER, ACT_ENTER, NULL, NULL },
	{ SCR_RUN | SCR_COMPARE | SCR_SWEEP, '\t', ACT_NEXT_VIEW, "Tab S-Tab", "next / previous view" },
	{ SCR_RUN | SCR_COMPARE | SCR_SWEEP, KEY_BTAB, ACT_PREV_VIEW, NULL, NULL },
	{ SCR_SWEEP, '1', ACT_VIEW1, "1 2", "trials / scatter" },
	{ SCR_RUN | SCR_COMPARE, '1', ACT_VIEW1, "1 2 3 4", "go to a view" },
	{ SCR_RUN | SCR_COMPARE | SCR_SWEEP, '2', ACT_VIEW2, NULL, NULL },
	{ SCR_RUN | SCR_COMPARE, '3', ACT_VIEW3, NULL, NULL },
	{ SCR_RUN | SCR_COMPARE, '4', ACT_VIEW4, NULL, NULL },
	{ SCR_RUNS, ' ', ACT_MARK, "Space", "mark / unmark for comparison" },
	{ SCR_RUNS, 'c', ACT_COMPARE, "c", "compare the marked runs (2 to 6)" },
	{ SCR_RUNS, 'd', ACT_DELETE, "d", "delete the run (asks first)" },
	{ SCR_RUNS, '/', ACT_FILTER, "/", "filter by text (name, notes, settings, tags)" },
	{ SCR_RUNS, 's', ACT_STATUS, "s", "filter by status (cycles)" },
	{ SCR_RUNS, 't', ACT_TAG, "t", "filter by tag" },
	{ SCR_RUNS, 'w', ACT_SWEEP_FILTER, "w", "filter by sweep (cycles through the sweeps)" },
	{ SCR_RUNS, 'S', ACT_SWEEPS, "S", "the sweeps: trials, best, scatter" },
	{ SCR_SWEEP, 'a', ACT_AXIS_NEXT, "a A", "scatter: next / previous parameter" },
	{ SCR_SWEEP, 'A', ACT_AXIS_PREV, NULL, NULL },
	{ SCR_RUNS, '>', ACT_SORT_NEXT, "< >", "sort by the previous / next column" },
	{ SCR_RUNS, '<', ACT_SORT_PREV, NULL, NULL },
	{ SCR_RUNS, 'I', ACT_SORT_INVERT, "I", "invert the sort order" },
	{ SCR_RUNS | SCR_RUN, 'p', ACT_PREDS, "p", "the run's predictions" },
	{ SCR_RUN, '[', ACT_POINT_PREV, "[ ]", "previous / next evaluated epoch and split" },
	{ SCR_RUN, ']', ACT_POINT_NEXT, NULL, NULL },
	{ SCR_PREDS | SCR_COMPARE, 'v', ACT_SPLIT, "v", "validate / test split" },
	{ SCR_PREDS, 'm', ACT_WRONG, "m", "misclassified only (on / off)" },
	{ SCR_PREDS, 't', ACT_TRUE_CLASS, "t", "true class filter (cycles)" },
	{ SCR_PREDS, 'p', ACT_PRED_CLASS, "p", "predicted class filter (cycles)" },
	{ SCR_PREDS, 'w', ACT_CONF_WRONG, "w", "confidently wrong first (on / off)" },
	{ SCR_PREDS, 'l', ACT_LOW_TRUE, "l", "lowest probability of the true label first" },
	{ SCR_PREDS, '/', ACT_SEARCH, "/", "search titles" },
	{ SCR_RUNS | SCR_PREDS, 'x', ACT_CLEAR, "x", "clear the filters" },
	{ SCR_COMPARE, 'm', ACT_METRIC, "m", "curves: next metric" },
	{ SCR_POST, 'i', ACT_IMAGE, "i", "the image alone, as large as the window allows" },
	{ SCR_ALL, '?', ACT_HELP, "?", "this help" },
	{ SCR_RUNS, 'q', ACT_QUIT, "q", "quit" },
	{ SCR_ALL, 'q', ACT_BACK, "q Esc", "back" },
	{ SCR_ALL, 27, ACT_BACK, NULL, NULL },
	{ SCR_ALL, 'Q', ACT_QUIT, "Q", "quit from anywhere" },
};

static const struct binding *lookup(unsigned screen, int key)
{
	size_t i;
	for (i = 0; i < ARRAY_SIZE(bindings); i++)
		if ((bindings[i].screens & screen) && bindings[i].key == key)
			return &bindings[i];
	return NULL;
}

void app_push(struct app *app, struct screen *s)
{
	if (app->depth >= APP_MAX_DEPTH) {
		s->ops->release(s);
		app_message(app, "too many screens open; press q to go back");
		return;
	}
	s->stale = 1;
	app->stack[app->depth++] = s;
}

static void app_pop(struct app *app)
{
	struct screen *s;
	if (!app->depth)
		return;
	s = app->stack[--app->depth];
	s->ops->release(s);
}

void app_message(struct app *app, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(app->msg, sizeof(app->msg), fmt, ap);
	va_end(ap);
	app->msg_until = app->now + 4;
}

void app_prompt(struct app *app, int id, const char *label, const char *initial)
{
	app->prompt.active = 1;
	app->prompt.confirm = 0;
	app->prompt.id = id;
	snprintf(app->prompt.label, sizeof(app->prompt.label), "%s", label);
	snprintf(app->prompt.buf, sizeof(app->prompt.buf), "%s", initial ? initial : "");
}

void app_confirm(struct app *app, int id, const char *question)
{
	app_prompt(app, id, question, NULL);
	app->prompt.confirm = 1;
}

const char *app_last_error(struct app *app)
{
	char buf[1024];
	size_t n;
	if (!app->errf)
		return app->lasterr;
	fflush(stderr);
	if (fseek(app->errf, app->errpos, SEEK_SET))
		return app->lasterr;
	while ((n = fread(buf, 1, sizeof(buf) - 1, app->errf)) > 0) {
		char *line, *save = NULL;
		buf[n] = 0;
		app->errpos += (long)n;
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			snprintf(app->lasterr, sizeof(app->lasterr), "%s", line);
	}
	return app->lasterr;
}

/* Appends one UTF-8 encoded wide character to the prompt buffer. */
static void prompt_add(struct app *app, wint_t wc)
{
	char mb[8];
	size_t len = strlen(app->prompt.buf), n;
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	n = wcrtomb(mb, (wchar_t)wc, &st);
	if (n == (size_t)-1 || len + n >= sizeof(app->prompt.buf))
		return;
	memcpy(app->prompt.buf + len, mb, n);
	app->prompt.buf[len + n] = 0;
}

/* A key while a prompt is open: returns the action to send, or ACT_NONE. */
static enum action prompt_key(struct app *app, int fkey, wint_t wc)
{
	if (app->prompt.confirm) {
		app->prompt.active = 0;
		if (!fkey && (wc == 'y' || wc == 'Y'))
			return ACT_CONFIRMED;
		app_message(app, "cancelled");
		return ACT_NONE;
	}
	if (fkey) {
		if (wc == KEY_ENTER) {
			app->prompt.active = 0;
			return ACT_PROMPT_DONE;
		}
		if (wc == KEY_BACKSPACE)
			goto backspace;
		return ACT_NONE;
	}
	switch (wc) {
	case '\n': case '\r':
		app->prompt.active = 0;
		return ACT_PROMPT_DONE;
	case 27:
		app->prompt.active = 0;
		return ACT_NONE;
	case 127: case 8:
		goto backspace;
	case 21: /* ^U */
		app->prompt.buf[0] = 0;
		return ACT_NONE;
	default:
		if (wc >= 32)
			prompt_add(app, wc);
		return ACT_NONE;
	}
backspace: {
		size_t len = strlen(app->prompt.buf);
		while (len > 0 && ((unsigned char)app->prompt.buf[len - 1] & 0xc0) == 0x80)
			len--;
		if (len > 0)
			len--;
		app->prompt.buf[len] = 0;
	}
	return ACT_NONE;
}

static void draw_prompt(struct app *app)
{
	int x;
	ui_attr(PAIR_TITLE, A_REVERSE);
	ui_text_pad(LINES - 1, 0, COLS, "");
	x = ui_text(LINES - 1, 0, COLS, app->prompt.label);
	x += ui_text(LINES - 1, x, COLS - x, " ");
	if (app->prompt.confirm)
		x += ui_text(LINES - 1, x, COLS - x, "[y/N] ");
	else
		x += ui_text(LINES - 1, x, COLS - x - 1, app->prompt.buf);
	ui_attr_off();
	move(LINES - 1, x < COLS ? x : COLS - 1);
}

static void draw_help(struct app *app, unsigned screen, const char *name)
{
	size_t i;
	int n = 0, w = 64, h, y0, x0, y;
	for (i = 0; i < ARRAY_SIZE(bindings); i++)
		if ((bindings[i].screens & screen) && bindings[i].name && lookup(screen, bindings[i].key) == &bindings[i])
			n++;
	h = n + 4;
	if (h > LINES - 2)
		h = LINES - 2;
	if (w > COLS - 2)
		w = COLS - 2;
	y0 = (LINES - h) / 2;
	x0 = (COLS - w) / 2;
	for (y = 0; y < h; y++) {
		ui_attr(PAIR_TITLE, A_REVERSE);
		ui_text_pad(y0 + y, x0, w, "");
	}
	ui_attr(PAIR_TITLE, A_REVERSE | A_BOLD);
	ui_textf(y0, x0 + 2, w - 4, "Help: %s screen keys", name);
	y = y0 + 2;
	for (i = 0; i < ARRAY_SIZE(bindings) && y < y0 + h - 1; i++) {
		const struct binding *b = &bindings[i];
		if (!(b->screens & screen) || !b->name || lookup(screen, b->key) != b)
			continue;
		ui_attr(PAIR_TITLE, A_REVERSE | A_BOLD);
		ui_text(y, x0 + 2, 14, b->name);
		ui_attr(PAIR_TITLE, A_REVERSE);
		ui_text(y, x0 + 17, w - 19, b->help);
		y++;
	}
	ui_attr(PAIR_TITLE, A_REVERSE);
	ui_text(y0 + h - 1, x0 + 2, w - 4, "any key closes this help");
	ui_attr_off();
	(void)app;
}

static void init_colours(struct app *app)
{
	static const short series[SERIES_COLOURS] = { COLOR_CYAN, COLOR_YELLOW, COLOR_MAGENTA,
						      COLOR_GREEN, COLOR_RED, COLOR_BLUE };
	/* Heat map backgrounds: light to dark blue in 256 colours, else 8. */
	static const short heat256[HEAT_LEVELS] = { 236, 17, 18, 19, 20, 25, 26, 33 };
	static const short heat8[HEAT_LEVELS] = { COLOR_BLACK, COLOR_BLACK, COLOR_BLUE, COLOR_BLUE,
						  COLOR_BLUE, COLOR_CYAN, COLOR_CYAN, COLOR_CYAN };
	int i;
	if (!has_colors() || start_color() == ERR)
		return;
	app->colours = COLORS;   /* known only after start_color() */
	use_default_colors();
	for (i = 0; i < SERIES_COLOURS; i++)
		init_pair((short)(PAIR_SERIES + i), series[i], -1);
	init_pair(PAIR_GOOD, COLOR_GREEN, -1);
	init_pair(PAIR_BAD, COLOR_RED, -1);
	init_pair(PAIR_RUN, COLOR_GREEN, -1);
	init_pair(PAIR_DIM, COLORS >= 256 ? 245 : COLOR_WHITE, -1);
	init_pair(PAIR_TITLE, COLOR_BLUE, -1);
	init_pair(PAIR_SEL, COLOR_CYAN, -1);
	init_pair(PAIR_MARK, COLOR_YELLOW, -1);
	for (i = 0; i < HEAT_LEVELS; i++)
		init_pair((short)(PAIR_HEAT + i), COLOR_WHITE, COLORS >= 256 ? heat256[i] : heat8[i]);
}

/* CPU time this process has used: a key's work apart from the machine's load. */
static double cpu_seconds(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *key_name_of(int fkey, wint_t wc, char *buf, size_t n)
{
	if (fkey)
		snprintf(buf, n, "%s", keyname((int)wc) ? keyname((int)wc) : "?");
	else if (wc < 32)
		snprintf(buf, n, "^%c", (char)(wc + '@'));
	else
		snprintf(buf, n, "%lc", (wchar_t)wc);
	return buf;
}

int tui_run(const struct tui_options *opt)
{
	struct app app;
	FILE *timing = NULL;
	int saved_err = -1, ret = 0, first = 1, ready = 0;
	double key_t0 = 0, key_cpu0 = 0;
	char key_name[32] = "";
	const char *key_screen = "";

	memset(&app, 0, sizeof(app));
	app.db = opt->db;
	app.db_path = opt->db_path;
	app.cache_dir = opt->cache_dir;
	app.interval = opt->interval > 0 ? opt->interval : 1;
	app.now = now_seconds();
	setlocale(LC_ALL, "");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return error("tui: standard input and output must be a terminal");
	if (opt->timing && !(timing = fopen(opt->timing, "a")))
		return error("cannot open timing file '%s'", opt->timing);
	if (model_data_version(app.db, &app.data_version))
		goto out_early;
	app.last_check = app.now;

	app_push(&app, runs_screen_new(&app));
	if (opt->run > 0)
		app_push(&app, run_screen_new(&app, opt->run));

	/* Messages from library code go to a file while curses owns the tty. */
	app.errf = tmpfile();
	if (app.errf) {
		fflush(stderr);
		saved_err = dup(STDERR_FILENO);
		dup2(fileno(app.errf), STDERR_FILENO);
	}
	if (!newterm(NULL, stdout, stdin)) {
		ret = error("tui: cannot initialise the terminal (TERM=%s)",
			    getenv("TERM") ? getenv("TERM") : "");
		goto out;
	}
	set_escdelay(25);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	init_colours(&app);
	timeout(250);

	while (app.depth > 0) {
		struct screen *top = app.stack[app.depth - 1];
		enum action act = ACT_NONE;
		int r, fkey;
		wint_t wc;

		/* New data from another process marks every screen stale. */
		app.now = now_seconds();
		if (app.now - app.last_check >= app.interval) {
			int64_t v;
			app.last_check = app.now;
			if (!model_data_version(app.db, &v) && v != app.data_version) {
				int i;
				app.data_version = v;
				for (i = 0; i < app.depth; i++)
					app.stack[i]->stale = 1;
			}
		}
		if (top->wake_at > 0 && app.now >= top->wake_at) {
			top->wake_at = 0;
			top->stale = 1;
		}
		if (top->stale) {
			int rc;
			top->stale = 0;
			rc = top->ops->reload(&app, top); /* may ask for another pass */
			if (rc == MODEL_GONE) {
				app_message(&app, "%s", app_last_error(&app)[0] ? app.lasterr
						       : "it no longer exists");
				app.lasterr[0] = 0;
				app_pop(&app);
				continue;
			}
			if (rc < 0)
				app_message(&app, "%s", app_last_error(&app));
		}

		/* One redraw per pass. */
		erase();
		if (COLS < MIN_COLS || LINES < MIN_LINES) {
			ui_textf(0, 0, COLS, "mmdb tui needs at least %dx%d; this terminal is %dx%d",
				 MIN_COLS, MIN_LINES, COLS, LINES);
		} else {
			top->ops->draw(&app, top);
			if (app.help)
				draw_help(&app, top->ops->id, top->ops->name);
			if (app.prompt.active)
				draw_prompt(&app);
		}
		curs_set(app.prompt.active ? 1 : 0);
		refresh();
		if (timing) {
			double t = now_seconds();
			if (first) {
				fprintf(timing, "first_draw_ms %.2f\n", (t - opt->t0) * 1000);
				if (opt->exec_age >= 0)
					fprintf(timing, "first_draw_since_exec_ms %.0f\n",
						(t - opt->t0 + opt->exec_age) * 1000);
			}
			else if (key_t0 > 0)
				fprintf(timing, "key %s %.2f %s %.2f\n", key_name, (t - key_t0) * 1000, key_screen,
					(cpu_seconds() - key_cpu0) * 1000);
			if (!ready && !top->stale) {
				/* Every row loaded (sorting and filters work from here). */
				fprintf(timing, "ready_ms %.2f\n", (t - opt->t0) * 1000);
				ready = 1;
			}
			fflush(timing);
			key_t0 = 0;
		}
		first = 0;

		/* A screen still loading gets its next pass without waiting. */
		timeout(app.stack[app.depth - 1]->stale ? 0 : 250);
		r = get_wch(&wc);
		if (r == ERR)
			continue;
		fkey = r == KEY_CODE_YES;
		key_t0 = now_seconds();
		key_cpu0 = cpu_seconds();
		app.now = key_t0;
		key_name_of(fkey, wc, key_name, sizeof(key_name));
		key_screen = top->ops->name;
		if (fkey && wc == KEY_RESIZE) {
			top->stale = 1; /* page sizes follow the window */
			continue;
		}
		if (app.prompt.active) {
			act = prompt_key(&app, fkey, wc);
		} else if (app.help) {
			app.help = 0;
			continue;
		} else {
			/* Function keys and ASCII are in the table; other characters are not. */
			const struct binding *b = fkey || wc < 0x80 ? lookup(top->ops->id, (int)wc) : NULL;
			if (!b)
				continue;
			act = b->act;
		}
		switch (act) {
		case ACT_NONE:
			break;
		case ACT_HELP:
			app.help = 1;
			break;
		case ACT_QUIT:
			while (app.depth)
				app_pop(&app);
			break;
		default:
			switch (top->ops->key(&app, top, act)) {
			case K_RELOAD: top->stale = 1; break;
			case K_BACK: app_pop(&app); break;
			case K_QUIT: while (app.depth) app_pop(&app); break;
			default: break;
			}
		}
	}
	endwin();
out:
	while (app.depth)
		app_pop(&app);
	if (saved_err >= 0) {
		/* Restore stderr and repeat what was printed while the screen was up. */
		char buf[4096];
		size_t n;
		fflush(stderr);
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
		rewind(app.errf);
		while ((n = fread(buf, 1, sizeof(buf), app.errf)) > 0)
			fwrite(buf, 1, n, stderr);
	}
	if (app.errf)
		fclose(app.errf);
out_early:
	if (timing)
		fclose(timing);
	return ret;
}

const char *tui_curses_version(void)
{
	return curses_version();
}
