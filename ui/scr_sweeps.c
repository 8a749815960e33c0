/*
 * scr_sweeps: every sweep as a row: its name, how it samples, the metric
 * it optimises, how many trials are done of how many, and the best metric
 * so far with its trial. Enter opens the sweep's trials (scr_sweep.c).
 */
#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sweeps_screen {
	struct screen base;
	struct sweep_list l;
	size_t cur, top;
	int64_t cur_id;   /* keeps the cursor on its sweep across reloads */
};

static int sweeps_reload(struct app *app, struct screen *base)
{
	struct sweeps_screen *s = (struct sweeps_screen *)base;
	size_t i;
	if (s->l.n && s->cur < s->l.n)
		s->cur_id = s->l.v[s->cur].id;
	sweep_list_release(&s->l);
	if (model_sweeps(app->db, &s->l))
		return -1;
	s->cur = 0;
	for (i = 0; i < s->l.n; i++)
		if (s->l.v[i].id == s->cur_id)
			s->cur = i;
	return 0;
}

/* "0.6123 #3", or "-" before any trial has a metric. */
static void best_text(const struct sweep_row *r, char *buf, size_t n)
{
	if (isnan(r->best))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.4f #%lld", r->best, (long long)r->best_idx);
}

static void sweeps_draw(struct app *app, struct screen *base)
{
	struct sweeps_screen *s = (struct sweeps_screen *)base;
	int rows = LINES - 3, y, name_w, fixed = 4 + 1 + 6 + 1 + 17 + 1 + 6 + 1 + 9 + 1 + 9 + 1 + 11 + 1;
	size_t i;
	char buf[256], trials[48], best[48], run[32];

	ui_title(app, "mmdb sweeps  %zu sweep%s", s->l.n, s->l.n == 1 ? "" : "s");
	name_w = COLS - 2 - fixed;
	if (name_w > 40)
		name_w = 40;
	if (name_w < 6)
		name_w = 6;
	ui_attr(0, A_BOLD | A_UNDERLINE);
	snprintf(buf, sizeof(buf), "%4s %-*s %-6s %-17s %-6s %9s %9s %11s", "ID", name_w, "NAME", "METHOD",
		 "METRIC", "PRUNE", "DONE", "RUN/PEND", "BEST");
	ui_text_pad(1, 0, COLS, "");
	ui_text(1, 2, COLS - 2, buf);
	ui_attr_off();
	if (!s->l.n)
		ui_text(3, 2, COLS - 4, "no sweeps yet: create one with 'mmdb sweep create'");
	if (s->cur >= s->l.n && s->l.n)
		s->cur = s->l.n - 1;
	if (s->cur < s->top)
		s->top = s->cur;
	if (rows > 0 && s->cur >= s->top + (size_t)rows)
		s->top = s->cur - (size_t)rows + 1;
	for (y = 0, i = s->top; y < rows && i < s->l.n; y++, i++) {
		const struct sweep_row *r = &s->l.v[i];
		char *name = text_clean(r->name ? r->name : "");
		int sel = i == s->cur;
		snprintf(trials, sizeof(trials), "%lld/%lld", (long long)r->done, (long long)r->total);
		snprintf(run, sizeof(run), "%lld/%lld", (long long)r->running, (long long)r->pending);
		best_text(r, best, sizeof(best));
		snprintf(buf, sizeof(buf), "%-6s %-17.17s %-6s %9s %9s %11s", r->method ? r->method : "",
			 r->metric ? r->metric : "", r->prune ? r->prune : "", trials, run, best);
		if (sel)
			ui_attr(PAIR_SEL, A_REVERSE);
		else if (r->running > 0)
			ui_attr(PAIR_RUN, A_BOLD);
		ui_text_pad(2 + y, 0, COLS, "");
		ui_textf(2 + y, 2, 4, "%4lld", (long long)r->id);
		ui_text(2 + y, 7, name_w, name);
		ui_text(2 + y, 8 + name_w, COLS - 8 - name_w, buf);
		free(name);
		ui_attr_off();
	}
	ui_hints(app, "Enter trials  Up/Down move  ? help  q back");
}

static int sweeps_key(struct app *app, struct screen *base, enum action a)
{
	struct sweeps_screen *s = (struct sweeps_screen *)base;
	size_t page = LINES > 4 ? (size_t)LINES - 4 : 1;
	switch (a) {
	case ACT_BACK: return K_BACK;
	case ACT_UP: if (s->cur > 0) s->cur--; break;
	case ACT_DOWN: if (s->cur + 1 < s->l.n) s->cur++; break;
	case ACT_PGUP: s->cur = s->cur > page ? s->cur - page : 0; break;
	case ACT_PGDN: s->cur = s->cur + page < s->l.n ? s->cur + page : (s->l.n ? s->l.n - 1 : 0); break;
	case ACT_HOME: s->cur = 0; break;
	case ACT_END: s->cur = s->l.n ? s->l.n - 1 : 0; break;
	case ACT_ENTER:
		if (s->cur < s->l.n)
			app_push(app, sweep_screen_new(app, s->l.v[s->cur].id));
		break;
	default: break;
	}
	if (s->cur < s->l.n)
		s->cur_id = s->l.v[s->cur].id;
	return K_NONE;
}

static void sweeps_release(struct screen *base)
{
	struct sweeps_screen *s = (struct sweeps_screen *)base;
	sweep_list_release(&s->l);
	free(s);
}

static const struct screen_ops sweeps_ops = {
	SCR_SWEEPS, "sweeps", sweeps_reload, sweeps_draw, sweeps_key, sweeps_release,
};

struct screen *sweeps_screen_new(struct app *app)
{
	struct sweeps_screen *s = xcalloc(1, sizeof(*s));
	(void)app;
	s->base.ops = &sweeps_ops;
	s->base.stale = 1;
	return &s->base;
}
