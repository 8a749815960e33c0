/*
 * scr_compare: 2 to 6 runs side by side: only the settings that differ,
 * one metric's curves overlaid (a colour per run, with a legend), per-class
 * F1 with deltas against the first run, and the posts where they disagree.
 */
#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXR 6

enum { V_SETTINGS, V_CURVES, V_CLASSES, V_DISAGREE, NVIEWS };
static const char *const view_names[NVIEWS] = { "Settings", "Curves", "Classes", "Disagreements" };

static const struct {
	const char *split, *metric, *title;
} metrics[] = {
	{ "validate", "loss", "validation loss" },
	{ "train", "loss", "training loss" },
	{ "validate", "accuracy", "validation accuracy" },
	{ "validate", "f1", "validation F1 (weighted)" },
	{ "train", "accuracy", "training accuracy" },
};

struct compare_screen {
	struct screen base;
	int n;
	int64_t id[MAXR];
	struct run_row r[MAXR];
	struct kv_list set[MAXR];
	struct epoch_list ep[MAXR];
	struct eval_point point[MAXR];
	int have_point[MAXR];
	struct class_row cm[MAXR][MODEL_MAX_CLASSES];
	struct classes cls;
	const char **diff;      /* setting keys that differ (borrowed from set[]) */
	size_t ndiff;
	char legend[MAXR][64];
	int view, metric, scroll;
	char split[10];
	/* Disagreements: counted in steps; a page found by keyset scans in steps. */
	int64_t dcount, dwork;
	int counting, counted, count_started;
	char count_at[64];
	struct disagree_list page;
	int cur;
	int queued;      /* pages to move (+ next, - previous) once the fetch is done */
	int rows;        /* the page size the last fetch was started for */
	struct {
		int active, kind, back, has_from, inclusive;
		char from[64];
		size_t want;
		struct disagree_list got;
	} f;
};

/*
 * One pass's share of work: a count step and a page step each look at no
 * more than STEP_ROWS rows and stop after STEP_SECONDS.
 */
#define STEP_ROWS 4096
#define STEP_SECONDS 0.006
enum { F_HOME, F_END, F_NEXT, F_PREV, F_REFRESH };

static void clear_data(struct compare_screen *s)
{
	int i;
	for (i = 0; i < s->n; i++) {
		run_row_release(&s->r[i]);
		kv_list_release(&s->set[i]);
		epoch_list_release(&s->ep[i]);
	}
	free(s->diff);
	s->diff = NULL;
	s->ndiff = 0;
}

static int rows_avail(void)
{
	return LINES > 6 ? LINES - 5 : 1;
}

static void start_fetch(struct compare_screen *s, int kind)
{
	const struct disagree_row *r;
	disagree_list_release(&s->f.got);
	memset(&s->f, 0, sizeof(s->f));
	s->f.active = 1;
	s->f.kind = kind;
	s->f.want = (size_t)rows_avail();
	s->rows = rows_avail();
	s->f.back = kind == F_END || kind == F_PREV;
	if ((kind == F_NEXT || kind == F_PREV || kind == F_REFRESH) && s->page.n) {
		r = kind == F_NEXT ? &s->page.v[s->page.n - 1] : &s->page.v[0];
		snprintf(s->f.from, sizeof(s->f.from), "%s", r->post_id);
		s->f.has_from = 1;
		s->f.inclusive = kind == F_REFRESH;
	}
}

/* A found page replaces the shown one (an empty one at an end does not). */
static void finish_fetch(struct compare_screen *s)
{
	struct disagree_list *got = &s->f.got;
	size_t i;
	s->f.active = 0;
	if (s->f.back)
		for (i = 0; i < got->n / 2; i++) {
			struct disagree_row t = got->v[i];
			got->v[i] = got->v[got->n - 1 - i];
			got->v[got->n - 1 - i] = t;
		}
	if (!got->n && (s->f.kind == F_NEXT || s->f.kind == F_PREV)) {
		s->cur = s->f.kind == F_NEXT && s->page.n ? (int)s->page.n - 1 : 0;
		disagree_list_release(got);
		return;
	}
	disagree_list_release(&s->page);
	s->page = *got;
	memset(got, 0, sizeof(*got));
	if (s->f.kind == F_HOME || s->f.kind == F_NEXT)
		s->cur = 0;
	else if (s->f.kind == F_END || s->f.kind == F_PREV)
		s->cur = (int)s->page.n - 1;
	if (s->cur >= (int)s->page.n)
		s->cur = (int)s->page.n - 1;
	if (s->cur < 0)
		s->cur = 0;
}

/* One bounded step of the disagreement count and of the page being found. */
static int step(struct app *app, struct compare_screen *s)
{
	struct scan_end end;
	struct scan_limit lim = { STEP_ROWS, 0 };
	if (s->counting) {
		lim.until = now_seconds() + STEP_SECONDS;
		if (model_disagree_scan(app->db, s->id, s->n, s->split, 0, s->count_started ? s->count_at : NULL,
					0, &lim, 0, NULL, &s->dwork, &end))
			return -1;
		s->count_started = 1;
		snprintf(s->count_at, sizeof(s->count_at), "%s", end.last.post_id);
		if (end.done) {
			s->dcount = s->dwork;
			s->counting = 0;
			s->counted = 1;
		}
	}
	if (s->f.active) {
		lim.until = now_seconds() + STEP_SECONDS;
		if (model_disagree_scan(app->db, s->id, s->n, s->split, s->f.back, s->f.has_from ? s->f.from : NULL,
					s->f.inclusive, &lim, s->f.want, &s->f.got, NULL, &end))
			return -1;
		if (end.scanned) {
			snprintf(s->f.from, sizeof(s->f.from), "%s", end.last.post_id);
			s->f.has_from = 1;
			s->f.inclusive = 0;
		}
		if (end.done || s->f.got.n >= s->f.want)
			finish_fetch(s);
	}
	/* Page moves that came while a page was being found. */
	if (!s->f.active && s->queued && s->page.n) {
		start_fetch(s, s->queued > 0 ? F_NEXT : F_PREV);
		s->queued += s->queued > 0 ? -1 : 1;
	}
	/* A window resized while the count or a fetch was under way: the page again, at its size. */
	if (!s->f.active && s->page.n && s->rows != rows_avail())
		start_fetch(s, F_REFRESH);
	s->base.stale = s->counting || s->f.active;
	return 0;
}

/* Starts counting the disagreements of the split again (keep_shown: the old count stays until then). */
static void start_count(struct compare_screen *s, int keep_shown)
{
	s->dwork = 0;
	s->counting = 1;
	s->count_started = 0;
	if (!keep_shown)
		s->counted = 0;
}

static void find_diff(struct compare_screen *s)
{
	int i, k;
	size_t j;
	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->set[i].n; j++) {
			const char *key = s->set[i].v[j].key;
			int differs = 0, seen = 0;
			size_t d;
			for (d = 0; d < s->ndiff; d++)
				if (!strcmp(s->diff[d], key))
					seen = 1;
			if (seen || !strcmp(key, "name"))
				continue;
			for (k = 0; k < s->n; k++) {
				const char *v = kv_get(&s->set[k], key);
				if (!v || strcmp(v, s->set[i].v[j].val))
					differs = 1;
			}
			if (differs) {
				s->diff = xrealloc(s->diff, (s->ndiff + 1) * sizeof(*s->diff));
				s->diff[s->ndiff++] = key;
			}
		}
}

/* The runs, their settings, epochs and class metrics. */
static int load_runs(struct app *app, struct compare_screen *s)
{
	int i, rc;
	clear_data(s);
	for (i = 0; i < s->n; i++) {
		struct eval_list pts;
		rc = model_run(app->db, s->id[i], &s->r[i]);
		if (rc == MODEL_GONE) {
			error("run %lld no longer exists", (long long)s->id[i]);
			return MODEL_GONE;
		}
		if (rc || model_settings(app->db, s->id[i], &s->set[i]) < 0 ||
		    model_epochs(app->db, s->id[i], &s->ep[i]) ||
		    model_eval_points(app->db, s->id[i], s->r[i].best_epoch, &pts))
			return -1;
		s->have_point[i] = pts.n > 0;
		if (pts.n)
			s->point[i] = pts.v[pts.preferred];
		eval_list_release(&pts);
		if (s->have_point[i] && model_class_metrics(app->db, s->id[i], &s->point[i], s->cm[i]))
			return -1;
		{
			char *name = text_clean(s->r[i].name ? s->r[i].name : "");
			snprintf(s->legend[i], sizeof(s->legend[i]), "#%lld %.40s", (long long)s->id[i], name);
			free(name);
		}
	}
	if (model_classes(app->db, s->r[0].label, &s->cls))
		return -1;
	find_diff(s);
	return 0;
}

static int compare_reload(struct app *app, struct screen *base)
{
	struct compare_screen *s = (struct compare_screen *)base;
	int rc;
	/* Nothing under way: the first load, new data, or a new window size. */
	if (!s->counting && !s->f.active) {
		if ((rc = load_runs(app, s)))
			return rc;
		start_count(s, s->counted);
		start_fetch(s, s->page.n ? F_REFRESH : F_HOME);
		/* The scans start in the next pass: this one has read six runs. */
		base->stale = 1;
		return 0;
	}
	return step(app, s);
}

static int col_w(const struct compare_screen *s, int keyw)
{
	int w = (COLS - keyw) / s->n;
	return w < 4 ? 4 : w;
}

static void run_headers(const struct compare_screen *s, int y, int x0, int w)
{
	int i;
	for (i = 0; i < s->n; i++) {
		ui_attr(PAIR_SERIES + i % SERIES_COLOURS, A_BOLD | A_UNDERLINE);
		ui_text(y, x0 + i * w, w - 1, s->legend[i]);
	}
	ui_attr_off();
}

static void draw_settings(struct compare_screen *s)
{
	int keyw = 22, w = col_w(s, keyw), y = 3, i;
	size_t d;
	ui_attr(0, A_BOLD | A_UNDERLINE);
	ui_text(y - 1 + 0, 0, keyw - 1, "SETTING");
	ui_attr_off();
	run_headers(s, y - 1, keyw, w);
	if (!s->ndiff)
		ui_text(y, 0, COLS, "the runs have the same settings");
	if (s->scroll > (int)s->ndiff - 1)
		s->scroll = s->ndiff ? (int)s->ndiff - 1 : 0;
	for (d = (size_t)s->scroll; d < s->ndiff && y < LINES - 1; d++, y++) {
		ui_attr(PAIR_DIM, A_NORMAL);
		ui_text(y, 0, keyw - 1, s->diff[d]);
		ui_attr_off();
		for (i = 0; i < s->n; i++) {
			const char *v = kv_get(&s->set[i], s->diff[d]);
			ui_text(y, keyw + i * w, w - 1, v ? v : "-");
		}
	}
}

static void draw_curves(struct compare_screen *s)
{
	struct chart_series ser[MAXR];
	double *x[MAXR], *yv[MAXR];
	const char *leg[MAXR];
	char title[96];
	int i;
	for (i = 0; i < s->n; i++) {
		ser[i].n = epoch_series(&s->ep[i], metrics[s->metric].split, metrics[s->metric].metric, &x[i], &yv[i]);
		ser[i].x = x[i];
		ser[i].y = yv[i];
		ser[i].colour = i;
		leg[i] = s->legend[i];
	}
	snprintf(title, sizeof(title), "%s (m: next metric)", metrics[s->metric].title);
	/* The legend goes on its own lines when it does not fit the title's. */
	ui_text(2, 0, COLS, title);
	for (i = 0; i < s->n; i++) {
		ui_attr(PAIR_SERIES + i % SERIES_COLOURS, A_BOLD);
		ui_textf(3 + i / 3, (i % 3) * (COLS / 3), COLS / 3 - 1, "\u2500\u2500 %s", leg[i]);
	}
	ui_attr_off();
	ui_chart(4 + (s->n - 1) / 3, 0, COLS, LINES - 5 - (s->n - 1) / 3, "", ser, s->n, NULL);
	for (i = 0; i < s->n; i++) {
		free(x[i]);
		free(yv[i]);
	}
}

static void draw_classes(struct compare_screen *s)
{
	int keyw = 22, w = col_w(s, keyw), y = 4, i, c;
	char a[24];
	ui_attr(PAIR_DIM, A_NORMAL);
	ui_text(2, 0, COLS, "F1 per class at each run's test point (else best validation epoch); delta against the first run");
	ui_attr_off();
	ui_attr(0, A_BOLD | A_UNDERLINE);
	ui_text(3, 0, keyw - 1, "CLASS");
	ui_attr_off();
	run_headers(s, 3, keyw, w);
	for (c = 0; c < s->cls.n && y < LINES - 1; c++, y++) {
		ui_textf(y, 0, keyw - 1, "%d %s", c, s->cls.name[c]);
		for (i = 0; i < s->n; i++) {
			double f = s->have_point[i] ? s->cm[i][c].f1 : NAN, f0 = s->have_point[0] ? s->cm[0][c].f1 : NAN;
			char cell[48];
			fmt_num(a, sizeof(a), "%.3f", f);
			if (i > 0 && !isnan(f) && !isnan(f0))
				snprintf(cell, sizeof(cell), "%s %+.3f", a, f - f0);
			else
				snprintf(cell, sizeof(cell), "%s", a);
			if (i > 0 && !isnan(f) && !isnan(f0) && fabs(f - f0) >= 0.0005)
				ui_attr(f > f0 ? PAIR_GOOD : PAIR_BAD, A_NORMAL);
			ui_text(y, keyw + i * w, w - 1, cell);
			ui_attr_off();
		}
	}
	y++;
	for (i = 0; i < s->n && y < LINES - 1; i++, y++)
		if (s->have_point[i])
			ui_textf(y, 0, COLS, "#%lld: epoch %lld, %s split", (long long)s->id[i],
				 (long long)s->point[i].epoch, s->point[i].split);
}

static void draw_disagree(struct compare_screen *s)
{
	/* Prediction columns share the width, the title keeps at least 10 columns. */
	int pw = (COLS - 11 - 10) / (s->n + 1) - 1, y = 4, i, titlex;
	size_t k;
	if (s->counted)
		ui_textf(2, 0, COLS, "%lld posts of the %s split where the runs' predictions differ (v: split, Enter: post)",
			 (long long)s->dcount, s->split);
	else
		ui_textf(2, 0, COLS, "%lld+ posts of the %s split where the runs' predictions differ (counting)",
			 (long long)s->dwork, s->split);
	if (!s->page.n)
		ui_text(4, 0, COLS, s->f.active ? "searching..." : "none: the runs agree on every post they share");
	if (pw > 12)
		pw = 12;
	ui_attr(0, A_BOLD | A_UNDERLINE);
	ui_text(3, 0, 10, "POST");
	ui_text(3, 11, pw, "TRUE");
	ui_attr_off();
	for (i = 0; i < s->n; i++) {
		ui_attr(PAIR_SERIES + i % SERIES_COLOURS, A_BOLD | A_UNDERLINE);
		ui_textf(3, 11 + (i + 1) * (pw + 1), pw, "#%lld", (long long)s->id[i]);
	}
	ui_attr_off();
	titlex = 11 + (s->n + 1) * (pw + 1);
	ui_attr(0, A_BOLD | A_UNDERLINE);
	ui_text(3, titlex, COLS - titlex, "TITLE");
	ui_attr_off();
	for (k = 0; k < s->page.n && y < LINES - 1; k++, y++) {
		const struct disagree_row *r = &s->page.v[k];
		int sel = (int)k == s->cur;
		ui_attr(sel ? PAIR_SEL : 0, sel ? A_REVERSE : A_NORMAL);
		ui_text_pad(y, 0, COLS, "");
		ui_text(y, 0, 10, r->post_id);
		ui_textf(y, 11, pw, "%d %s", r->label, r->label >= 0 && r->label < s->cls.n ? s->cls.name[r->label] : "?");
		for (i = 0; i < s->n; i++) {
			int p = r->pred[i];
			if (!sel)
				ui_attr(p == r->label ? PAIR_GOOD : PAIR_BAD, A_NORMAL);
			ui_textf(y, 11 + (i + 1) * (pw + 1), pw, "%d %s", p, p >= 0 && p < s->cls.n ? s->cls.name[p] : "?");
		}
		ui_attr(sel ? PAIR_SEL : 0, sel ? A_REVERSE : A_NORMAL);
		ui_text(y, titlex, COLS - titlex, r->title);
		ui_attr_off();
	}
}

static void compare_draw(struct app *app, struct screen *base)
{
	struct compare_screen *s = (struct compare_screen *)base;
	char ids[128] = "";
	int i;
	for (i = 0; i < s->n; i++)
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s#%lld", i ? " " : "", (long long)s->id[i]);
	ui_title(app, "mmdb compare  %s", ids);
	ui_tabs(1, view_names, NVIEWS, s->view);
	switch (s->view) {
	case V_SETTINGS: draw_settings(s); break;
	case V_CURVES: draw_curves(s); break;
	case V_CLASSES: draw_classes(s); break;
	case V_DISAGREE: draw_disagree(s); break;
	}
	ui_hints(app, "Tab/1-4 view  m metric  v split  Enter post  ? help  q back");
}

/* Moves a page forward (+1) or back (-1) now, or after the page being found. */
static void queue_page(struct compare_screen *s, int dir)
{
	if (s->f.active)
		s->queued += dir;
	else
		start_fetch(s, dir > 0 ? F_NEXT : F_PREV);
}

static int compare_key(struct app *app, struct screen *base, enum action a)
{
	struct compare_screen *s = (struct compare_screen *)base;
	switch (a) {
	case ACT_BACK: return K_BACK;
	case ACT_NEXT_VIEW: s->view = (s->view + 1) % NVIEWS; return K_NONE;
	case ACT_PREV_VIEW: s->view = (s->view + NVIEWS - 1) % NVIEWS; return K_NONE;
	case ACT_VIEW1: case ACT_VIEW2: case ACT_VIEW3: case ACT_VIEW4:
		s->view = (int)(a - ACT_VIEW1);
		return K_NONE;
	case ACT_METRIC:
		s->metric = (s->metric + 1) % (int)ARRAY_SIZE(metrics);
		s->view = V_CURVES;
		return K_NONE;
	case ACT_SPLIT:
		snprintf(s->split, sizeof(s->split), "%s", strcmp(s->split, "test") ? "test" : "validate");
		s->view = V_DISAGREE;
		disagree_list_release(&s->page);
		s->cur = 0;
		s->queued = 0;
		start_count(s, 0);
		start_fetch(s, F_HOME);
		return K_RELOAD;
	case ACT_ENTER:
		if (s->view == V_DISAGREE && s->cur < (int)s->page.n)
			app_push(app, post_screen_new(app, s->id[0], s->page.v[s->cur].post_id));
		return K_NONE;
	default: break;
	}
	if (s->view != V_DISAGREE) {
		if (a == ACT_UP && s->scroll > 0)
			s->scroll--;
		else if (a == ACT_DOWN)
			s->scroll++;
		else if (a == ACT_HOME)
			s->scroll = 0;
		return K_NONE;
	}
	/* While a page is being found, moves off the page wait for it. */
	switch (a) {
	case ACT_UP:
		if (s->cur > 0)
			s->cur--;
		else if (s->page.n)
			queue_page(s, -1);
		break;
	case ACT_DOWN:
		if (s->cur + 1 < (int)s->page.n)
			s->cur++;
		else if (s->page.n)
			queue_page(s, 1);
		break;
	case ACT_PGUP: if (s->page.n) queue_page(s, -1); break;
	case ACT_PGDN: if (s->page.n) queue_page(s, 1); break;
	case ACT_HOME: s->queued = 0; start_fetch(s, F_HOME); break;
	case ACT_END: s->queued = 0; start_fetch(s, F_END); break;
	default: return K_NONE;
	}
	return s->f.active ? K_RELOAD : K_NONE;
}

static void compare_release(struct screen *base)
{
	struct compare_screen *s = (struct compare_screen *)base;
	clear_data(s);
	disagree_list_release(&s->page);
	disagree_list_release(&s->f.got);
	free(s);
}

static const struct screen_ops compare_ops = {
	SCR_COMPARE, "compare", compare_reload, compare_draw, compare_key, compare_release,
};

struct screen *compare_screen_new(struct app *app, const int64_t *runs, int n)
{
	struct compare_screen *s = xcalloc(1, sizeof(*s));
	(void)app;
	s->base.ops = &compare_ops;
	s->base.stale = 1;
	s->n = n > MAXR ? MAXR : n;
	memcpy(s->id, runs, (size_t)s->n * sizeof(*runs));
	snprintf(s->split, sizeof(s->split), "validate");
	return &s->base;
}
