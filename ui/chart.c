/*
 * chart: braille line charts. See chart.h.
 */
#include "chart.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Braille dot bits by (dx, dy) inside a cell: columns 0-1, rows 0-3. */
static const unsigned char braille_bit[4][2] = {
	{ 0x01, 0x08 }, { 0x02, 0x10 }, { 0x04, 0x20 }, { 0x40, 0x80 },
};

static void set_dot(struct chart *c, int px, int py, int colour)
{
	int col = px / 2, row = py / 4;
	if (px < 0 || py < 0 || col >= c->w || row >= c->h)
		return;
	c->dots[row * c->w + col] |= braille_bit[py % 4][px % 2];
	c->colour[row * c->w + col] = (signed char)colour;
}

static void line(struct chart *c, int x0, int y0, int x1, int y1, int colour)
{
	int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
	int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
	int err = dx + dy;
	for (;;) {
		set_dot(c, x0, y0, colour);
		if (x0 == x1 && y0 == y1)
			break;
		int e2 = 2 * err;
		if (e2 >= dy) { err += dy; x0 += sx; }
		if (e2 <= dx) { err += dx; y0 += sy; }
	}
}

/* x as the chart scales it. */
static double xs(const struct chart *c, double x)
{
	return c->logx ? log10(x) : x;
}

static int usable(const struct chart *c, double x, double y)
{
	return isfinite(x) && isfinite(y) && (!c->logx || x > 0);
}

int chart_plot(struct chart *c, int w, int h, const struct chart_series *s, int ns)
{
	return chart_plot_ex(c, w, h, s, ns, 0, NULL);
}

int chart_plot_ex(struct chart *c, int w, int h, const struct chart_series *s, int ns, int flags,
		  const double *xrange)
{
	int i, j, pw, ph;
	double x0, x1;
	memset(c, 0, sizeof(*c));
	c->w = w > 0 ? w : 1;
	c->h = h > 0 ? h : 1;
	c->logx = !!(flags & CHART_LOGX);
	c->dots = xcalloc(st_mult((size_t)c->w, (size_t)c->h), 1);
	c->colour = xmalloc(st_mult((size_t)c->w, (size_t)c->h));
	memset(c->colour, -1, (size_t)c->w * (size_t)c->h);
	c->xmin = c->ymin = INFINITY;
	c->xmax = c->ymax = -INFINITY;
	for (i = 0; i < ns; i++)
		for (j = 0; j < s[i].n; j++) {
			if (!usable(c, s[i].x[j], s[i].y[j]))
				continue;
			if (s[i].x[j] < c->xmin) c->xmin = s[i].x[j];
			if (s[i].x[j] > c->xmax) c->xmax = s[i].x[j];
			if (s[i].y[j] < c->ymin) c->ymin = s[i].y[j];
			if (s[i].y[j] > c->ymax) c->ymax = s[i].y[j];
		}
	c->empty = !isfinite(c->ymin);
	c->dxmin = c->xmin;
	c->dxmax = c->xmax;
	if (xrange && xrange[1] > xrange[0] && (!c->logx || xrange[0] > 0)) {
		c->xmin = xrange[0];
		c->xmax = xrange[1];
	}
	if (c->empty) {
		c->xmin = c->ymin = 0;
		c->xmax = c->ymax = 1;
		c->logx = 0;
		return 0;
	}
	if (c->xmax == c->xmin)
		c->xmax = c->logx ? c->xmin * 10 : c->xmin + 1;
	if ((flags & CHART_PAD) && !xrange) {
		double pad = (xs(c, c->xmax) - xs(c, c->xmin)) * 0.05;
		c->xmin = c->logx ? c->xmin / pow(10, pad) : c->xmin - pad;
		c->xmax = c->logx ? c->xmax * pow(10, pad) : c->xmax + pad;
	}
	if (c->ymax - c->ymin < 1e-12) {
		double pad = fabs(c->ymax) > 0 ? fabs(c->ymax) * 0.05 : 0.5;
		c->ymin -= pad;
		c->ymax += pad;
	}
	pw = c->w * 2 - 1;
	ph = c->h * 4 - 1;
	x0 = xs(c, c->xmin);
	x1 = xs(c, c->xmax);
	for (i = 0; i < ns; i++) {
		int have = 0, px0 = 0, py0 = 0;
		for (j = 0; j < s[i].n; j++) {
			int px, py;
			if (!usable(c, s[i].x[j], s[i].y[j]))
				continue;
			px = (int)lround((xs(c, s[i].x[j]) - x0) / (x1 - x0) * pw);
			py = ph - (int)lround((s[i].y[j] - c->ymin) / (c->ymax - c->ymin) * ph);
			if (flags & CHART_POINTS) {
				/* A 2x2 mark that stays inside the plot. */
				int mx = px > 0 ? px - 1 : px, my = py > 0 ? py - 1 : py;
				set_dot(c, mx, my, s[i].colour);
				set_dot(c, mx + 1, my, s[i].colour);
				set_dot(c, mx, my + 1, s[i].colour);
				set_dot(c, mx + 1, my + 1, s[i].colour);
			} else if (have) {
				line(c, px0, py0, px, py, s[i].colour);
			} else {
				set_dot(c, px, py, s[i].colour);
			}
			px0 = px; py0 = py; have = 1;
		}
	}
	return 0;
}

int chart_col_of(const struct chart *c, double x)
{
	double x0 = xs(c, c->xmin), x1 = xs(c, c->xmax), t;
	int col;
	if (c->logx && !(x > 0))
		return 0;
	t = x1 > x0 ? (xs(c, x) - x0) / (x1 - x0) : 0;
	col = (int)lround(t * (c->w * 2 - 1)) / 2;
	return col < 0 ? 0 : col >= c->w ? c->w - 1 : col;
}

void chart_release(struct chart *c)
{
	free(c->dots);
	free(c->colour);
	c->dots = NULL;
	c->colour = NULL;
}

wchar_t chart_cell(const struct chart *c, int row, int col)
{
	unsigned char d = c->dots[row * c->w + col];
	return d ? (wchar_t)(0x2800 + d) : L' ';
}
