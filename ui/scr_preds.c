/*
 * scr_preds: a run's predictions on one split, a page at a time, with
 * filters for misclassified posts, true and predicted class, a confusion
 * cell, confidently wrong and likely label errors first, and title search.
 *
 * Nothing waits for the whole split. Pages are found by keyset scans from
 * the page's first or last row (model_pred_scan), and the counts come from
 * a histogram of (true, predicted) class built by a scan in steps
 * (model_pred_hist_scan): any label / predicted / misclassified filter is
 * then counted from its cells without another query. Each loop pass does at
 * most one bounded step of each, and the screen asks for the next pass
 * until both are finished; keys are handled between steps.
 */
#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PROMPT_SEARCH = 1 };

/*
 * One pass's share of work: a count step and a page step each look at no
 * more than STEP_ROWS rows and stop after STEP_SECONDS.
 */
#define STEP_ROWS 4096
#define STEP_SECONDS 0.006

enum fetch_kind { F_HOME, F_END, F_NEXT, F_PREV, F_REFRESH };

struct preds_screen {
	struct screen base;
	struct pred_query q;
	struct run_row r;
	struct classes cls;
	/* Counts: hist is complete when `counted`; work is the count in progress. */
	int64_t hist[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES], work[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES];
	int counted, counting, count_started;
	struct scan_key count_at;
	/* The page shown, the cursor in it, and the page's place in the order. */
	struct pred_list page;
	int cur;
	int64_t pos;     /* index of page.v[0] in the filtered order; -1 unknown */
	int queued;      /* pages to move (+ next, - previous) once the fetch is done */
	int rows;        /* the page size the last fetch was started for */
	/* A page being found. */
	struct {
		int active, back, has_from, inclusive;
		enum fetch_kind kind;
		struct scan_key from;
		size_t want;
		struct pred_list got;
	} f;
};

static int page_rows(void)
{
	return LINES > 5 ? LINES - 4 : 1;
}

static void start_count(struct preds_screen *s, int keep_shown)
{
	memset(s->work, 0, sizeof(s->work));
	s->counting = 1;
	s->count_started = 0;
	if (!keep_shown)
		s->counted = 0;
}

/* Starts finding a page; the current page stays shown until it is found. */
static void start_fetch(struct preds_screen *s, enum fetch_kind kind)
{
	pred_list_release(&s->f.got);
	memset(&s->f, 0, sizeof(s->f));
	s->f.active = 1;
	s->f.kind = kind;
	s->f.want = (size_t)page_rows();
	s->rows = page_rows();
	s->f.back = kind == F_END || kind == F_PREV;
	if (kind == F_NEXT || kind == F_PREV || kind == F_REFRESH) {
		const struct pred_row *r = kind == F_NEXT ? &s->page.v[s->page.n - 1] : &s->page.v[0];
		scan_key_of(&s->f.from, &s->q, r);
		s->f.has_from = 1;
		s->f.inclusive = kind == F_REFRESH;
	}
}

static void reverse_rows(struct pred_list *l)
{
	size_t i;
	for (i = 0; i < l->n / 2; i++) {
		struct pred_row t = l->v[i];
		l->v[i] = l->v[l->n - 1 - i];
		l->v[l->n - 1 - i] = t;
	}
}

/* Moves row i of `from` to the end of `to` (from keeps an empty row). */
static void take_row(struct pred_list *to, struct pred_list *from, size_t i)
{
	ALLOC_GROW(to->v, to->n + 1, to->alloc);
	to->v[to->n++] = from->v[i];
	from->v[i].post_id = from->v[i].title = NULL;
}

/* The fetch is finished: its rows become the page (topped up from the old one near an end). */
static void finish_fetch(struct preds_screen *s)
{
	struct pred_list *got = &s->f.got, old = s->page, page = { 0 };
	size_t want = s->f.want, keep = 0, i;
	enum fetch_kind kind = s->f.kind;
	if (s->f.back)
		reverse_rows(got);
	s->f.active = 0;
	if ((kind == F_NEXT || kind == F_PREV) && !got->n) {
		/* Already at that end: the cursor goes to its row. */
		s->cur = kind == F_NEXT && old.n ? (int)old.n - 1 : 0;
		if (kind == F_PREV)
			s->pos = 0;
		pred_list_release(got);
		return;
	}
	if ((kind == F_NEXT || kind == F_PREV) && got->n < want)
		keep = want - got->n < old.n ? want - got->n : old.n;
	if (kind == F_NEXT)
		for (i = old.n - keep; i < old.n; i++)
			take_row(&page, &old, i);
	for (i = 0; i < got->n; i++)
		take_row(&page, got, i);
	if (kind == F_PREV)
		for (i = 0; i < keep; i++)
			take_row(&page, &old, i);
	switch (kind) {
	case F_NEXT:
		if (s->pos >= 0)
			s->pos += (int64_t)(old.n - keep);
		s->cur = (int)keep;          /* the row after the old page */
		break;
	case F_PREV:
		if (s->pos >= 0 || got->n < want)
			s->pos = got->n < want ? 0 : s->pos - (int64_t)got->n;
		s->cur = (int)got->n - 1;    /* the row before the old page */
		break;
	case F_HOME:
		s->pos = 0;
		s->cur = 0;
		break;
	case F_END:
		s->pos = s->counted ? pred_hist_count(&s->q, s->hist) - (int64_t)page.n : -1;
		s->cur = (int)page.n - 1;
		break;
	case F_REFRESH:
		break;
	}
	pred_list_release(got);
	pred_list_release(&old);
	s->page = page;
	if (s->cur >= (int)s->page.n)
		s->cur = (int)s->page.n - 1;
	if (s->cur < 0)
		s->cur = 0;
}

/* One bounded step of the count and of the fetch. */
static int step(struct app *app, struct preds_screen *s)
{
	struct scan_end end;
	struct scan_limit lim = { STEP_ROWS, 0 };
	if (s->counting) {
		lim.until = now_seconds() + STEP_SECONDS;
		if (model_pred_hist_scan(app->db, &s->q, s->count_started ? &s->count_at : NULL, &lim,
					 s->work, &end))
			return -1;
		s->count_started = 1;
		s->count_at = end.last;
		if (end.done) {
			memcpy(s->hist, s->work, sizeof(s->hist));
			s->counting = 0;
			s->counted = 1;
		}
	}
	if (s->f.active) {
		lim.until = now_seconds() + STEP_SECONDS;
		if (model_pred_scan(app->db, &s->q, s->f.back, s->f.has_from ? &s->f.from : NULL,
				    s->f.inclusive, &lim, s->f.want, &s->f.got, &end))
			return -1;
		if (end.scanned) {
			s->f.from = end.last;
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
	if (!s->f.active && s->page.n && s->rows != page_rows())
		start_fetch(s, F_REFRESH);
	s->base.stale = s->counting || s->f.active;
	return 0;
}

static int preds_reload(struct app *app, struct screen *base)
{
	struct preds_screen *s = (struct preds_screen *)base;
	int rc;
	run_row_release(&s->r);
	rc = model_run(app->db, s->q.run, &s->r);
	if (rc == MODEL_GONE) {
		error("run %lld no longer exists", (long long)s->q.run);
		return MODEL_GONE;
	}
	if (rc || model_classes(app->db, s->r.label, &s->cls))
		return -1;
	/* Nothing under way: the first load, new data, or a new window size. */
	if (!s->counting && !s->f.active) {
		start_count(s, s->counted);
		start_fetch(s, s->page.n ? F_REFRESH : F_HOME);
	}
	return step(app, s);
}

static const char *class_name(const struct preds_screen *s, int c)
{
	return c >= 0 && c < s->cls.n ? s->cls.name[c] : "?";
}

static void preds_draw(struct app *app, struct screen *base)
{
	struct preds_screen *s = (struct preds_screen *)base;
	char filt[512] = "", num[16], count[64], rows[64] = "";
	int y, title_w;
	size_t k;
	if (s->q.wrong)
		strcat(filt, " misclassified");
	if (s->q.label >= 0)
		snprintf(filt + strlen(filt), sizeof(filt) - strlen(filt), " true=%d %s", s->q.label,
			 class_name(s, s->q.label));
	if (s->q.pred >= 0)
		snprintf(filt + strlen(filt), sizeof(filt) - strlen(filt), " pred=%d %s", s->q.pred,
			 class_name(s, s->q.pred));
	if (s->q.order == ORDER_CONF_WRONG)
		strcat(filt, " confidently-wrong-first");
	if (s->q.order == ORDER_LOW_TRUE)
		strcat(filt, " lowest-true-prob-first");
	if (s->q.search[0])
		snprintf(filt + strlen(filt), sizeof(filt) - strlen(filt), " title~\"%.60s\"", s->q.search);
	if (s->counted)
		snprintf(count, sizeof(count), "%lld posts", (long long)pred_hist_count(&s->q, s->hist));
	else
		snprintf(count, sizeof(count), "%lld+ posts (counting)",
			 (long long)pred_hist_count(&s->q, s->work));
	if (s->pos >= 0 && s->page.n)
		snprintf(rows, sizeof(rows), "  rows %lld-%lld", (long long)s->pos + 1,
			 (long long)(s->pos + (int64_t)s->page.n));
	ui_title(app, "mmdb predictions  run %lld %s  %s split  %s", (long long)s->q.run,
		 s->r.name ? s->r.name : "", s->q.split, count);
	ui_attr(PAIR_DIM, A_NORMAL);
	ui_textf(1, 0, COLS, "filter:%s%s", filt[0] ? filt : " none", rows);
	ui_attr_off();
	title_w = COLS - 56;
	ui_attr(0, A_BOLD | A_UNDERLINE);
	ui_text_pad(2, 0, COLS, "");
	ui_text(2, 0, 8, "POST");
	ui_text(2, 9, 14, "TRUE");
	ui_text(2, 24, 14, "PREDICTED");
	ui_text(2, 39, 10, "P(pred)");
	ui_text(2, 50, 5, "P(tr)");
	ui_text(2, 56, title_w, "TITLE");
	ui_attr_off();
	if (!s->page.n)
		ui_text(4, 0, COLS, s->f.active ? "searching..." : "no predictions match (x clears the filters)");
	for (y = 3, k = 0; k < s->page.n && y < LINES - 1; k++, y++) {
		const struct pred_row *p = &s->page.v[k];
		int sel = (int)k == s->cur, wrong = p->pred != p->label;
		ui_attr(sel ? PAIR_SEL : 0, sel ? A_REVERSE : A_NORMAL);
		ui_text_pad(y, 0, COLS, "");
		ui_text(y, 0, 8, p->post_id);
		ui_textf(y, 9, 14, "%d %s", p->label, class_name(s, p->label));
		if (wrong && !sel)
			ui_attr(PAIR_BAD, A_BOLD);
		ui_textf(y, 24, 14, "%d %s", p->pred, class_name(s, p->pred));
		ui_attr(sel ? PAIR_SEL : PAIR_SERIES, sel ? A_REVERSE : A_NORMAL);
		ui_bar(y, 39, 5, p->prob_pred);
		ui_attr(sel ? PAIR_SEL : 0, sel ? A_REVERSE : A_NORMAL);
		ui_text(y, 45, 4, fmt_num(num, sizeof(num), "%.2f", p->prob_pred));
		ui_text(y, 50, 5, fmt_num(num, sizeof(num), "%.2f", p->prob_label));
		ui_text(y, 56, title_w, p->title);
		ui_attr_off();
	}
	ui_hints(app, "Enter post  v split  m wrong  t/p class  w l order  / search  x clear  ? help  q back");
}

/* A filter or order changed: the first page of the new selection. */
static int refilter(struct preds_screen *s, int recount)
{
	if (recount)
		start_count(s, 0);
	s->queued = 0;
	start_fetch(s, F_HOME);
	pred_list_release(&s->page);
	s->cur = 0;
	s->pos = 0;
	return K_RELOAD;
}

/* Moves a page forward (+1) or back (-1) now, or after the page being found. */
static void queue_page(struct preds_screen *s, int dir)
{
	if (s->f.active)
		s->queued += dir;
	else
		start_fetch(s, dir > 0 ? F_NEXT : F_PREV);
}

static int preds_key(struct app *app, struct screen *base, enum action a)
{
	struct preds_screen *s = (struct preds_screen *)base;
	int n = (int)s->page.n;
	/* While a page is being found, moves off the page wait for it. */
	int busy = s->f.active;
	switch (a) {
	case ACT_BACK: return K_BACK;
	case ACT_UP:
		if (s->cur > 0)
			s->cur--;
		else if (n && (busy || s->pos != 0))
			queue_page(s, -1);
		break;
	case ACT_DOWN:
		if (s->cur + 1 < n)
			s->cur++;
		else if (n)
			queue_page(s, 1);
		break;
	case ACT_PGUP: if (n) queue_page(s, -1); break;
	case ACT_PGDN: if (n) queue_page(s, 1); break;
	case ACT_HOME: s->queued = 0; start_fetch(s, F_HOME); break;
	case ACT_END: s->queued = 0; start_fetch(s, F_END); break;
	case ACT_ENTER:
		if (s->cur < n)
			app_push(app, post_screen_new(app, s->q.run, s->page.v[s->cur].post_id));
		return K_NONE;
	case ACT_SPLIT:
		snprintf(s->q.split, sizeof(s->q.split), "%s", strcmp(s->q.split, "test") ? "test" : "validate");
		return refilter(s, 1);
	case ACT_WRONG: s->q.wrong = !s->q.wrong; return refilter(s, 0);
	case ACT_TRUE_CLASS:
		s->q.label = s->q.label + 1 >= s->cls.n ? -1 : s->q.label + 1;
		return refilter(s, 0);
	case ACT_PRED_CLASS:
		s->q.pred = s->q.pred + 1 >= s->cls.n ? -1 : s->q.pred + 1;
		return refilter(s, 0);
	case ACT_CONF_WRONG:
		s->q.order = s->q.order == ORDER_CONF_WRONG ? ORDER_POST : ORDER_CONF_WRONG;
		return refilter(s, 0);
	case ACT_LOW_TRUE:
		s->q.order = s->q.order == ORDER_LOW_TRUE ? ORDER_POST : ORDER_LOW_TRUE;
		return refilter(s, 0);
	case ACT_SEARCH:
		app_prompt(app, PROMPT_SEARCH, "search titles:", s->q.search);
		return K_NONE;
	case ACT_PROMPT_DONE: {
		int changed = strcmp(s->q.search, app->prompt.buf) != 0;
		snprintf(s->q.search, sizeof(s->q.search), "%.127s", app->prompt.buf);
		return refilter(s, changed);
	}
	case ACT_CLEAR: {
		int changed = s->q.search[0] != 0;
		s->q.label = s->q.pred = -1;
		s->q.wrong = 0;
		s->q.order = ORDER_POST;
		s->q.search[0] = 0;
		return refilter(s, changed);
	}
	default:
		return K_NONE;
	}
	return s->f.active ? K_RELOAD : K_NONE;
}

static void preds_release(struct screen *base)
{
	struct preds_screen *s = (struct preds_screen *)base;
	run_row_release(&s->r);
	pred_list_release(&s->page);
	pred_list_release(&s->f.got);
	free(s);
}

static const struct screen_ops preds_ops = {
	SCR_PREDS, "predictions", preds_reload, preds_draw, preds_key, preds_release,
};

struct screen *preds_screen_new(struct app *app, int64_t run, const char *split, int label, int pred)
{
	struct preds_screen *s = xcalloc(1, sizeof(*s));
	(void)app;
	s->base.ops = &preds_ops;
	s->base.stale = 1;
	s->q.run = run;
	snprintf(s->q.split, sizeof(s->q.split), "%s", split && !strcmp(split, "test") ? "test" : "validate");
	s->q.label = label;
	s->q.pred = pred;
	s->q.order = ORDER_POST;
	return &s->base;
}
