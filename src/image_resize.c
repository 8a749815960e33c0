/*
 * image_resize: separable antialiased resizing of packed RGB, in the manner
 * of Pillow's BILINEAR resampling: a triangle filter whose support grows
 * with the reduction factor (so downscaling averages every source pixel
 * instead of skipping some), coefficients in 22-bit fixed point, and two
 * passes through a uint8 intermediate, the one leaving the smaller
 * intermediate first (as Pillow chooses).
 * Given the same input it matches Pillow's Image.resize(..., BILINEAR) to
 * within rounding.
 */
#include "image_int.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)
#define HALF (1 << (PRECISION_BITS - 1))

void *img_buf_get(struct img_buf *b, size_t n)
{
	if (b->n < n) {
		free(b->p);
		b->p = xmalloc(n);
		b->n = n;
	}
	return b->p;
}

void img_buf_trim(struct img_buf *b, size_t keep)
{
	if (b->n > keep) {
		free(b->p);
		b->p = NULL;
		b->n = 0;
	}
}

void img_resize_scratch_release(struct img_resize_scratch *rs)
{
	img_buf_trim(&rs->hb, 0);
	img_buf_trim(&rs->hk, 0);
	img_buf_trim(&rs->vb, 0);
	img_buf_trim(&rs->vk, 0);
	img_buf_trim(&rs->tmp, 0);
	img_buf_trim(&rs->acc, 0);
	img_buf_trim(&rs->w, 0);
}

static double triangle(double x)
{
	if (x < 0.0)
		x = -x;
	return x < 1.0 ? 1.0 - x : 0.0;
}

/*
 * Filter taps for each of out_size outputs over in_size inputs: output i
 * reads inputs bounds[2i] .. bounds[2i] + bounds[2i+1] - 1 with weights
 * k[i * ksize ...] summing to 1 << PRECISION_BITS. Returns ksize.
 * Follows Pillow's precompute_coeffs() and normalize_coeffs_8bpc().
 */
static int coeffs(int in_size, int out_size, struct img_buf *bb, struct img_buf *kb,
		  struct img_buf *wb, int **boundsp, int32_t **kp)
{
	double scale = (double)in_size / out_size;
	double filterscale = scale < 1.0 ? 1.0 : scale;
	double support = 1.0 * filterscale;
	double ss = 1.0 / filterscale;
	int ksize = (int)ceil(support) * 2 + 1;
	int *bounds = img_buf_get(bb, st_mult(st_mult((size_t)out_size, 2), sizeof(int)));
	int32_t *kk = img_buf_get(kb, st_mult(st_mult((size_t)out_size, ksize), sizeof(int32_t)));
	double *w = img_buf_get(wb, st_mult((size_t)ksize, sizeof(double)));
	int i, x;

	for (i = 0; i < out_size; i++) {
		double center = (i + 0.5) * scale, ww = 0.0;
		int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
		int32_t *k = kk + (size_t)i * ksize;

		if (xmin < 0)
			xmin = 0;
		if (xmax > in_size)
			xmax = in_size;
		xmax -= xmin;
		for (x = 0; x < xmax; x++) {
			w[x] = triangle((x + xmin - center + 0.5) * ss);
			ww += w[x];
		}
		for (x = 0; x < xmax; x++) {
			double v = ww != 0.0 ? w[x] / ww : w[x];
			k[x] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS)
					       : 0.5 + v * (1 << PRECISION_BITS));
		}
		for (; x < ksize; x++)
			k[x] = 0;
		bounds[2 * i] = xmin;
		bounds[2 * i + 1] = xmax;
	}
	*boundsp = bounds;
	*kp = kk;
	return ksize;
}

static inline uint8_t clip8(int32_t v)
{
	if (v >= (1 << PRECISION_BITS << 8))
		return 255;
	if (v <= 0)
		return 0;
	return (uint8_t)(v >> PRECISION_BITS);
}

/*
 * Horizontal filter outputs [x0, x0 + ow) for nrows rows of src into dst
 * (ow * 3 bytes a row). src's first byte is source column xoff.
 */
static void pass_h(const uint8_t *src, size_t sstride, int nrows, int xoff, uint8_t *dst,
		   int x0, int ow, const int *bounds, const int32_t *kk, int ksize)
{
	int y, i, x;

	for (y = 0; y < nrows; y++) {
		const uint8_t *row = src + (size_t)y * sstride;
		uint8_t *o = dst + (size_t)y * ow * 3;

		for (i = 0; i < ow; i++) {
			int xmin = bounds[2 * (x0 + i)], xn = bounds[2 * (x0 + i) + 1];
			const int32_t *k = kk + (size_t)(x0 + i) * ksize;
			const uint8_t *p = row + (size_t)(xmin - xoff) * 3;
			int32_t r = HALF, g = HALF, b = HALF;

			for (x = 0; x < xn; x++, p += 3) {
				r += p[0] * k[x];
				g += p[1] * k[x];
				b += p[2] * k[x];
			}
			o[3 * i] = clip8(r);
			o[3 * i + 1] = clip8(g);
			o[3 * i + 2] = clip8(b);
		}
	}
}

/*
 * acc[i] += row[i] * k for n values. Blocks of 16 with a fixed trip count,
 * so that compilers vectorize it even at -O2.
 */
static void mac_row(int32_t *restrict acc, const uint8_t *restrict row, int32_t k, size_t n)
{
	size_t i = 0, j;

	for (; i + 16 <= n; i += 16)
		for (j = 0; j < 16; j++)
			acc[i + j] += row[i + j] * k;
	for (; i < n; i++)
		acc[i] += row[i] * k;
}

/*
 * Vertical filter outputs [y0, y0 + oh) into dst (n bytes a row), reading n
 * bytes of each source row; src's first row is source row yoff.
 */
static void pass_v(const uint8_t *src, size_t sstride, int yoff, uint8_t *dst, size_t n,
		   int y0, int oh, const int *bounds, const int32_t *kk, int ksize, int32_t *acc)
{
	int j, y;
	size_t i;

	for (j = 0; j < oh; j++) {
		int ymin = bounds[2 * (y0 + j)] - yoff, yn = bounds[2 * (y0 + j) + 1];
		const int32_t *k = kk + (size_t)(y0 + j) * ksize;
		uint8_t *o = dst + (size_t)j * n;

		for (i = 0; i < n; i++)
			acc[i] = HALF;
		for (y = 0; y < yn; y++)
			mac_row(acc, src + (size_t)(ymin + y) * sstride, k[y], n);
		for (i = 0; i < n; i++)
			o[i] = clip8(acc[i]);
	}
}

void img_resize_window(const uint8_t *src, int sw, int sh, size_t sstride,
		       uint8_t *dst, int dw, int dh, int x0, int y0, int ow, int oh,
		       struct img_resize_scratch *rs)
{
	int need_h = dw != sw, need_v = dh != sh;
	int *hb = NULL, *vb = NULL, hks = 0, vks = 0, first, last, j;
	int32_t *hk = NULL, *vk = NULL;
	size_t n = (size_t)ow * 3;
	uint8_t *tmp;
	int32_t *acc;

	if (need_h)
		hks = coeffs(sw, dw, &rs->hb, &rs->hk, &rs->w, &hb, &hk);
	if (need_v)
		vks = coeffs(sh, dh, &rs->vb, &rs->vk, &rs->w, &vb, &vk);
	if (need_h && need_v && (size_t)sw * dh < (size_t)dw * sh) {
		/*
		 * Vertical pass first when its intermediate is smaller, as Pillow
		 * chooses: the source columns the horizontal window reads, oh rows.
		 */
		size_t tn;

		first = hb[2 * x0];
		last = hb[2 * (x0 + ow - 1)] + hb[2 * (x0 + ow - 1) + 1];
		tn = (size_t)(last - first) * 3;
		tmp = img_buf_get(&rs->tmp, st_mult(tn, oh));
		acc = img_buf_get(&rs->acc, st_mult(tn, sizeof(int32_t)));
		pass_v(src + (size_t)first * 3, sstride, 0, tmp, tn, y0, oh, vb, vk, vks, acc);
		pass_h(tmp, tn, oh, first, dst, x0, ow, hb, hk, hks);
		return;
	}
	if (need_h && need_v) {
		/* Horizontal first: only the source rows the vertical window reads. */
		first = vb[2 * y0];
		last = vb[2 * (y0 + oh - 1)] + vb[2 * (y0 + oh - 1) + 1];
		tmp = img_buf_get(&rs->tmp, st_mult((size_t)(last - first), n));
		acc = img_buf_get(&rs->acc, st_mult(n, sizeof(int32_t)));
		pass_h(src + (size_t)first * sstride, sstride, last - first, 0, tmp, x0, ow, hb, hk, hks);
		pass_v(tmp, n, first, dst, n, y0, oh, vb, vk, vks, acc);
		return;
	}
	if (need_h) {
		pass_h(src + (size_t)y0 * sstride, sstride, oh, 0, dst, x0, ow, hb, hk, hks);
		return;
	}
	if (need_v) {
		acc = img_buf_get(&rs->acc, st_mult(n, sizeof(int32_t)));
		pass_v(src + (size_t)x0 * 3, sstride, 0, dst, n, y0, oh, vb, vk, vks, acc);
		return;
	}
	for (j = 0; j < oh; j++)
		memcpy(dst + (size_t)j * n, src + (size_t)(y0 + j) * sstride + (size_t)x0 * 3, n);
}
