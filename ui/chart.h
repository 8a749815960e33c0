/*
 * chart: line charts on a grid of Unicode braille cells (2x4 dots each).
 * Series are scaled into a shared x/y range and drawn as connected lines;
 * each cell remembers the colour index of the last series that touched it.
 * No curses here: a screen draws the cells and labels the axes from the
 * range this computes.
 */
#ifndef MMDB_UI_CHART_H
#define MMDB_UI_CHART_H

#include <wchar.h>

struct chart_series {
	const double *x;  /* n values (epochs) */
	const double *y;  /* n values; NaN skips a point */
	int n;
	int colour;       /* index handed back per cell */
};

struct chart {
	int w, h;                 /* size in cells */
	unsigned char *dots;      /* w*h braille dot bits */
	signed char *colour;      /* w*h colour index, -1 where empty */
	double xmin, xmax, ymin, ymax;
	int empty;                /* 1 when no series had a finite point */
	int logx;                 /* x scaled by log10 (xmin, xmax stay in x's units) */
	double dxmin, dxmax;      /* the points' own x range (before CHART_PAD or xrange) */
};

/* chart_plot_ex flags. */
enum {
	CHART_POINTS = 1,         /* a scatter: each point a 2x2 dot mark, no connecting lines */
	CHART_LOGX = 2,           /* x on a log10 scale; points with x <= 0 are left out */
	CHART_PAD = 4,            /* a margin of 5% on each side of the x range */
};

/*
 * Plots `ns` series into a w x h cell chart. The y range covers every
 * finite value (padded when flat); the x range every x. Returns 0; the
 * chart owns its arrays: release with chart_release().
 */
int chart_plot(struct chart *c, int w, int h, const struct chart_series *s, int ns);
/*
 * As chart_plot, with CHART_* flags, and the x range fixed to xrange[0..1]
 * when xrange is not NULL (categories at 0..n-1 get -0.5..n-0.5).
 */
int chart_plot_ex(struct chart *c, int w, int h, const struct chart_series *s, int ns, int flags,
		  const double *xrange);
/* The cell column where x falls (clamped to the chart). */
int chart_col_of(const struct chart *c, double x);
void chart_release(struct chart *c);
/* The braille character of a cell (U+2800 + dots), or ' ' when empty. */
wchar_t chart_cell(const struct chart *c, int row, int col);

#endif
