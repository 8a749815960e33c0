/*
 * image_int: what image.c and image_resize.c share; not for other modules.
 */
#ifndef MMDB_IMAGE_INT_H
#define MMDB_IMAGE_INT_H

#include <stddef.h>
#include <stdint.h>

/* A growable scratch buffer kept between calls (per thread). */
struct img_buf {
	void *p;
	size_t n;
};

/* Returns at least n bytes of b (contents not kept). Never NULL. */
void *img_buf_get(struct img_buf *b, size_t n);
/* Frees b's memory if it holds more than keep bytes (keep = 0: always). */
void img_buf_trim(struct img_buf *b, size_t keep);

/* The scratch memory one resize uses. */
struct img_resize_scratch {
	struct img_buf hb, hk, vb, vk; /* filter bounds and coefficients */
	struct img_buf w;              /* one output's weights while computing them */
	struct img_buf tmp;            /* horizontal pass output */
	struct img_buf acc;            /* vertical pass accumulators */
};

/*
 * Resizes packed RGB src (sw x sh, row stride sstride bytes) to a virtual
 * dw x dh image and writes only its window [x0, x0 + ow) x [y0, y0 + oh)
 * to dst (ow x oh, packed). The result equals resizing to dw x dh with
 * Pillow's BILINEAR filter (antialiased when reducing) and cropping.
 * Sizes must be valid (caller checks): 1 <= ow <= dw, x0 + ow <= dw, same
 * for y.
 */
void img_resize_window(const uint8_t *src, int sw, int sh, size_t sstride,
		       uint8_t *dst, int dw, int dh, int x0, int y0, int ow, int oh,
		       struct img_resize_scratch *rs);

void img_resize_scratch_release(struct img_resize_scratch *rs);

#endif
