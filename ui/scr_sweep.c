/*
 * scr_sweep: one sweep in two views: its trials (parameters, status,
 * metric; best first; Enter opens a trial's run) and a braille scatter of
 * the metric against one swept parameter (a key cycles the parameter; a
 * log axis for values spread over decades, such as learning rates).
 */
#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { V_TRIALS, V_SCATTER, NVIEWS };
static const char *const view_names[NVIEWS] = { "Trials", "Scatter" };

struct sweep_screen {
	struct screen base;
	int64_t id;
	struct sweep_row sw;
	struct trial_list t;
	int view;
	size_t cur, top;
	int64_t cur_trial;   /* keeps the cursor on its trial across reloads */
	int *pw;             /* width of each parameter's column (t.nkeys) */
	int axis;            /* index into t.keys */
	char axis_key[64];   /* keeps the parameter across reloads */
};

/* Where the parameter columns start (after #, status, metric and run). */
#define X_PARAMS 35

/* Width of parameter column k: its name or its widest value, at most 14. */
static int param_width(const struct sweep_screen *s, int k)
{
	size_t i;
	int w = text_width(s->t.keys[k]);
	for (i = 0; i < s->t.n; i++) {
		const struct trial_param *p = trial_param_get(&s->t.v[i], s->t.keys[k]);
		int pw = p ? text_width(p->val) : 1;
		if (pw > w)
			w = pw;
	}
	return w > 14 ? 14 : w;
}

static int sweep_reload(struct app *app, struct screen *base)
{
	struct sweep_screen *s = (struct sweep_screen *)base;
	size_t i;
	int rc, k;
	if (s->t.n && s->cur < s->t.n)
		s->cur_trial = s->t.v[s->cur].id;
	sweep_row_release(&s->sw);
	trial_list_release(&s->t);
	free(s->pw);
	s->pw = NULL;
	rc = model_sweep(app->db, s->id, &s->sw);
	if (rc == MODEL_GONE) {
		error("sweep %lld no longer exists", (long long)s->id);
		return MODEL_GONE;
	}
	if (rc || model_sweep_trials(app->db, s->id, s->sw.goal, &s->t))
		return -1;
	s->cur = 0;
	for (i = 0; i < s->t.n; i++)
		if (s->t.v[i].id == s->cur_trial)
			s->cur = i;
	s->pw = xcalloc((size_t)s->t.nkeys + 1, sizeof(int));
	for (k = 0; k < s->t.nkeys; k++)
		s->pw[k] = param_width(s, k);
	s->axis = 0;
	for (k = 0; k < s->t.nkeys; k++)
		if (!strcmp(s->t.keys[k], s->axis_key))
			s->axis = k;
	return 0;
}

/* The summary under the tabs: how the sweep searches and where it stands. */
static void draw_summary(struct sweep_screen *s, int y)
{
	const struct sweep_row *w = &s->sw;
	char best[64];
	if (isnan(w->best))
		snprintf(best, sizeof(best), "none yet");
	else
		snprintf(best, sizeof(best), "%.4f (trial %lld)", w->best, (long long)w->best_idx);
	ui_textf(y, 0, COLS, "%s search, %s %s, pruning %s;  best %s", w->method ? w->method : "?",
		 w->goal && !strcmp(w->goal, "min") ? "minimise" : "maximise", w->metric ? w->metric : "?",
		 w->prune ? w->prune : "none", best);
	ui_attr(PAIR_DIM, A_NORMAL);
	ui_textf(y + 1, 0, COLS, "trials: %lld of %lld done, %lld running, %lld pending, %lld pruned, %lld failed",
		 (long long)w->done, (long long)w->total, (long long)w->running, (long long)w->pending,
		 (long long)w->pruned, (long long)w->failed);
	ui_attr_off();
}

static void draw_trials(struct app *app, struct sweep_screen *s)
{
	int y0 = 4, rows = LINES - 1 - (y0 + 1), y, x, k;
	size_t i;
	char buf[64];
	(void)app;
	ui_attr(0, A_BOLD | A_UNDERLINE);
	ui_text_pad(y0, 0, COLS, "");
	ui_text(y0, 0, COLS, "    # STATUS         METRIC   RUN");
	x = X_PARAMS;
	for (k = 0; k < s->t.nkeys && x < COLS; k++) {
		int w = s->pw ? s->pw[k] : 14;
		ui_text(y0, x, COLS - x, s->t.keys[k]);
		x += w + 2;
	}
	if (x < COLS)
		ui_text(y0, x, COLS - x, "REASON");
	ui_attr_off();
	if (!s->t.n)
		ui_text(y0 + 2, 2, COLS - 4, "this sweep has no trials");
	if (s->cur >= s->t.n && s->t.n)
		s->cur = s->t.n - 1;
	if (s->cur < s->top)
		s->top = s->cur;
	if (rows > 0 && s->cur >= s->top + (size_t)rows)
		s->top = s->cur - (size_t)rows + 1;
	for (y = 0, i = s->top; y < rows && i < s->t.n; y++, i++) {
		const struct trial_row *t = &s->t.v[i];
		int sel = i == s->cur, yy = y0 + 1 + y;
		if (sel)
			ui_attr(PAIR_SEL, A_REVERSE);
		ui_text_pad(yy, 0, COLS, "");
		ui_textf(yy, 0, 6, "%5lld", (long long)t->idx);
		if (!sel && t->status) {
			if (!strcmp(t->status, "running"))
				ui_attr(PAIR_RUN, A_BOLD);
			else if (!strcmp(t->status, "failed") || !strcmp(t->status, "crashed"))
				ui_attr(PAIR_BAD, A_NORMAL);
			else if (!strcmp(t->status, "pruned") || !strcmp(t->status, "pending"))
				ui_attr(PAIR_DIM, A_NORMAL);
		}
		ui_text(yy, 6, 14, t->status ? t->status : "?");
		if (!sel)
			ui_attr_off();
		if (!sel && t->idx == s->sw.best_idx && !isnan(t->metric))
			ui_attr(PAIR_GOOD, A_BOLD);
		ui_text_right(yy, 20, 7, fmt_num(buf, sizeof(buf), "%.4f", t->metric));
		if (!sel)
			ui_attr_off();
		ui_text_right(yy, 28, 5, t->run_id > 0 ? fmt_num(buf, sizeof(buf), "%.0f", (double)t->run_id) : "-");
		x = X_PARAMS;
		for (k = 0; k < s->t.nkeys && x < COLS; k++) {
			const struct trial_param *p = trial_param_get(t, s->t.keys[k]);
			int w = s->pw ? s->pw[k] : 14;
			ui_text(yy, x, w < COLS - x ? w : COLS - x, p ? p->val : "-");
			x += w + 2;
		}
		if (x < COLS && t->reason)
			ui_text(yy, x, COLS - x, t->reason);
		ui_attr_off();
	}
}

static void draw_scatter(struct app *app, struct sweep_screen *s)
{
	struct chart_series ser[2];
	double *x = NULL, *y = NULL, sx[1], sy[1];
	char **labels = NULL, title[160];
	int n, nlabels = 0, logx = 0, k, h = LINES - 1 - 4;
	const char *key;
	(void)app;
	if (!s->t.nkeys) {
		ui_text(4, 0, COLS, "the trials have no parameters to plot");
		return;
	}
	key = s->t.keys[s->axis];
	n = trial_scatter(&s->t, key, &x, &y, &labels, &nlabels, &logx);
	ser[0].x = x;
	ser[0].y = y;
	ser[0].n = n;
	ser[0].colour = 0;
	/* The trial under the cursor (in the trials view) as a point of its own. */
	ser[1].n = 0;
	ser[1].x = sx;
	ser[1].y = sy;
	ser[1].colour = 1;
	if (s->cur < s->t.n) {
		const struct trial_row *t = &s->t.v[s->cur];
		const struct trial_param *p = trial_param_get(t, key);
		if (p && !isnan(t->metric)) {
			sx[0] = p->num;
			for (k = 0; k < nlabels; k++)
				if (!strcmp(labels[k], p->val))
					sx[0] = k;
			sy[0] = t->metric;
			ser[1].n = 1;
		}
	}
	snprintf(title, sizeof(title), "%s against %s: %d of %zu trials  (a: next parameter, %d of %d)",
		 s->sw.metric ? s->sw.metric : "metric", key, n, s->t.n, s->axis + 1, s->t.nkeys);
	ui_scatter(4, 0, COLS, h, title, ser, 2, logx, key, labels, nlabels);
	for (k = 0; k < nlabels; k++)
		free(labels[k]);
	free(labels);
	free(x);
	free(y);
}

static void sweep_draw(struct app *app, struct screen *base)
{
	struct sweep_screen *s = (struct sweep_screen *)base;
	ui_title(app, "mmdb sweep %lld  %s  [%lld/%lld done]", (long long)s->id, s->sw.name ? s->sw.name : "",
		 (long long)s->sw.done, (long long)s->sw.total);
	ui_tabs(1, view_names, NVIEWS, s->view);
	draw_summary(s, 2);
	switch (s->view) {
	case V_TRIALS: draw_trials(app, s); break;
	case V_SCATTER: draw_scatter(app, s); break;
	}
	ui_hints(app, s->view == V_TRIALS ? "Enter the trial's run  Tab/1-2 view  a parameter  ? help  q back"
					  : "a A parameter  Up/Down trial  Tab/1-2 view  ? help  q back");
}

static int sweep_key(struct app *app, struct screen *base, enum action a)
{
	struct sweep_screen *s = (struct sweep_screen *)base;
	size_t page = LINES > 6 ? (size_t)LINES - 6 : 1;
	switch (a) {
	case ACT_BACK: return K_BACK;
	case ACT_NEXT_VIEW: s->view = (s->view + 1) % NVIEWS; break;
	case ACT_PREV_VIEW: s->view = (s->view + NVIEWS - 1) % NVIEWS; break;
	case ACT_VIEW1: case ACT_VIEW2:
		s->view = (int)(a - ACT_VIEW1);
		break;
	case ACT_UP: if (s->cur > 0) s->cur--; break;
	case ACT_DOWN: if (s->cur + 1 < s->t.n) s->cur++; break;
	case ACT_PGUP: s->cur = s->cur > page ? s->cur - page : 0; break;
	case ACT_PGDN: s->cur = s->cur + page < s->t.n ? s->cur + page : (s->t.n ? s->t.n - 1 : 0); break;
	case ACT_HOME: s->cur = 0; break;
	case ACT_END: s->cur = s->t.n ? s->t.n - 1 : 0; break;
	case ACT_AXIS_NEXT:
	case ACT_AXIS_PREV:
		if (!s->t.nkeys)
			break;
		s->axis = (s->axis + (a == ACT_AXIS_NEXT ? 1 : s->t.nkeys - 1)) % s->t.nkeys;
		snprintf(s->axis_key, sizeof(s->axis_key), "%s", s->t.keys[s->axis]);
		break;
	case ACT_ENTER:
		if (s->cur >= s->t.n)
			break;
		if (s->t.v[s->cur].run_id > 0)
			app_push(app, run_screen_new(app, s->t.v[s->cur].run_id));
		else
			app_message(app, "trial %lld has no run yet (%s)", (long long)s->t.v[s->cur].idx,
				    s->t.v[s->cur].status ? s->t.v[s->cur].status : "?");
		break;
	default: break;
	}
	if (s->cur < s->t.n)
		s->cur_trial = s->t.v[s->cur].id;
	return K_NONE;
}

static void sweep_release(struct screen *base)
{
	struct sweep_screen *s = (struct sweep_screen *)base;
	sweep_row_release(&s->sw);
	trial_list_release(&s->t);
	free(s->pw);
	free(s);
}

static const struct screen_ops sweep_ops = {
	SCR_SWEEP, "sweep", sweep_reload, sweep_draw, sweep_key, sweep_release,
};

struct screen *sweep_screen_new(struct app *app, int64_t sweep)
{
	struct sweep_screen *s = xcalloc(1, sizeof(*s));
	(void)app;
	s->base.ops = &sweep_ops;
	s->base.stale = 1;
	s->id = sweep;
	return &s->base;
}
