/*
 * scr_run: one run in four views: overview (settings and the epoch table),
 * charts (loss, accuracy, F1 per epoch), per-class metrics, and the
 * confusion matrix as a heat map whose cells open their posts.
 */
#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { V_OVERVIEW, V_CHARTS, V_CLASSES, V_CONFUSION, NVIEWS };
static const char *const view_names[NVIEWS] = { "Overview", "Charts", "Classes", "Confusion" };

struct run_screen {
	struct screen base;
	int64_t id;
	struct run_row r;
	struct kv_list settings;
	struct epoch_list epochs;
	struct eval_list points;
	size_t point;
	struct classes cls;
	struct class_row cm[MODEL_MAX_CLASSES];
	int64_t conf[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES];
	int view, scroll, row, col;
	int have_point;
	struct eval_point want;  /* keeps the chosen point across reloads */
};

static void clear_data(struct run_screen *s)
{
	run_row_release(&s->r);
	kv_list_release(&s->settings);
	epoch_list_release(&s->epochs);
	eval_list_release(&s->points);
}

static int load_point(struct app *app, struct run_screen *s)
{
	const struct eval_point *p;
	if (!s->points.n)
		return 0;
	p = &s->points.v[s->point];
	s->want = *p;
	s->have_point = 1;
	if (model_class_metrics(app->db, s->id, p, s->cm) || model_confusion(app->db, s->id, p, s->conf))
		return -1;
	return 0;
}

static int run_reload(struct app *app, struct screen *base)
{
	struct run_screen *s = (struct run_screen *)base;
	size_t i;
	int rc;
	clear_data(s);
	rc = model_run(app->db, s->id, &s->r);
	if (rc == MODEL_GONE) {
		error("run %lld no longer exists", (long long)s->id);
		return MODEL_GONE;
	}
	if (rc || model_settings(app->db, s->id, &s->settings) < 0 ||
	    model_epochs(app->db, s->id, &s->epochs) ||
	    model_classes(app->db, s->r.label, &s->cls) ||
	    model_eval_points(app->db, s->id, s->r.best_epoch, &s->points))
		return -1;
	s->point = s->points.preferred;
	if (s->have_point)
		for (i = 0; i < s->points.n; i++)
			if (s->points.v[i].epoch == s->want.epoch && !strcmp(s->points.v[i].split, s->want.split))
				s->point = i;
	return load_point(app, s);
}

/* The epoch row of `split` at `epoch`, or NULL. */
static const struct epoch_row *find_epoch(const struct run_screen *s, int64_t epoch, const char *split)
{
	size_t i;
	for (i = 0; i < s->epochs.n; i++)
		if (s->epochs.v[i].epoch == epoch && !strcmp(s->epochs.v[i].split, split))
			return &s->epochs.v[i];
	return NULL;
}

static void draw_overview(struct app *app, struct run_screen *s)
{
	const struct run_row *r = &s->r;
	const struct epoch_row *t = NULL;
	char a[32], b[32], c[32], d[32], f[32];
	int y = 3, x = 0, rows, n;
	size_t i;
	int64_t last = -1;

	/* Settings flow as key=value pairs over at most 5 lines. */
	ui_attr(0, A_BOLD);
	ui_text(2, 0, COLS, "Settings");
	ui_attr_off();
	for (i = 0; i < s->settings.n && y < 8; i++) {
		char *v = text_clean(s->settings.v[i].val);
		char item[200];
		int w;
		snprintf(item, sizeof(item), "%s=%.60s", s->settings.v[i].key, v);
		free(v);
		w = text_width(item);
		if (x && x + w > COLS) {
			y++;
			x = 0;
			if (y >= 8)
				break;
		}
		ui_attr(PAIR_DIM, A_NORMAL);
		x += ui_text(y, x, COLS - x, s->settings.v[i].key);
		ui_attr_off();
		x += ui_text(y, x, COLS - x, "=");
		x += ui_text(y, x, COLS - x, item + strlen(s->settings.v[i].key) + 1) + 2;
	}
	y = 9;
	for (i = 0; i < s->epochs.n; i++)
		if (!strcmp(s->epochs.v[i].split, "test"))
			t = &s->epochs.v[i];
	{
		const struct epoch_row *bv = r->best_epoch >= 0 ? find_epoch(s, r->best_epoch, "validate") : NULL;
		ui_attr(0, A_BOLD);
		ui_textf(y, 0, COLS, "best epoch %s: val F1 %s acc %s   test%s: acc %s F1 %s",
			 r->best_epoch >= 0 ? fmt_num(a, sizeof(a), "%.0f", (double)r->best_epoch) : "-",
			 fmt_num(b, sizeof(b), "%.4f", bv ? bv->f1 : NAN),
			 fmt_num(c, sizeof(c), "%.4f", bv ? bv->acc : NAN),
			 t ? "" : " (none yet)", fmt_num(d, sizeof(d), "%.4f", t ? t->acc : NAN),
			 fmt_num(f, sizeof(f), "%.4f", t ? t->f1 : NAN));
		ui_attr_off();
	}
	y++;
	ui_attr(0, A_BOLD | A_UNDERLINE);
	ui_text_pad(y, 0, COLS, "EPOCH  trLOSS  vaLOSS   trACC   vaACC    vaF1   vaF1m        LR     SEC  SAMP/S");
	ui_attr_off();
	y++;
	rows = LINES - 1 - y;
	n = 0;
	for (i = 0; i < s->epochs.n; i++)
		if (s->epochs.v[i].epoch != last) {
			last = s->epochs.v[i].epoch;
			n++;
		}
	if (s->scroll > n - rows)
		s->scroll = n - rows > 0 ? n - rows : 0;
	last = -1;
	n = 0;
	for (i = 0; i < s->epochs.n && y < LINES - 1; i++) {
		const struct epoch_row *tr, *va;
		char e[8][24];
		if (s->epochs.v[i].epoch == last || !strcmp(s->epochs.v[i].split, "test"))
			continue;
		last = s->epochs.v[i].epoch;
		if (n++ < s->scroll)
			continue;
		tr = find_epoch(s, last, "train");
		va = find_epoch(s, last, "validate");
		ui_attr(last == r->best_epoch ? PAIR_GOOD : 0, last == r->best_epoch ? A_BOLD : A_NORMAL);
		ui_textf(y++, 0, COLS, "%5lld %7s %7s %7s %7s %7s %7s %9s %7s %7s", (long long)last,
			 fmt_num(e[0], 24, "%.4f", tr ? tr->loss : NAN), fmt_num(e[1], 24, "%.4f", va ? va->loss : NAN),
			 fmt_num(e[2], 24, "%.4f", tr ? tr->acc : NAN), fmt_num(e[3], 24, "%.4f", va ? va->acc : NAN),
			 fmt_num(e[4], 24, "%.4f", va ? va->f1 : NAN), fmt_num(e[5], 24, "%.4f", va ? va->f1_macro : NAN),
			 fmt_num(e[6], 24, "%.2e", tr ? tr->lr : va ? va->lr : NAN),
			 fmt_num(e[7], 24, "%.1f", tr ? tr->seconds : NAN),
			 fmt_num(a, sizeof(a), "%.0f", tr ? tr->samples_per_s : NAN));
		ui_attr_off();
	}
	if (!s->epochs.n)
		ui_text(y, 0, COLS, "no epochs recorded yet");
}

static void draw_charts(struct app *app, struct run_screen *s)
{
	static const char *const metric[3] = { "loss", "accuracy", "f1" };
	static const char *const title[3] = { "Loss", "Accuracy", "F1 (weighted)" };
	static const char *const legend[2] = { "train", "validate" };
	int avail = LINES - 3, h = avail / 3, i;
	for (i = 0; i < 3; i++) {
		struct chart_series ser[2];
		double *x[2], *yv[2];
		int k;
		for (k = 0; k < 2; k++) {
			ser[k].n = epoch_series(&s->epochs, legend[k], metric[i], &x[k], &yv[k]);
			ser[k].x = x[k];
			ser[k].y = yv[k];
			ser[k].colour = k;
		}
		ui_chart(2 + i * h, 0, COLS, h, title[i], ser, 2, legend);
		for (k = 0; k < 2; k++) {
			free(x[k]);
			free(yv[k]);
		}
	}
	(void)app;
}

static void point_line(struct run_screen *s, int y)
{
	if (!s->points.n) {
		ui_text(y, 0, COLS, "no class metrics or confusion rows for this run yet");
		return;
	}
	ui_attr(0, A_BOLD);
	ui_textf(y, 0, COLS, "epoch %lld, %s split  (%zu of %zu; [ ] changes)",
		 (long long)s->points.v[s->point].epoch, s->points.v[s->point].split, s->point + 1,
		 s->points.n);
	ui_attr_off();
}

static void draw_classes(struct app *app, struct run_screen *s)
{
	int i, y = 4;
	char a[24], b[24], c[24], d[24];
	(void)app;
	point_line(s, 2);
	if (!s->points.n)
		return;
	ui_attr(0, A_BOLD | A_UNDERLINE);
	ui_text_pad(y++, 0, COLS, "  # CLASS                 PRECISION  RECALL      F1  SUPPORT  F1");
	ui_attr_off();
	for (i = 0; i < s->cls.n && y < LINES - 1; i++, y++) {
		const struct class_row *r = &s->cm[i];
		ui_textf(y, 0, 26, "%3d %s", i, s->cls.name[i]);
		ui_textf(y, 26, 40, "%9s %7s %7s %8s", fmt_num(a, sizeof(a), "%.4f", r->precision),
			 fmt_num(b, sizeof(b), "%.4f", r->recall), fmt_num(c, sizeof(c), "%.4f", r->f1),
			 r->support >= 0 ? fmt_num(d, sizeof(d), "%.0f", (double)r->support) : "-");
		ui_attr(PAIR_SERIES, A_BOLD);
		ui_bar(y, 62, COLS - 63 > 30 ? 30 : COLS - 63, r->f1);
		ui_attr_off();
	}
}

static void draw_confusion(struct app *app, struct run_screen *s)
{
	int n = s->cls.n, i, j, lw = 19, cw, y0 = 5;
	(void)app;
	point_line(s, 2);
	if (!s->points.n)
		return;
	cw = (COLS - lw) / n;
	if (cw > 12)
		cw = 12;
	ui_attr(PAIR_DIM, A_NORMAL);
	ui_text(3, 0, COLS, "rows: true class, columns: predicted, count and row share; Enter: its posts");
	ui_attr_off();
	for (j = 0; j < n; j++) {
		ui_attr(0, j == s->col ? A_BOLD | A_UNDERLINE : A_BOLD);
		ui_textf(y0 - 1, lw + j * cw, cw - 1, "%d %s", j, s->cls.name[j]);
		ui_attr_off();
	}
	for (i = 0; i < n && y0 + i < LINES - 1; i++) {
		int64_t sum = 0;
		for (j = 0; j < n; j++)
			sum += s->conf[i][j];
		ui_attr(0, i == s->row ? A_BOLD | A_UNDERLINE : A_BOLD);
		ui_textf(y0 + i, 0, lw - 1, "%d %s", i, s->cls.name[i]);
		ui_attr_off();
		for (j = 0; j < n; j++) {
			double share = sum ? (double)s->conf[i][j] / (double)sum : 0;
			int level = (int)floor(share * (HEAT_LEVELS - 1) + 0.5);
			char cell[32];
			snprintf(cell, sizeof(cell), "%*lld %3.0f%%", cw - 6, (long long)s->conf[i][j], share * 100);
			ui_attr(PAIR_HEAT + level, (i == s->row && j == s->col ? A_REVERSE | A_BOLD : A_NORMAL) |
						   (i == j ? A_BOLD : 0));
			ui_text_pad(y0 + i, lw + j * cw, cw - 1, cell);
			ui_attr_off();
		}
	}
	{
		int64_t total = 0, diag = 0;
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				total += s->conf[i][j];
				if (i == j)
					diag += s->conf[i][j];
			}
		ui_textf(y0 + n + 1, 0, COLS, "cell: true %d %s, predicted %d %s: %lld posts   total %lld, correct %.1f%%",
			 s->row, s->cls.name[s->row], s->col, s->cls.name[s->col],
			 (long long)s->conf[s->row][s->col], (long long)total,
			 total ? 100.0 * (double)diag / (double)total : 0.0);
	}
}

static void run_draw(struct app *app, struct screen *base)
{
	struct run_screen *s = (struct run_screen *)base;
	const struct run_row *r = &s->r;
	char st[128], dur[24];
	if (r->status && !strcmp(r->status, "running")) {
		int64_t ep = r->epochs_done > r->last_epoch ? r->epochs_done : r->last_epoch;
		double quiet = (double)time(NULL) - r->heartbeat;
		snprintf(st, sizeof(st), "running, epoch %lld of %lld", (long long)(ep < 0 ? 0 : ep), (long long)r->epochs);
		if (run_is_stale(r, (double)time(NULL)))
			snprintf(st + strlen(st), sizeof(st) - strlen(st), "; no heartbeat for %s",
				 fmt_duration(dur, sizeof(dur), quiet));
	} else {
		snprintf(st, sizeof(st), "%s", r->status ? r->status : "?");
	}
	ui_title(app, "mmdb run %lld  %s  [%s]  %s  %s", (long long)s->id, r->name ? r->name : "",
		 st, fmt_duration(dur, sizeof(dur), run_duration(r, (double)time(NULL))), r->tags ? r->tags : "");
	ui_tabs(1, view_names, NVIEWS, s->view);
	switch (s->view) {
	case V_OVERVIEW: draw_overview(app, s); break;
	case V_CHARTS: draw_charts(app, s); break;
	case V_CLASSES: draw_classes(app, s); break;
	case V_CONFUSION: draw_confusion(app, s); break;
	}
	ui_hints(app, s->view == V_CONFUSION ? "arrows cell  Enter posts  [ ] epoch  Tab view  p predictions  ? help  q back"
					     : "Tab/1-4 view  Up/Down scroll  [ ] epoch  p predictions  ? help  q back");
}

static int run_key(struct app *app, struct screen *base, enum action a)
{
	struct run_screen *s = (struct run_screen *)base;
	int n = s->cls.n;
	switch (a) {
	case ACT_BACK: return K_BACK;
	case ACT_NEXT_VIEW: s->view = (s->view + 1) % NVIEWS; break;
	case ACT_PREV_VIEW: s->view = (s->view + NVIEWS - 1) % NVIEWS; break;
	case ACT_VIEW1: case ACT_VIEW2: case ACT_VIEW3: case ACT_VIEW4:
		s->view = (int)(a - ACT_VIEW1);
		break;
	case ACT_UP:
		if (s->view == V_CONFUSION) { if (s->row > 0) s->row--; }
		else if (s->scroll > 0) s->scroll--;
		break;
	case ACT_DOWN:
		if (s->view == V_CONFUSION) { if (s->row + 1 < n) s->row++; }
		else s->scroll++;
		break;
	case ACT_PGUP: s->scroll = s->scroll > 10 ? s->scroll - 10 : 0; break;
	case ACT_PGDN: s->scroll += 10; break;
	case ACT_HOME: s->scroll = 0; break;
	case ACT_END: s->scroll = 1 << 20; break;
	case ACT_LEFT: if (s->col > 0) s->col--; break;
	case ACT_RIGHT: if (s->col + 1 < n) s->col++; break;
	case ACT_POINT_PREV:
	case ACT_POINT_NEXT:
		if (!s->points.n)
			break;
		s->point = (s->point + (a == ACT_POINT_NEXT ? 1 : s->points.n - 1)) % s->points.n;
		s->want = s->points.v[s->point];
		return K_RELOAD;
	case ACT_ENTER:
		if (s->view != V_CONFUSION || !s->points.n) {
			if (s->view != V_CONFUSION)
				app_message(app, "Enter opens a confusion cell: go to view 4");
			break;
		}
		app_push(app, preds_screen_new(app, s->id, strcmp(s->points.v[s->point].split, "test") ? "validate" : "test",
					       s->row, s->col));
		break;
	case ACT_PREDS:
		app_push(app, preds_screen_new(app, s->id, s->points.n && !strcmp(s->points.v[s->point].split, "test") ? "test" : "validate", -1, -1));
		break;
	default: break;
	}
	return K_NONE;
}

static void run_release(struct screen *base)
{
	struct run_screen *s = (struct run_screen *)base;
	clear_data(s);
	free(s);
}

static const struct screen_ops run_ops = {
	SCR_RUN, "run", run_reload, run_draw, run_key, run_release,
};

struct screen *run_screen_new(struct app *app, int64_t run)
{
	struct run_screen *s = xcalloc(1, sizeof(*s));
	(void)app;
	s->base.ops = &run_ops;
	s->base.stale = 1;
	s->id = run;
	return &s->base;
}
