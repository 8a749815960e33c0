/*
 * scr_preds: a run's predictions on one split, a page at a time (LIMIT /
 * OFFSET on indexed orders; the split is never loaded whole), with filters
 * for misclassified posts, true and predicted class, a confusion cell,
 * confidently wrong and likely label errors first, and title search.
 */
#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PROMPT_SEARCH = 1 };

struct preds_screen {
	struct screen base;
	struct pred_query q;
	struct run_row r;
	struct classes cls;
	int64_t count, cur, top;
	int count_stale;
	struct pred_list page;
	int64_t page_top;
	int page_rows;
};

static int page_rows(void)
{
	return LINES > 5 ? LINES - 4 : 1;
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
	if (rc || model_classes(app->db, s->r.label, &s->cls) ||
	    model_pred_count(app->db, &s->q, &s->count))
		return -1;
	if (s->cur >= s->count)
		s->cur = s->count > 0 ? s->count - 1 : 0;
	s->page_rows = page_rows();
	if (s->cur < s->top)
		s->top = s->cur;
	if (s->cur >= s->top + s->page_rows)
		s->top = s->cur - s->page_rows + 1;
	pred_list_release(&s->page);
	s->page_top = s->top;
	return model_pred_page(app->db, &s->q, s->top, s->page_rows, s->count, &s->page);
}

static const char *class_name(const struct preds_screen *s, int c)
{
	return c >= 0 && c < s->cls.n ? s->cls.name[c] : "?";
}

static void preds_draw(struct app *app, struct screen *base)
{
	struct preds_screen *s = (struct preds_screen *)base;
	char filt[512] = "", num[16];
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
	ui_title(app, "mmdb predictions  run %lld %s  %s split  %lld posts", (long long)s->q.run,
		 s->r.name ? s->r.name : "", s->q.split, (long long)s->count);
	ui_attr(PAIR_DIM, A_NORMAL);
	ui_textf(1, 0, COLS, "filter:%s", filt[0] ? filt : " none");
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
	if (!s->count)
		ui_text(4, 0, COLS, "no predictions match (x clears the filters)");
	for (y = 3, k = 0; k < s->page.n && y < LINES - 1; k++, y++) {
		const struct pred_row *p = &s->page.v[k];
		int64_t idx = s->page_top + (int64_t)k;
		int sel = idx == s->cur, wrong = p->pred != p->label;
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

static int preds_key(struct app *app, struct screen *base, enum action a)
{
	struct preds_screen *s = (struct preds_screen *)base;
	int64_t page = page_rows();
	switch (a) {
	case ACT_BACK: return K_BACK;
	case ACT_UP: if (s->cur > 0) s->cur--; break;
	case ACT_DOWN: if (s->cur + 1 < s->count) s->cur++; break;
	case ACT_PGUP: s->cur = s->cur > page ? s->cur - page : 0; s->top = s->top > page ? s->top - page : 0; break;
	case ACT_PGDN:
		s->cur = s->cur + page < s->count ? s->cur + page : (s->count ? s->count - 1 : 0);
		s->top = s->top + page < s->count ? s->top + page : s->top;
		break;
	case ACT_HOME: s->cur = s->top = 0; break;
	case ACT_END: s->cur = s->count ? s->count - 1 : 0; break;
	case ACT_ENTER:
		if (s->cur >= s->page_top && s->cur < s->page_top + (int64_t)s->page.n)
			app_push(app, post_screen_new(app, s->q.run, s->page.v[s->cur - s->page_top].post_id));
		return K_NONE;
	case ACT_SPLIT:
		snprintf(s->q.split, sizeof(s->q.split), "%s", strcmp(s->q.split, "test") ? "test" : "validate");
		s->cur = s->top = 0;
		return K_RELOAD;
	case ACT_WRONG: s->q.wrong = !s->q.wrong; s->cur = s->top = 0; return K_RELOAD;
	case ACT_TRUE_CLASS:
		s->q.label = s->q.label + 1 >= s->cls.n ? -1 : s->q.label + 1;
		s->cur = s->top = 0;
		return K_RELOAD;
	case ACT_PRED_CLASS:
		s->q.pred = s->q.pred + 1 >= s->cls.n ? -1 : s->q.pred + 1;
		s->cur = s->top = 0;
		return K_RELOAD;
	case ACT_CONF_WRONG:
		s->q.order = s->q.order == ORDER_CONF_WRONG ? ORDER_POST : ORDER_CONF_WRONG;
		s->cur = s->top = 0;
		return K_RELOAD;
	case ACT_LOW_TRUE:
		s->q.order = s->q.order == ORDER_LOW_TRUE ? ORDER_POST : ORDER_LOW_TRUE;
		s->cur = s->top = 0;
		return K_RELOAD;
	case ACT_SEARCH:
		app_prompt(app, PROMPT_SEARCH, "search titles:", s->q.search);
		return K_NONE;
	case ACT_PROMPT_DONE:
		snprintf(s->q.search, sizeof(s->q.search), "%.127s", app->prompt.buf);
		s->cur = s->top = 0;
		return K_RELOAD;
	case ACT_CLEAR:
		s->q.label = s->q.pred = -1;
		s->q.wrong = 0;
		s->q.order = ORDER_POST;
		s->q.search[0] = 0;
		s->cur = s->top = 0;
		return K_RELOAD;
	default:
		return K_NONE;
	}
	/* Moving the cursor past the page loads the next page only. */
	if (s->cur < s->top)
		s->top = s->cur;
	if (s->cur >= s->top + page)
		s->top = s->cur - page + 1;
	if (s->top != s->page_top) {
		pred_list_release(&s->page);
		s->page_top = s->top;
		if (model_pred_page(app->db, &s->q, s->top, (int)page, s->count, &s->page))
			app_message(app, "%s", app_last_error(app));
	}
	return K_NONE;
}

static void preds_release(struct screen *base)
{
	struct preds_screen *s = (struct preds_screen *)base;
	run_row_release(&s->r);
	pred_list_release(&s->page);
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
