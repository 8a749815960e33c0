/*
 * thumb: decoding and scaling a cached image for the post screen. See
 * thumb.h.
 */
#include "thumb.h"
#include "image.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THUMB_MAX_FILE (64 << 20)

static int read_file(const char *path, unsigned char **data, size_t *n, char *why, size_t why_n)
{
	FILE *f = fopen(path, "rb");
	size_t alloc = 0, len = 0, got;
	unsigned char *buf = NULL;
	if (!f) {
		snprintf(why, why_n, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	do {
		if (len + 65536 > alloc)
			ALLOC_GROW(buf, len + 65536, alloc);
		got = fread(buf + len, 1, alloc - len, f);
		len += got;
	} while (got > 0 && len <= THUMB_MAX_FILE);
	fclose(f);
	if (len > THUMB_MAX_FILE) {
		free(buf);
		snprintf(why, why_n, "'%s' is larger than %d MiB", path, THUMB_MAX_FILE >> 20);
		return -1;
	}
	*data = buf;
	*n = len;
	return 0;
}

int thumb_load(struct thumb *t, const char *path, int cols, int rows)
{
	struct img im = IMG_INIT;
	unsigned char *data = NULL;
	size_t n = 0;
	char why[128];
	double sx, sy, s;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	if (cols < 1 || rows < 1) {
		snprintf(t->why, sizeof(t->why), "no room to draw it");
		return -1;
	}
	if (read_file(path, &data, &n, t->why, sizeof(t->why)))
		return -1;
	/* A JPEG decodes at the smallest DCT scale that still covers the box. */
	if (img_decode_scaled(data, n, cols, rows * 2, &im, why, sizeof(why))) {
		snprintf(t->why, sizeof(t->why), "cannot decode it: %s", why);
		goto out;
	}
	t->src_w = im.w;
	t->src_h = im.h;
	sx = (double)cols / im.w;
	sy = (double)(rows * 2) / im.h;
	s = sx < sy ? sx : sy;
	if (s > 1)
		s = 1;   /* never enlarge */
	t->w = (int)(im.w * s + 0.5);
	t->h = (int)(im.h * s + 0.5);
	if (t->w < 1) t->w = 1;
	if (t->h < 1) t->h = 1;
	t->rgb = xmalloc(st_mult(st_mult((size_t)t->w, (size_t)t->h), 3));
	if (img_resize(im.pix, im.w, im.h, t->rgb, t->w, t->h)) {
		free(t->rgb);
		t->rgb = NULL;
		snprintf(t->why, sizeof(t->why), "cannot scale it");
		goto out;
	}
	ret = 0;
out:
	img_release(&im);
	free(data);
	return ret;
}

void thumb_release(struct thumb *t)
{
	free(t->rgb);
	memset(t, 0, sizeof(*t));
}
