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
};

/*
 * Plots `ns` series into a w x h cell chart. The y range covers every
 * finite value (padded when flat); the x range every x. Returns 0; the
 * chart owns its arrays: release with chart_release().
 */
int chart_plot(struct chart *c, int w, int h, const struct chart_series *s, int ns);
void chart_release(struct chart *c);
/* The braille character of a cell (U+2800 + dots), or ' ' when empty. */
wchar_t chart_cell(const struct chart *c, int row, int col);

#endif
