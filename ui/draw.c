/*
 * draw: the dashboard's drawing helpers. All text from the data passes
 * through text_fit() so control characters never reach the terminal and
 * wide characters keep columns aligned.
 */
#define _XOPEN_SOURCE 700
#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 1024

int ui_text(int y, int x, int w, const char *s)
{
	wchar_t buf[TEXT_MAX];
	int used;
	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	used = text_fit(s, buf, TEXT_MAX, w, NULL);
	mvaddwstr(y, x, buf);
	return used;
}

int ui_text_wrap(int y, int x, int w, int maxlines, const char *s)
{
	wchar_t buf[TEXT_MAX];
	const char *p = s ? s : "";
	int lines = 0;
	if (w <= 0)
		return 0;
	while (*p && lines < maxlines && y + lines < LINES) {
		size_t used;
		text_fit(p, buf, TEXT_MAX, w, &used);
		if (!used)
			break;
		/* Break at the last space when the line is full and a space exists. */
		if (p[used] && lines + 1 < maxlines) {
			size_t k = used;
			while (k > 0 && p[k - 1] != ' ')
				k--;
			if (k > used / 2)
				used = k;
			{
				char *line = xstrndup(p, used);
				text_fit(line, buf, TEXT_MAX, w, NULL);
				free(line);
			}
		}
		mvaddwstr(y + lines, x, buf);
		p += used;
		lines++;
	}
	return lines;
}

void ui_text_pad(int y, int x, int w, const char *s)
{
	int used = ui_text(y, x, w, s);
	for (; used < w && x + used < COLS; used++)
		mvaddch(y, x + used, ' ');
}

void ui_text_right(int y, int x, int w, const char *s)
{
	int tw = text_width(s);
	if (tw < w)
		x += w - tw;
	ui_text(y, x, tw < w ? tw : w, s);
}

int ui_textf(int y, int x, int w, const char *fmt, ...)
{
	char buf[TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return ui_text(y, x, w, buf);
}

void ui_attr(int pair, attr_t a)
{
	attr_set(a, (short)pair, NULL);
}

void ui_attr_off(void)
{
	attr_set(A_NORMAL, 0, NULL);
}

void ui_title(struct app *app, const char *fmt, ...)
{
	char buf[TEXT_MAX];
	va_list ap;
	(void)app;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ui_attr(PAIR_TITLE, A_REVERSE | A_BOLD);
	ui_text_pad(0, 0, COLS, buf);
	ui_attr_off();
}

void ui_hints(struct app *app, const char *hints)
{
	ui_attr(PAIR_DIM, A_NORMAL);
	ui_text_pad(LINES - 1, 0, COLS, hints);
	ui_attr_off();
	if (app->msg[0] && app->now < app->msg_until) {
		ui_attr(PAIR_BAD, A_BOLD);
		ui_text_pad(LINES - 1, 0, COLS, app->msg);
		ui_attr_off();
	}
}

void ui_bar(int y, int x, int w, double p)
{
	static const wchar_t eighth[9] = { L' ', 0x258f, 0x258e, 0x258d, 0x258c, 0x258b, 0x258a,
					   0x2589, 0x2588 };
	int i, units;
	if (!(p >= 0))
		p = 0;
	if (p > 1)
		p = 1;
	units = (int)lround(p * w * 8);
	for (i = 0; i < w; i++) {
		int u = units - i * 8;
		wchar_t c[2] = { eighth[u >= 8 ? 8 : u > 0 ? u : 0], 0 };
		mvaddwstr(y, x + i, c);
	}
}

/* The xterm 256-colour index nearest to an RGB colour (cube or grey ramp). */
static int rgb_to_256(int r, int g, int b)
{
	static const int level[6] = { 0, 95, 135, 175, 215, 255 };
	int ri, gi, bi, cube, grey, gi2, dc, dg;
#define CUBE_INDEX(v) ((v) < 48 ? 0 : (v) < 115 ? 1 : ((v) - 35) / 40)
	ri = CUBE_INDEX(r); gi = CUBE_INDEX(g); bi = CUBE_INDEX(b);
#undef CUBE_INDEX
	cube = 16 + 36 * ri + 6 * gi + bi;
	gi2 = ((r + g + b) / 3 - 3) / 10;
	if (gi2 < 0) gi2 = 0;
	if (gi2 > 23) gi2 = 23;
	grey = 8 + 10 * gi2;
	dc = (r - level[ri]) * (r - level[ri]) + (g - level[gi]) * (g - level[gi]) + (b - level[bi]) * (b - level[bi]);
	dg = (r - grey) * (r - grey) + (g - grey) * (g - grey) + (b - grey) * (b - grey);
	return dg < dc ? 232 + gi2 : cube;
}

/* The nearest of the 8 basic colours. */
static int rgb_to_8(int r, int g, int b)
{
	return (r > 127 ? COLOR_RED : 0) | (g > 127 ? COLOR_GREEN : 0) | (b > 127 ? COLOR_BLUE : 0);
}

/* A colour pair for (fg, bg), made on first use; 0 when none is left. */
static int dynamic_pair(struct app *app, int fg, int bg)
{
	int key = (fg << 9 | (bg & 511)) + 1, h = (int)(((unsigned)key * 2654435761u) >> 20) & 4095, i;
	int limit = COLOR_PAIRS < 32767 ? COLOR_PAIRS : 32767;
	for (i = 0; i < 4096; i++, h = (h + 1) & 4095) {
		if (app->pair_key[h] == key)
			return app->pair_num[h];
		if (!app->pair_key[h])
			break;
	}
	if (i == 4096 || PAIR_DYNAMIC + app->pairs_next >= limit)
		return 0;
	app->pair_key[h] = key;
	app->pair_num[h] = (short)(PAIR_DYNAMIC + app->pairs_next++);
	init_pair(app->pair_num[h], (short)fg, (short)bg);
	return app->pair_num[h];
}

void ui_image(struct app *app, int y, int x, const uint8_t *rgb, int w, int h)
{
	int r, c;
	if (!app->colours)
		return;
	for (r = 0; r < (h + 1) / 2 && y + r < LINES; r++)
		for (c = 0; c < w && x + c < COLS; c++) {
			const uint8_t *top = rgb + ((size_t)(2 * r) * w + c) * 3;
			const uint8_t *bot = 2 * r + 1 < h ? top + (size_t)w * 3 : NULL;
			int fg, bg, pair;
			if (app->colours >= 256) {
				fg = rgb_to_256(top[0], top[1], top[2]);
				bg = bot ? rgb_to_256(bot[0], bot[1], bot[2]) : -1;
			} else {
				fg = rgb_to_8(top[0], top[1], top[2]);
				bg = bot ? rgb_to_8(bot[0], bot[1], bot[2]) : -1;
			}
			pair = dynamic_pair(app, fg, bg);
			attr_set(A_NORMAL, (short)pair, NULL);
			mvaddwstr(y + r, x + c, L"\u2580");
		}
	attr_set(A_NORMAL, 0, NULL);
}

void ui_tabs(int y, const char *const *names, int n, int cur)
{
	int i, x = 0;
	for (i = 0; i < n && x < COLS; i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), " %d %s ", i + 1, names[i]);
		ui_attr(i == cur ? PAIR_SEL : 0, i == cur ? A_REVERSE | A_BOLD : A_NORMAL);
		x += ui_text(y, x, COLS - x, buf);
		ui_attr_off();
		x += ui_text(y, x, COLS - x, " ");
	}
	ui_attr(PAIR_DIM, A_NORMAL);
	ui_textf(y, x + 1, COLS - x - 1, "(Tab, 1-%d)", n);
	ui_attr_off();
}

const char *fmt_num(char *buf, size_t n, const char *fmt, double v)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, fmt, v);
	return buf;
}

const char *fmt_duration(char *buf, size_t n, double s)
{
	if (isnan(s) || s < 0)
		snprintf(buf, n, "-");
	else if (s < 60)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else if (s < 86400 * 10)
		snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	else
		snprintf(buf, n, "%dd", (int)(s / 86400));
	return buf;
}

/* y-axis label: compact, at most 7 columns. */
static void axis_label(char *buf, size_t n, double v)
{
	if (fabs(v) >= 1000 || (fabs(v) < 0.01 && v != 0))
		snprintf(buf, n, "%.1e", v);
	else
		snprintf(buf, n, "%.3f", v);
}

/* The y axis (max, middle and min labelled in label_w columns) and the x axis
 * line of a pw x ph plot whose title is on row y, in the current attribute. */
static void draw_axes(const struct chart *c, int y, int x, int label_w, int pw, int ph)
{
	char lab[32];
	int r, col;
	axis_label(lab, sizeof(lab), c->ymax);
	ui_text_right(y + 1, x, label_w, lab);
	if (ph >= 3) {
		axis_label(lab, sizeof(lab), (c->ymax + c->ymin) / 2);
		ui_text_right(y + 1 + (ph - 1) / 2, x, label_w, lab);
	}
	axis_label(lab, sizeof(lab), c->ymin);
	ui_text_right(y + ph, x, label_w, lab);
	for (r = 0; r < ph; r++)
		mvaddwstr(y + 1 + r, x + label_w, L"\u2502");
	mvaddwstr(y + 1 + ph, x + label_w, L"\u2514");
	for (col = 0; col < pw; col++)
		mvaddwstr(y + 1 + ph, x + label_w + 1 + col, L"\u2500");
}

void ui_chart(int y, int x, int w, int h, const char *title, const struct chart_series *s,
	      int ns, const char *const *legend)
{
	struct chart c;
	char lab[32];
	int pw, ph, r, col, i, lx, label_w = 8;
	if (w < label_w + 6 || h < 4)
		return;
	/* Title line with the legend. */
	ui_attr(0, A_BOLD);
	lx = x + ui_text(y, x, w, title);
	ui_attr_off();
	for (i = 0; legend && i < ns && lx < x + w; i++) {
		char item[80];
		snprintf(item, sizeof(item), "  \u2500\u2500 %s", legend[i] ? legend[i] : "");
		ui_attr(PAIR_SERIES + s[i].colour % SERIES_COLOURS, A_BOLD);
		lx += ui_text(y, lx, x + w - lx, item);
		ui_attr_off();
	}
	pw = w - label_w - 1;
	ph = h - 2;   /* title above, x labels below */
	chart_plot(&c, pw, ph, s, ns);
	/* y axis: max at the top, mid, min at the bottom. */
	ui_attr(PAIR_DIM, A_NORMAL);
	draw_axes(&c, y, x, label_w, pw, ph);
	/* x labels: first and last epoch, and "epoch" in the middle. */
	snprintf(lab, sizeof(lab), "%g", c.xmin);
	ui_text(y + 1 + ph, x + label_w + 1, pw, lab);
	snprintf(lab, sizeof(lab), "%g", c.xmax);
	ui_text_right(y + 1 + ph, x + label_w + 1, pw, lab);
	if (pw > 20)
		ui_text(y + 1 + ph, x + label_w + 1 + pw / 2 - 2, 5, "epoch");
	ui_attr_off();
	if (c.empty) {
		ui_attr(PAIR_DIM, A_NORMAL);
		ui_text(y + 1 + ph / 2, x + label_w + 2, pw - 2, "no data yet");
		ui_attr_off();
	}
	for (r = 0; r < ph; r++)
		for (col = 0; col < pw; col++) {
			wchar_t ch[2] = { chart_cell(&c, r, col), 0 };
			int colour = c.colour[r * c.w + col];
			if (ch[0] == L' ')
				continue;
			ui_attr(PAIR_SERIES + (colour < 0 ? 0 : colour % SERIES_COLOURS), A_BOLD);
			mvaddwstr(y + 1 + r, x + label_w + 1 + col, ch);
		}
	ui_attr_off();
	chart_release(&c);
}

/* Draws the plotted cells of c at (y, x), coloured per series. */
static void chart_cells(const struct chart *c, int y, int x)
{
	int r, col;
	for (r = 0; r < c->h; r++)
		for (col = 0; col < c->w; col++) {
			wchar_t ch[2] = { chart_cell(c, r, col), 0 };
			int colour = c->colour[r * c->w + col];
			if (ch[0] == L' ')
				continue;
			ui_attr(PAIR_SERIES + (colour < 0 ? 0 : colour % SERIES_COLOURS), A_BOLD);
			mvaddwstr(y + r, x + col, ch);
		}
	ui_attr_off();
}

/* A tick label centred under column col of a plot starting at x0; *next: the first free column. */
static void tick(int y, int x0, int pw, int col, const char *lab, int *next)
{
	int len = (int)strlen(lab), at = x0 + col - len / 2;
	if (at < x0)
		at = x0;
	if (at + len > x0 + pw)
		at = x0 + pw - len;
	if (at < *next || at < x0)
		return;
	mvaddwstr(y - 1, x0 + col, L"\u252c");
	ui_text(y, at, len, lab);
	*next = at + len + 1;
}

void ui_scatter(int y, int x, int w, int h, const char *title, const struct chart_series *s, int ns,
		int logx, const char *xname, char *const *cats, int ncats)
{
	struct chart c;
	char lab[48];
	double range[2] = { -0.5, ncats - 0.5 };
	int pw, ph, k, label_w = 8, next, x0;
	if (w < label_w + 12 || h < 5)
		return;
	pw = w - label_w - 1;
	ph = h - 3;   /* title above; axis and tick labels below */
	x0 = x + label_w + 1;
	chart_plot_ex(&c, pw, ph, s, ns, CHART_POINTS | CHART_PAD | (logx ? CHART_LOGX : 0), ncats ? range : NULL);
	ui_attr(0, A_BOLD);
	k = ui_text(y, x, w, title);
	ui_attr_off();
	/* The x axis's name, and its scale. */
	ui_attr(PAIR_DIM, A_NORMAL);
	ui_textf(y, x + k, w - k, "   x: %s%s", xname ? xname : "", c.logx ? ", log scale" : "");
	ui_attr_off();
	ui_attr(PAIR_DIM, A_NORMAL);
	draw_axes(&c, y, x, label_w, pw, ph);
	/* Ticks: each category; each decade on a log axis; else the ends and the middle. */
	next = x0;
	if (c.empty) {
		ui_text(y + 1 + ph / 2, x0 + 1, pw - 2, "no trial with a metric yet");
	} else if (ncats) {
		for (k = 0; k < ncats; k++)
			tick(y + 2 + ph, x0, pw, chart_col_of(&c, k), cats[k], &next);
	} else if (c.logx) {
		int d;
		for (d = (int)ceil(log10(c.xmin) - 1e-9); d <= (int)floor(log10(c.xmax) + 1e-9); d++) {
			snprintf(lab, sizeof(lab), "%g", pow(10, d));
			tick(y + 2 + ph, x0, pw, chart_col_of(&c, pow(10, d)), lab, &next);
		}
	} else {
		double v[3] = { c.dxmin, (c.dxmin + c.dxmax) / 2, c.dxmax };
		for (k = 0; k < 3; k++) {
			snprintf(lab, sizeof(lab), "%.4g", v[k]);
			tick(y + 2 + ph, x0, pw, chart_col_of(&c, v[k]), lab, &next);
		}
	}
	ui_attr_off();
	chart_cells(&c, y + 1, x0);
	chart_release(&c);
}
