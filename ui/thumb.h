/*
 * thumb: a post's cached image, decoded (through image.h) and scaled to fit
 * a box of terminal cells drawn with half blocks (each cell two pixels
 * tall), aspect ratio kept. No curses here.
 */
#ifndef MMDB_UI_THUMB_H
#define MMDB_UI_THUMB_H

#include <stdint.h>

struct thumb {
	int w, h;          /* pixels: w <= cells wide, h <= 2 * cells tall */
	uint8_t *rgb;      /* w * h * 3 bytes, packed RGB; NULL when none */
	int src_w, src_h;  /* the image's own size */
	char why[160];     /* why there is no picture, when rgb is NULL */
};

/*
 * Reads the file at path and scales it into at most cols x (2 * rows)
 * pixels. Returns 0, or -1 with the reason in t->why (nothing printed).
 * Release with thumb_release().
 */
int thumb_load(struct thumb *t, const char *path, int cols, int rows);
void thumb_release(struct thumb *t);

#endif
