/*
 * scr_runs: the first screen, every run as a row: live status, name, key
 * settings, best validation and test metrics, duration. Sorting, filtering
 * (text, status, tag), marking runs to compare and deleting a run.
 */

#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum col { C_ID, C_STATUS, C_NAME, C_FUSION, C_MODEL, C_LR, C_BS, C_EPOCHS, C_VALF1,
	   C_VALACC, C_TESTACC, C_TESTF1, C_TIME, C_TAGS, C_CREATED, NCOLS };

static const struct {
	const char *title;
	int width, right, prio; /* prio: columns with lower values are dropped first */
} cols[NCOLS] = {
	[C_ID] = { "ID", 4, 1, 100 },
	[C_STATUS] = { "STATUS", 12, 0, 99 },
	[C_NAME] = { "NAME", 10, 0, 98 },
	[C_FUSION] = { "FUSION", 6, 0, 90 },
	[C_MODEL] = { "MODELS", 16, 0, 20 },
	[C_LR] = { "LR", 7, 1, 91 },
	[C_BS] = { "BS", 4, 1, 40 },
	[C_EPOCHS] = { "EP", 5, 1, 50 },
	[C_VALF1] = { "valF1", 6, 1, 97 },
	[C_VALACC] = { "valAcc", 6, 1, 96 },
	[C_TESTACC] = { "tstAcc", 6, 1, 95 },
	[C_TESTF1] = { "tstF1", 6, 1, 94 },
	[C_TIME] = { "TIME", 6, 1, 93 },
	[C_TAGS] = { "TAGS", 12, 0, 45 },
	[C_CREATED] = { "CREATED", 16, 0, 10 },
};

static const char *const statuses[] = { NULL, "running", "completed", "early_stopped",
					"failed", "interrupted", "crashed" };

enum { PROMPT_FILTER = 1, PROMPT_TAG, CONFIRM_DELETE };

struct runs_screen {
	struct screen base;
	struct run_list runs;
	size_t *view;           /* indexes into runs: filtered and sorted */
	size_t nview, view_alloc;
	size_t cur, top;
	int64_t cur_id;         /* keeps the cursor on its run across reloads */
	int sort, desc;
	char filter[256], tag[256];
	int status;             /* index into statuses */
	int64_t sweep_id;       /* only this sweep's runs; 0: any */
	char sweep[128];        /* its name, for the header */
	int64_t marked[6];
	int nmarked;
	int64_t delete_id;
	int visible[NCOLS], name_w;
	double now;             /* Unix seconds (durations of running runs) */
	int partial;            /* only the newest page is loaded yet */
	struct runs_sig sig;    /* of the last full load */
	double full_at;         /* when it ran */
	/* A full load in steps: the shown list stays until `next` is complete. */
	int loading;
	struct run_list next;
	struct runs_sig next_sig;
	int64_t next_after;
};

/* Runs one pass loads (a bounded step of a full load). */
#define RUNS_STEP 250

/* Between full loads at most this often, only running runs are re-read. */
#define FULL_RELOAD_SECONDS 5.0

/*
 * Live updates on a large database: when the set of runs is unchanged,
 * re-reads the running runs only and replaces their rows; the rest follows
 * within FULL_RELOAD_SECONDS. Returns 1 when it did so, 0 when a full load
 * is needed, -1 on error.
 */
static int reload_running(struct app *app, struct runs_screen *s)
{
	struct runs_sig sig;
	struct run_list l;
	size_t i, k;
	if (s->partial || !s->runs.n || app->now - s->full_at >= FULL_RELOAD_SECONDS)
		return 0;
	if (model_runs_sig(app->db, &sig))
		return -1;
	if (memcmp(&sig, &s->sig, sizeof(sig)))
		return 0;
	if (model_runs_running(app->db, &l))
		return -1;
	for (i = 0; i < l.n; i++)
		for (k = 0; k < s->runs.n; k++)
			if (s->runs.v[k].id == l.v[i].id) {
				run_row_release(&s->runs.v[k]);
				s->runs.v[k] = l.v[i];
				memset(&l.v[i], 0, sizeof(l.v[i]));
				break;
			}
	run_list_release(&l);
	s->base.wake_at = s->full_at + FULL_RELOAD_SECONDS;
	return 1;
}

static int is_marked(const struct runs_screen *s, int64_t id)
{
	int i;
	for (i = 0; i < s->nmarked; i++)
		if (s->marked[i] == id)
			return 1;
	return 0;
}

/* Sort key helpers: NaN and NULL sort last whichever the direction. */
static int cmp_num(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b;
	return strcasecmp(a, b);
}

static const struct runs_screen *sort_ctx;

static int cmp_runs(const void *pa, const void *pb)
{
	const struct runs_screen *s = sort_ctx;
	const struct run_row *a = &s->runs.v[*(const size_t *)pa], *b = &s->runs.v[*(const size_t *)pb];
	int c = 0, nulls = 0;
	switch (s->sort) {
	case C_ID: c = cmp_num((double)a->id, (double)b->id); break;
	case C_STATUS: c = cmp_str(a->status, b->status); break;
	case C_NAME: c = cmp_str(a->name, b->name); nulls = !a->name || !b->name; break;
	case C_FUSION: c = cmp_str(a->fusion, b->fusion); nulls = !a->fusion || !b->fusion; break;
	case C_MODEL: c = cmp_str(a->text_model, b->text_model); break;
	case C_LR: c = cmp_num(a->lr, b->lr); nulls = isnan(a->lr) || isnan(b->lr); break;
	case C_BS: c = cmp_num((double)a->batch_size, (double)b->batch_size); break;
	case C_EPOCHS: c = cmp_num((double)a->epochs_done, (double)b->epochs_done); break;
	case C_VALF1: c = cmp_num(a->val_f1, b->val_f1); nulls = isnan(a->val_f1) || isnan(b->val_f1); break;
	case C_VALACC: c = cmp_num(a->val_acc, b->val_acc); nulls = isnan(a->val_acc) || isnan(b->val_acc); break;
	case C_TESTACC: c = cmp_num(a->test_acc, b->test_acc); nulls = isnan(a->test_acc) || isnan(b->test_acc); break;
	case C_TESTF1: c = cmp_num(a->test_f1, b->test_f1); nulls = isnan(a->test_f1) || isnan(b->test_f1); break;
	case C_TIME: {
		double da = run_duration(a, s->now), db = run_duration(b, s->now);
		c = cmp_num(da, db);
		nulls = isnan(da) || isnan(db);
		break;
	}
	case C_TAGS: c = cmp_str(a->tags, b->tags); nulls = !a->tags || !b->tags; break;
	case C_CREATED: c = cmp_str(a->created_at, b->created_at); break;
	}
	if (s->desc && !nulls)
		c = -c;
	if (!c)
		c = a->id < b->id ? -1 : a->id > b->id;
	return c;
}

static int has_tag(const char *tags, const char *tag)
{
	size_t n = strlen(tag);
	const char *p = tags;
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !strncmp(p, tag, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static int matches(const struct runs_screen *s, const struct run_row *r)
{
	if (s->status && (!r->status || strcmp(r->status, statuses[s->status])))
		return 0;
	if (s->tag[0] && !has_tag(r->tags, s->tag))
		return 0;
	if (s->sweep_id && r->sweep_id != s->sweep_id)
		return 0;
	if (s->filter[0]) {
		const char *f[] = { r->name, r->notes, r->tags, r->fusion, r->text_model,
				    r->image_model, r->status, r->preset, r->label, r->modalities,
				    r->optimizer, r->sweep };
		char id[24];
		size_t i;
		snprintf(id, sizeof(id), "%lld", (long long)r->id);
		if (!strcmp(id, s->filter))
			return 1;
		for (i = 0; i < ARRAY_SIZE(f); i++)
			if (f[i] && strcasestr(f[i], s->filter))
				return 1;
		return 0;
	}
	return 1;
}

/* Rebuilds the view (filter, sort) and puts the cursor back on cur_id. */
static void rebuild(struct runs_screen *s)
{
	size_t i;
	s->nview = 0;
	for (i = 0; i < s->runs.n; i++)
		if (matches(s, &s->runs.v[i])) {
			ALLOC_GROW(s->view, s->nview + 1, s->view_alloc);
			s->view[s->nview++] = i;
		}
	sort_ctx = s;
	if (s->nview > 1)
		qsort(s->view, s->nview, sizeof(*s->view), cmp_runs);
	sort_ctx = NULL;
	s->cur = 0;
	for (i = 0; i < s->nview; i++)
		if (s->runs.v[s->view[i]].id == s->cur_id)
			s->cur = i;
}

/* The shown list becomes l: marks of runs that are gone are dropped, the view rebuilt. */
static void install(struct app *app, struct runs_screen *s, struct run_list *l)
{
	int i, j;
	run_list_release(&s->runs);
	s->runs = *l;
	memset(l, 0, sizeof(*l));
	s->now = (double)time(NULL);
	for (i = j = 0; i < s->nmarked; i++) {
		size_t k;
		for (k = 0; k < s->runs.n; k++)
			if (s->runs.v[k].id == s->marked[i]) {
				s->marked[j++] = s->marked[i];
				break;
			}
	}
	s->nmarked = j;
	rebuild(s);
}

/* One step of a full load; the last one installs the list. */
static int load_step(struct app *app, struct runs_screen *s)
{
	size_t before = s->next.n;
	/* The fingerprint the finished load stands for, taken as it starts. */
	if (!before && !s->next_after && model_runs_sig(app->db, &s->next_sig)) {
		s->loading = 0;
		return -1;
	}
	if (model_runs_after(app->db, s->next_after, RUNS_STEP, &s->next)) {
		run_list_release(&s->next);
		s->loading = 0;
		return -1;
	}
	if (s->next.n - before == RUNS_STEP) {
		s->next_after = s->next.v[s->next.n - 1].id;
		s->base.stale = 1;
		return 0;
	}
	s->loading = 0;
	s->partial = 0;
	s->sig = s->next_sig;
	s->full_at = app->now;
	s->base.wake_at = 0;
	install(app, s, &s->next);
	return 0;
}

static int runs_reload(struct app *app, struct screen *base)
{
	struct runs_screen *s = (struct runs_screen *)base;
	struct run_list l;
	int rc;
	if (s->nview && s->cur < s->nview)
		s->cur_id = s->runs.v[s->view[s->cur]].id;
	if (s->loading)
		return load_step(app, s);
	if ((rc = reload_running(app, s)) < 0)
		return -1;
	if (rc) {
		s->now = (double)time(NULL);
		rebuild(s);
		return 0;
	}
	/*
	 * The first load draws the newest page at once (the initial order);
	 * every load of all runs goes in steps over the next passes, keys
	 * handled between them, the shown list kept until it is complete.
	 */
	if (!s->runs.n && !s->partial && s->sort == C_ID && s->desc) {
		memset(&l, 0, sizeof(l));
		if (model_runs_newest(app->db, LINES > 0 ? LINES : 50, &l))
			return -1;
		s->partial = 1;
		install(app, s, &l);
	}
	memset(&s->next, 0, sizeof(s->next));
	s->next_after = 0;
	s->loading = 1;
	base->stale = 1;
	return 0;
}

static void status_text(const struct run_row *r, char *buf, size_t n)
{
	if (run_is_stale(r, (double)time(NULL))) {
		int64_t ep = r->epochs_done > r->last_epoch ? r->epochs_done : r->last_epoch;
		snprintf(buf, n, "stale %lld/%lld", (long long)(ep < 0 ? 0 : ep), (long long)r->epochs);
	} else if (r->status && !strcmp(r->status, "running")) {
		int64_t ep = r->epochs_done > r->last_epoch ? r->epochs_done : r->last_epoch;
		char pct[16] = "";
		if (!isnan(r->progress))
			snprintf(pct, sizeof(pct), " %.0f%%", r->progress <= 1 ? r->progress * 100 : r->progress);
		if (r->epochs > 0)
			snprintf(buf, n, "run %lld/%lld%s", (long long)(ep < 0 ? 0 : ep), (long long)r->epochs, pct);
		else
			snprintf(buf, n, "run %lld%s", (long long)(ep < 0 ? 0 : ep), pct);
	} else if (r->status && !strcmp(r->status, "early_stopped")) {
		snprintf(buf, n, "early-stop");
	} else {
		snprintf(buf, n, "%s", r->status ? r->status : "?");
	}
}

static void cell_text(const struct runs_screen *s, const struct run_row *r, int c, char *buf, size_t n)
{
	switch (c) {
	case C_ID: snprintf(buf, n, "%lld", (long long)r->id); break;
	case C_STATUS: status_text(r, buf, n); break;
	case C_NAME: snprintf(buf, n, "%s", r->name ? r->name : ""); break;
	case C_FUSION:
		snprintf(buf, n, "%s", r->fusion ? r->fusion : r->modalities && !strchr(r->modalities, ',') ? "none" : "-");
		break;
	case C_MODEL: snprintf(buf, n, "%s+%s", r->text_model ? r->text_model : "-",
			       r->image_model ? r->image_model : "-"); break;
	case C_LR: fmt_num(buf, n, "%.0e", r->lr); break;
	case C_BS: fmt_num(buf, n, "%.0f", r->batch_size < 0 ? NAN : (double)r->batch_size); break;
	case C_EPOCHS:
		snprintf(buf, n, "%lld/%lld", (long long)(r->epochs_done < 0 ? 0 : r->epochs_done),
			 (long long)(r->epochs < 0 ? 0 : r->epochs));
		break;
	case C_VALF1: fmt_num(buf, n, "%.3f", r->val_f1); break;
	case C_VALACC: fmt_num(buf, n, "%.3f", r->val_acc); break;
	case C_TESTACC: fmt_num(buf, n, "%.3f", r->test_acc); break;
	case C_TESTF1: fmt_num(buf, n, "%.3f", r->test_f1); break;
	case C_TIME: fmt_duration(buf, n, run_duration(r, s->now)); break;
	case C_TAGS: snprintf(buf, n, "%s", r->tags ? r->tags : ""); break;
	case C_CREATED: snprintf(buf, n, "%.16s", r->created_at ? r->created_at : ""); break;
	}
}

/* Chooses the columns that fit: drops the lowest priorities first. */
static void layout(struct runs_screen *s)
{
	int c, total;
	for (c = 0; c < NCOLS; c++)
		s->visible[c] = 1;
	for (;;) {
		int low = -1;
		total = 2;
		for (c = 0; c < NCOLS; c++)
			if (s->visible[c])
				total += cols[c].width + 1;
		if (total <= COLS)
			break;
		for (c = 0; c < NCOLS; c++)
			if (s->visible[c] && c != C_NAME && (low < 0 || cols[c].prio < cols[low].prio))
				low = c;
		if (low < 0 || cols[low].prio >= 99)
			break;
		s->visible[low] = 0;
	}
	s->name_w = cols[C_NAME].width + (COLS - total > 0 ? COLS - total : 0);
	/* Tags only when the name still gets a fair share. */
	if (s->visible[C_TAGS] && s->name_w < 20) {
		s->visible[C_TAGS] = 0;
		s->name_w += cols[C_TAGS].width + 1;
	}
	if (s->name_w > 40 && s->visible[C_TAGS]) /* spare room goes to tags, then name */
		s->name_w = 40;
}

static int col_width(const struct runs_screen *s, int c)
{
	if (c == C_NAME)
		return s->name_w;
	if (c == C_TAGS) {
		int used = 2, k;
		for (k = 0; k < NCOLS; k++)
			if (s->visible[k] && k != C_TAGS)
				used += (k == C_NAME ? s->name_w : cols[k].width) + 1;
		return COLS - used > cols[C_TAGS].width ? COLS - used - 1 : cols[C_TAGS].width;
	}
	return cols[c].width;
}

static void runs_draw(struct app *app, struct screen *base)
{
	struct runs_screen *s = (struct runs_screen *)base;
	int rows = LINES - 3, y, c, x;
	char buf[256], filt[800] = "";
	size_t i;

	s->now = (double)time(NULL);
	layout(s);
	if (s->filter[0] || s->status || s->tag[0] || s->sweep_id)
		snprintf(filt, sizeof(filt), "  filter:%s%s%s%s%s%s%s%s", s->filter[0] ? " /" : "", s->filter,
			 s->status ? " status=" : "", s->status ? statuses[s->status] : "",
			 s->tag[0] ? " tag=" : "", s->tag, s->sweep_id ? " sweep=" : "",
			 s->sweep_id ? s->sweep : "");
	if (s->partial)
		ui_title(app, "mmdb runs  loading... %zu", s->next.n);
	else
		ui_title(app, "mmdb runs  %zu of %zu  sort: %s %s  marked: %d%s", s->nview, s->runs.n,
			 cols[s->sort].title, s->desc ? "desc" : "asc", s->nmarked, filt);
	/* Header. */
	x = 2;
	ui_attr(0, A_BOLD | A_UNDERLINE);
	for (c = 0; c < NCOLS; c++) {
		int w;
		if (!s->visible[c])
			continue;
		w = col_width(s, c);
		snprintf(buf, sizeof(buf), "%s%s", cols[c].title, c == s->sort ? (s->desc ? "\u25bc" : "\u25b2") : "");
		if (cols[c].right)
			ui_text_right(1, x, w, buf);
		else
			ui_text(1, x, w, buf);
		x += w + 1;
	}
	ui_attr_off();
	if (!s->nview) {
		ui_text(3, 2, COLS - 4, s->runs.n ? "no run matches the filter (x clears it)"
						  : "no runs yet: start one with 'mmdb run'");
	}
	if (s->cur >= s->nview && s->nview)
		s->cur = s->nview - 1;
	if (s->cur < s->top)
		s->top = s->cur;
	if (rows > 0 && s->cur >= s->top + (size_t)rows)
		s->top = s->cur - (size_t)rows + 1;
	for (y = 0, i = s->top; y < rows && i < s->nview; y++, i++) {
		const struct run_row *r = &s->runs.v[s->view[i]];
		int sel = i == s->cur;
		x = 2;
		if (sel)
			ui_attr(PAIR_SEL, A_REVERSE);
		ui_text_pad(2 + y, 0, COLS, "");
		if (is_marked(s, r->id)) {
			ui_attr(PAIR_MARK, (sel ? A_REVERSE : 0) | A_BOLD);
			ui_text(2 + y, 0, 1, "*");
			ui_attr(sel ? PAIR_SEL : 0, sel ? A_REVERSE : A_NORMAL);
		}
		for (c = 0; c < NCOLS; c++) {
			int w;
			if (!s->visible[c])
				continue;
			w = col_width(s, c);
			cell_text(s, r, c, buf, sizeof(buf));
			if (c == C_STATUS && !sel && r->status) {
				if (run_is_stale(r, (double)time(NULL)))
					ui_attr(PAIR_BAD, A_BOLD);
				else if (!strcmp(r->status, "running"))
					ui_attr(PAIR_RUN, A_BOLD);
				else if (!strcmp(r->status, "failed") || !strcmp(r->status, "crashed"))
					ui_attr(PAIR_BAD, A_NORMAL);
			}
			if (cols[c].right)
				ui_text_right(2 + y, x, w, buf);
			else
				ui_text(2 + y, x, w, buf);
			if (c == C_STATUS && !sel)
				ui_attr_off();
			x += w + 1;
		}
		ui_attr_off();
	}
	ui_hints(app, "Enter open  Space mark  c compare  p predictions  / s t w filter  < > sort  S sweeps  d delete  ? help  q quit");
}

/* The sweep filter moves to the next sweep (by id) that has runs, then to none. */
static void next_sweep(struct runs_screen *s)
{
	const struct run_row *best = NULL;
	size_t i;
	for (i = 0; i < s->runs.n; i++) {
		const struct run_row *r = &s->runs.v[i];
		if (r->sweep_id > s->sweep_id && (!best || r->sweep_id < best->sweep_id))
			best = r;
	}
	s->sweep_id = best ? best->sweep_id : 0;
	snprintf(s->sweep, sizeof(s->sweep), "%s", best && best->sweep ? best->sweep : "");
}

static int runs_key(struct app *app, struct screen *base, enum action a)
{
	struct runs_screen *s = (struct runs_screen *)base;
	const struct run_row *r = s->nview && s->cur < s->nview ? &s->runs.v[s->view[s->cur]] : NULL;
	size_t page = LINES > 4 ? (size_t)LINES - 4 : 1;
	int i;

	switch (a) {
	case ACT_UP: if (s->cur > 0) s->cur--; break;
	case ACT_DOWN: if (s->cur + 1 < s->nview) s->cur++; break;
	case ACT_PGUP: s->cur = s->cur > page ? s->cur - page : 0; break;
	case ACT_PGDN: s->cur = s->cur + page < s->nview ? s->cur + page : (s->nview ? s->nview - 1 : 0); break;
	case ACT_HOME: s->cur = 0; break;
	case ACT_END: s->cur = s->nview ? s->nview - 1 : 0; break;
	case ACT_ENTER:
		if (r)
			app_push(app, run_screen_new(app, r->id));
		break;
	case ACT_PREDS:
		if (r)
			app_push(app, preds_screen_new(app, r->id, "validate", -1, -1));
		break;
	case ACT_MARK:
		if (!r)
			break;
		for (i = 0; i < s->nmarked; i++)
			if (s->marked[i] == r->id) {
				memmove(&s->marked[i], &s->marked[i + 1], (size_t)(s->nmarked - i - 1) * sizeof(int64_t));
				s->nmarked--;
				break;
			}
		if (i == s->nmarked && i == (int)ARRAY_SIZE(s->marked))
			app_message(app, "at most 6 runs can be compared");
		else if (i == s->nmarked)
			s->marked[s->nmarked++] = r->id;
		if (s->cur + 1 < s->nview)
			s->cur++;
		break;
	case ACT_COMPARE:
		if (s->nmarked < 2)
			app_message(app, "mark 2 to 6 runs with Space first");
		else
			app_push(app, compare_screen_new(app, s->marked, s->nmarked));
		break;
	case ACT_SORT_NEXT:
	case ACT_SORT_PREV:
		layout(s);
		do
			s->sort = (s->sort + (a == ACT_SORT_NEXT ? 1 : NCOLS - 1)) % NCOLS;
		while (!s->visible[s->sort]);
		/* Numbers and dates start with the largest; text with A. */
		s->desc = s->sort == C_ID || s->sort == C_EPOCHS || (s->sort >= C_VALF1 && s->sort <= C_TIME) ||
			  s->sort == C_CREATED;
		break;
	case ACT_SORT_INVERT: s->desc = !s->desc; break;
	case ACT_FILTER: app_prompt(app, PROMPT_FILTER, "filter runs:", s->filter); return K_NONE;
	case ACT_TAG: app_prompt(app, PROMPT_TAG, "tag:", s->tag); return K_NONE;
	case ACT_STATUS: s->status = (s->status + 1) % (int)ARRAY_SIZE(statuses); break;
	case ACT_CLEAR: s->filter[0] = s->tag[0] = 0; s->status = 0; s->sweep_id = 0; break;
	case ACT_SWEEP_FILTER: next_sweep(s); break;
	case ACT_SWEEPS: app_push(app, sweeps_screen_new(app)); return K_NONE;
	case ACT_PROMPT_DONE:
		if (app->prompt.id == PROMPT_FILTER)
			snprintf(s->filter, sizeof(s->filter), "%s", app->prompt.buf);
		else if (app->prompt.id == PROMPT_TAG)
			snprintf(s->tag, sizeof(s->tag), "%s", app->prompt.buf);
		break;
	case ACT_DELETE: {
		int64_t ne = 0, np = 0;
		char q[160], *name;
		if (!r)
			break;
		if (r->status && !strcmp(r->status, "running")) {
			app_message(app, "run %lld is still training: stop it first (or mmdb runs rm --force)",
				    (long long)r->id);
			break;
		}
		if (model_run_rows(app->db, r->id, &ne, &np)) {
			app_message(app, "%s", app_last_error(app));
			break;
		}
		name = text_clean(r->name ? r->name : "");
		snprintf(q, sizeof(q), "delete run %lld '%.40s' (%lld epoch rows, %lld predictions) and its checkpoints?",
			 (long long)r->id, name, (long long)ne, (long long)np);
		free(name);
		s->delete_id = r->id;
		app_confirm(app, CONFIRM_DELETE, q);
		return K_NONE;
	}
	case ACT_CONFIRMED:
		if (app->prompt.id != CONFIRM_DELETE || !s->delete_id)
			break;
		if (model_delete_run(app->db_path, app->cache_dir, s->delete_id))
			app_message(app, "%s", app_last_error(app));
		else
			app_message(app, "deleted run %lld", (long long)s->delete_id);
		s->delete_id = 0;
		return K_RELOAD;
	default:
		return K_NONE;
	}
	if (a != ACT_UP && a != ACT_DOWN && a != ACT_PGUP && a != ACT_PGDN && a != ACT_HOME &&
	    a != ACT_END && a != ACT_ENTER && a != ACT_PREDS && a != ACT_MARK && a != ACT_COMPARE) {
		s->cur_id = r ? r->id : 0;
		rebuild(s);
	}
	if (s->nview && s->cur < s->nview)
		s->cur_id = s->runs.v[s->view[s->cur]].id;
	return K_NONE;
}

static void runs_release(struct screen *base)
{
	struct runs_screen *s = (struct runs_screen *)base;
	run_list_release(&s->runs);
	run_list_release(&s->next);
	free(s->view);
	free(s);
}

static const struct screen_ops runs_ops = {
	SCR_RUNS, "runs", runs_reload, runs_draw, runs_key, runs_release,
};

struct screen *runs_screen_new(struct app *app)
{
	struct runs_screen *s = xcalloc(1, sizeof(*s));
	(void)app;
	s->base.ops = &runs_ops;
	s->base.stale = 1;
	s->sort = C_ID;
	s->desc = 1;
	return &s->base;
}
