/*
 * Tests of src/image: decoding of the real sample images and of generated
 * images of every colour type, EXIF orientation, truncated, corrupt and
 * oversized files, and the resampler against Pillow.
 *
 * The references come from tests/unit/image_ref.py (Pillow and numpy), run
 * once into a temporary directory by the group setup.
 */
#include "image.h"
#include "util.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIZE 224

struct entry {
	char kind[16], name[64], file[1100], ref1[512], ref2[512], ref3[512], ref4[512], ref5[512];
	int w, h;
	double mean_tol;
	int max_tol;
};

static char tmpdir[256];
static char sample_dir[512];
static struct entry *entries;
static size_t nentries;

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *d;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	d = xmalloc(len > 0 ? (size_t)len : 1);
	*n = fread(d, 1, (size_t)len, f);
	fclose(f);
	return d;
}

static unsigned char *slurp_ok(const char *path, size_t *n)
{
	unsigned char *d = slurp(path, n);

	if (!d)
		fail_msg("cannot read %s", path);
	return d;
}

static const char *in_tmp(const char *name)
{
	static char path[2048];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static const struct entry *find(const char *name)
{
	size_t i;

	for (i = 0; i < nentries; i++)
		if (!strcmp(entries[i].name, name))
			return &entries[i];
	fail_msg("no reference named %s", name);
	return NULL;
}

/* Mean and max absolute difference of n bytes. */
static double diff(const uint8_t *a, const uint8_t *b, size_t n, int *max)
{
	double sum = 0;
	size_t i;

	*max = 0;
	for (i = 0; i < n; i++) {
		int d = abs((int)a[i] - (int)b[i]);

		sum += d;
		if (d > *max)
			*max = d;
	}
	return n ? sum / n : 0;
}

static int group_setup(void **state)
{
	const char *top = getenv("MMDB_TOP"), *shared = getenv("MMDB_SHARED");
	char cmd[2048], line[2048];
	size_t alloc = 0;
	FILE *f;

	snprintf(sample_dir, sizeof(sample_dir), "%s/fakeddit-sample/images", shared ? shared : "../shared");
	snprintf(tmpdir, sizeof(tmpdir), "%s/mmdb-test-image-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s/.venv/bin/python' '%s/tests/unit/image_ref.py' '%s' '%s'",
		 top ? top : ".", top ? top : ".", tmpdir, sample_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "reference generation failed: %s\n", cmd);
		return -1;
	}
	if (!(f = fopen(in_tmp("manifest.txt"), "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct entry e = { 0 };
		int k = 0;

		if (sscanf(line, "%15s", e.kind) != 1)
			continue;
		if (!strcmp(e.kind, "fixture"))
			k = sscanf(line, "%*s %63s %1099s %d %d %511s %lf %d", e.name, e.file, &e.w, &e.h,
				   e.ref1, &e.mean_tol, &e.max_tol) == 7;
		else if (!strcmp(e.kind, "error"))
			k = sscanf(line, "%*s %63s %1099s %511s", e.name, e.file, e.ref1) == 3;
		else if (!strcmp(e.kind, "sample"))
			k = sscanf(line, "%*s %63s %1099s %d %d %511s %511s %511s %511s %511s", e.name,
				   e.file, &e.w, &e.h, e.ref1, e.ref2, e.ref3, e.ref4, e.ref5) == 9;
		else if (!strcmp(e.kind, "pipeline"))
			k = sscanf(line, "%*s %63s %1099s %511s %511s %511s %511s", e.name, e.file, e.ref2,
				   e.ref3, e.ref4, e.ref5) == 6;
		if (!k) {
			fprintf(stderr, "bad manifest line: %s", line);
			fclose(f);
			return -1;
		}
		if (strcmp(e.kind, "sample") && strcmp(e.kind, "pipeline") &&
		    snprintf(e.file, sizeof(e.file), "%s", in_tmp(e.file)) >= (int)sizeof(e.file)) {
			fclose(f);
			return -1;
		}
		ALLOC_GROW(entries, nentries + 1, alloc);
		entries[nentries++] = e;
	}
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[512];

	if (tmpdir[0] && !getenv("MMDB_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	free(entries);
	return 0;
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* A reason is one of the documented kinds. */
static void assert_reason(const char *why)
{
	static const char *kinds[] = { "empty", "unknown format", "truncated", "corrupt", "too large", "unsupported" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (has_prefix(why, kinds[i]))
			return;
	fail_msg("undocumented failure reason '%s'", why);
}

static void test_image__sniff_uses_magic_bytes(void **state)
{
	static const char *pngs[] = { "5bn1qa", "98ggbm", "ct8etz1" };
	char path[1024];
	size_t i, n, npng = 0, njpeg = 0;

	for (i = 0; i < ARRAY_SIZE(pngs); i++) {
		unsigned char *d;

		snprintf(path, sizeof(path), "%s/%s.jpg", sample_dir, pngs[i]);
		d = slurp_ok(path, &n);
		assert_int_equal(img_sniff(d, n), IMG_PNG);
		free(d);
	}
	for (i = 0; i < nentries; i++) {
		unsigned char *d;
		int f;

		if (strcmp(entries[i].kind, "sample"))
			continue;
		d = slurp_ok(entries[i].file, &n);
		f = img_sniff(d, n);
		npng += f == IMG_PNG;
		njpeg += f == IMG_JPEG;
		free(d);
	}
	assert_int_equal(npng, 3);
	assert_int_equal(njpeg, 48);
	assert_int_equal(img_sniff("GIF89a....", 10), IMG_GIF);
	assert_int_equal(img_sniff("GIF87a", 6), IMG_GIF);
	assert_int_equal(img_sniff("RIFF\x10\0\0\0WEBPVP8 ", 16), IMG_WEBP);
	assert_int_equal(img_sniff("RIFF\x10\0\0\0WAVEfmt ", 16), IMG_UNKNOWN);
	assert_int_equal(img_sniff("\xff\xd8", 2), IMG_UNKNOWN);
	assert_int_equal(img_sniff("<html>", 6), IMG_UNKNOWN);
	assert_int_equal(img_sniff("", 0), IMG_UNKNOWN);
	assert_string_equal(img_format_name(IMG_JPEG), "jpeg");
	assert_string_equal(img_format_name(IMG_PNG), "png");
	assert_string_equal(img_format_name(IMG_GIF), "gif");
	assert_string_equal(img_format_name(IMG_WEBP), "webp");
	assert_string_equal(img_format_name(IMG_UNKNOWN), "unknown");
}

/* Every sample decodes at Pillow's size, probe agrees, pixels match Pillow's decode. */
static void test_image__decodes_every_sample(void **state)
{
	size_t i, n, count = 0;

	for (i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];
		struct img im = IMG_INIT;
		unsigned char *d, *ref;
		char why[128] = "";
		int fmt, w, h, mx;
		double mean;

		if (strcmp(e->kind, "sample"))
			continue;
		count++;
		d = slurp_ok(e->file, &n);
		assert_int_equal(img_probe(d, n, &fmt, &w, &h), 0);
		assert_int_equal(w, e->w);
		assert_int_equal(h, e->h);
		if (img_decode(d, n, &im, why, sizeof(why)))
			fail_msg("%s: %s", e->name, why);
		assert_int_equal(im.w, e->w);
		assert_int_equal(im.h, e->h);
		assert_int_equal(im.format, fmt);
		if (strcmp(e->ref1, "-")) {
			size_t rn;

			ref = slurp_ok(in_tmp(e->ref1), &rn);
			assert_int_equal(rn, (size_t)im.w * im.h * 3);
			mean = diff(im.pix, ref, rn, &mx);
			if (fmt == IMG_PNG ? mx != 0 : mean > 0.5 || mx > 8)
				fail_msg("%s (%s): differs from Pillow's decode: mean %.3f max %d",
					 e->name, img_format_name(fmt), mean, mx);
			free(ref);
		}
		if (!strcmp(e->name, "ct8etz1")) {
			assert_int_equal(fmt, IMG_PNG);
			assert_int_equal(im.w, 161);
			assert_int_equal(im.h, 81);
		}
		img_release(&im);
		assert_null(im.pix);
		free(d);
	}
	assert_int_equal(count, 51);
}

/* Generated PNG/GIF/JPEG/WebP of every colour type decode to the expected RGB. */
static void test_image__colour_types_match_reference(void **state)
{
	size_t i, n, count = 0;

	for (i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];
		struct img im = IMG_INIT;
		unsigned char *d, *ref;
		char why[128] = "";
		size_t rn;
		int mx, w, h;
		double mean;

		if (strcmp(e->kind, "fixture"))
			continue;
		count++;
		d = slurp_ok(e->file, &n);
		if (img_decode(d, n, &im, why, sizeof(why)))
			fail_msg("%s: %s", e->name, why);
		if (im.w != e->w || im.h != e->h)
			fail_msg("%s: decoded %dx%d, expected %dx%d", e->name, im.w, im.h, e->w, e->h);
		assert_int_equal(img_probe(d, n, NULL, &w, &h), 0);
		assert_int_equal(w, e->w);
		assert_int_equal(h, e->h);
		ref = slurp_ok(in_tmp(e->ref1), &rn);
		assert_int_equal(rn, (size_t)e->w * e->h * 3);
		mean = diff(im.pix, ref, rn, &mx);
		if (mean > e->mean_tol || mx > e->max_tol)
			fail_msg("%s: mean diff %.3f (max %.2f), max %d (max %d)", e->name, mean,
				 e->mean_tol, mx, e->max_tol);
		free(ref);
		img_release(&im);
		free(d);
	}
	assert_true(count >= 40);
}

static void test_image__unsupported_variants_are_errors(void **state)
{
	size_t i, n, count = 0;

	for (i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];
		struct img im = IMG_INIT;
		uint8_t out[8 * 8 * 3];
		char why[128] = "";
		unsigned char *d;

		if (strcmp(e->kind, "error"))
			continue;
		count++;
		d = slurp_ok(e->file, &n);
		assert_int_equal(img_decode(d, n, &im, why, sizeof(why)), -1);
		assert_null(im.pix);
		assert_true(has_prefix(why, e->ref1));
		assert_int_equal(img_decode_resize(d, n, 8, IMG_SQUASH, out, why, sizeof(why)), -1);
		assert_true(has_prefix(why, e->ref1));
		free(d);
	}
	assert_int_equal(count, 1);
}

/* The resampler against Pillow's resize((224, 224), BILINEAR) on the same pixels. */
static void test_image__resize_matches_pillow(void **state)
{
	static uint8_t out[SIZE * SIZE * 3];
	size_t i, n, count = 0;
	double worst_mean = 0;
	int worst_max = 0;

	for (i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];
		unsigned char *src, *ref;
		double mean;
		int mx;

		if (strcmp(e->kind, "sample") || !strcmp(e->ref1, "-"))
			continue;
		count++;
		src = slurp_ok(in_tmp(e->ref1), &n);
		assert_int_equal(n, (size_t)e->w * e->h * 3);
		assert_int_equal(img_resize(src, e->w, e->h, out, SIZE, SIZE), 0);
		ref = slurp_ok(in_tmp(e->ref2), &n);
		assert_int_equal(n, sizeof(out));
		mean = diff(out, ref, n, &mx);
		if (mean > 0.25 || mx > 1)
			print_message("%s: resize differs from Pillow's: mean %.4f max %d\n", e->name, mean, mx);
		if (mean > worst_mean)
			worst_mean = mean;
		if (mx > worst_max)
			worst_max = mx;
		free(ref);
		free(src);
	}
	print_message("resize vs Pillow over %zu images: worst mean %.4f, worst max %d\n", count,
		      worst_mean, worst_max);
	assert_true(count >= 45);
	/*
	 * Same filter and fixed-point arithmetic: identical when both run the
	 * passes in the same order; where Pillow picks the other order the
	 * intermediate rounding moves some values by one.
	 */
	assert_true(worst_mean < 0.25);
	assert_true(worst_max <= 1);
}

/* Upscaling and odd sizes too: a generated image to several sizes, against numpy-free checks. */
static void test_image__resize_preserves_flat_and_identity(void **state)
{
	uint8_t src[40 * 30 * 3], out[97 * 61 * 3], back[40 * 30 * 3];
	size_t i;
	int mx;

	for (i = 0; i < sizeof(src); i += 3) {
		src[i] = 200;
		src[i + 1] = 17;
		src[i + 2] = 90;
	}
	/* a flat image stays flat, up and down */
	assert_int_equal(img_resize(src, 40, 30, out, 97, 61), 0);
	for (i = 0; i < (size_t)97 * 61 * 3; i += 3)
		assert_true(out[i] == 200 && out[i + 1] == 17 && out[i + 2] == 90);
	assert_int_equal(img_resize(src, 40, 30, out, 7, 3), 0);
	for (i = 0; i < (size_t)7 * 3 * 3; i += 3)
		assert_true(out[i] == 200 && out[i + 1] == 17 && out[i + 2] == 90);
	/* same size is the identity */
	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7919 >> 3);
	assert_int_equal(img_resize(src, 40, 30, back, 40, 30), 0);
	diff(src, back, sizeof(src), &mx);
	assert_int_equal(mx, 0);
	/* halving a checkerboard gives its mean away from the borders (no aliasing) */
	for (i = 0; i < 40 * 30; i++)
		memset(src + 3 * i, ((i % 40) + (i / 40)) % 2 ? 255 : 0, 3);
	assert_int_equal(img_resize(src, 40, 30, out, 20, 15), 0);
	for (i = 0; i < 20 * 15; i++)
		if (i % 20 && i % 20 != 19 && i / 20 && i / 20 != 14)
			assert_in_range(out[3 * i], 126, 129);
	assert_int_equal(img_resize(src, 0, 30, out, 20, 15), -1);
	assert_int_equal(img_resize(src, 40, 30, out, 20, 0), -1);
}

/*
 * The whole path (DCT-scaled decode + resize, both modes): against Pillow
 * decoding at the same DCT scale (draft) and resizing, closely; against
 * Pillow's full decode + resize, loosely (the scaled IDCT is a different,
 * also antialiasing, low-pass: textured images differ a little).
 */
static void test_image__decode_resize_close_to_pillow(void **state)
{
	static uint8_t out[SIZE * SIZE * 3];
	double worst_draft = 0, worst_full = 0, sum_full = 0;
	int worst_draft_max = 0;
	size_t i, n, count = 0;

	for (i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];
		int mode;

		if (strcmp(e->kind, "sample") && strcmp(e->kind, "pipeline"))
			continue;
		count++;
		for (mode = IMG_SQUASH; mode <= IMG_CROP; mode++) {
			unsigned char *d, *ref;
			char why[128] = "";
			double mean;
			int mx;

			d = slurp_ok(e->file, &n);
			if (img_decode_resize(d, n, SIZE, mode, out, why, sizeof(why)))
				fail_msg("%s: %s", e->name, why);
			free(d);
			ref = slurp_ok(in_tmp(mode == IMG_SQUASH ? e->ref4 : e->ref5), &n);
			assert_int_equal(n, sizeof(out));
			mean = diff(out, ref, n, &mx);
			if (mean > 0.5 || mx > 8)
				fail_msg("%s %s: mean %.3f max %d against Pillow at the same DCT scale",
					 e->name, mode == IMG_SQUASH ? "squash" : "crop", mean, mx);
			worst_draft = mean > worst_draft ? mean : worst_draft;
			worst_draft_max = mx > worst_draft_max ? mx : worst_draft_max;
			free(ref);
			ref = slurp_ok(in_tmp(mode == IMG_SQUASH ? e->ref2 : e->ref3), &n);
			mean = diff(out, ref, n, &mx);
			if (mean > 4.0)
				fail_msg("%s %s: mean %.3f max %d against Pillow's full decode", e->name,
					 mode == IMG_SQUASH ? "squash" : "crop", mean, mx);
			worst_full = mean > worst_full ? mean : worst_full;
			sum_full += mean;
			free(ref);
		}
	}
	print_message("decode+resize vs Pillow: same DCT scale worst mean %.3f (max %d); full decode "
		      "worst mean %.3f, average %.3f\n", worst_draft, worst_draft_max, worst_full,
		      sum_full / (2.0 * count));
	assert_int_equal(count, 51 + 3);
}

/* decode_resize applies the EXIF orientation the same way img_decode does, in both modes. */
static void test_image__orientation_in_decode_resize(void **state)
{
	int o;

	for (o = 1; o <= 8; o++) {
		char name[32], why[128] = "";
		const struct entry *e;
		struct img im = IMG_INIT;
		unsigned char *d;
		uint8_t got[61 * 61 * 3], exp[61 * 61 * 3], *full;
		size_t n;
		int size, nw, nh, x0, y0, y, mx;

		snprintf(name, sizeof(name), "jpeg_exif%d", o);
		e = find(name);
		d = slurp_ok(e->file, &n);
		assert_int_equal(img_decode(d, n, &im, why, sizeof(why)), 0);
		assert_int_equal(im.w, o >= 5 ? 61 : 97);
		/* squash at 61: no DCT scaling possible (7/8 of 61 < 61), so results are exact */
		assert_int_equal(img_decode_resize(d, n, 61, IMG_SQUASH, got, why, sizeof(why)), 0);
		assert_int_equal(img_resize(im.pix, im.w, im.h, exp, 61, 61), 0);
		diff(got, exp, sizeof(got), &mx);
		if (mx)
			fail_msg("orientation %d squash differs by %d", o, mx);
		/* crop at 58: shorter side to 58, centre crop (floor offset) in displayed space */
		size = 58;
		assert_int_equal(img_decode_resize(d, n, size, IMG_CROP, got, why, sizeof(why)), 0);
		if (im.w <= im.h) {
			nw = size;
			nh = (int)((double)size * im.h / im.w);
		} else {
			nw = (int)((double)size * im.w / im.h);
			nh = size;
		}
		full = xmalloc((size_t)nw * nh * 3);
		assert_int_equal(img_resize(im.pix, im.w, im.h, full, nw, nh), 0);
		x0 = (nw - size) / 2;
		y0 = (nh - size) / 2;
		for (y = 0; y < size; y++)
			memcpy(exp + (size_t)y * size * 3, full + ((size_t)(y0 + y) * nw + x0) * 3, (size_t)size * 3);
		diff(got, exp, (size_t)size * size * 3, &mx);
		/* transposed orientations run the two filter passes in the other order: rounding */
		if (mx > (o >= 5))
			fail_msg("orientation %d crop differs by %d", o, mx);
		free(full);
		img_release(&im);
		free(d);
	}
}

/* Cutting a file anywhere inside its pixel data is an error for that image. */
static void test_image__truncated_is_an_error(void **state)
{
	static const char *names[] = { "png_rgb8", "png_palette4_adam7", "gif_palette", "gif_interlaced",
				       "jpeg_420", "jpeg_progressive", "webp_lossless", "webp_lossy" };
	static const char *samples[] = { "2373dm", "ct8etz1" };
	char path[1024];
	size_t i, n, k;

	for (i = 0; i < ARRAY_SIZE(names) + ARRAY_SIZE(samples); i++) {
		const char *file;
		unsigned char *d;

		if (i < ARRAY_SIZE(names)) {
			file = find(names[i])->file;
		} else {
			snprintf(path, sizeof(path), "%s/%s.jpg", sample_dir, samples[i - ARRAY_SIZE(names)]);
			file = path;
		}
		d = slurp_ok(file, &n);
		for (k = 0; k < 7; k++) {
			size_t cut = k == 0 ? 1 : k == 1 ? 7 : k == 2 ? 30 : n * (k - 2) / 5;
			uint8_t out[16 * 16 * 3];
			struct img im = IMG_INIT;
			char why[128] = "";

			if (img_decode(d, cut, &im, why, sizeof(why)) != -1)
				fail_msg("%s cut at %zu of %zu decoded", file, cut, n);
			assert_null(im.pix);
			assert_reason(why);
			if (k >= 3 && !has_prefix(why, "truncated"))
				fail_msg("%s cut at %zu of %zu: '%s', expected truncated", file, cut, n, why);
			assert_int_equal(img_decode_resize(d, cut, 16, IMG_CROP, out, why, sizeof(why)), -1);
			assert_reason(why);
		}
		free(d);
	}
}

/*
 * JPEG data that ends before its frame header (cut inside the first
 * markers, or a tables-only stream) has no size: TurboJPEG's header call
 * succeeds without setting one, and the decoder must not read it (memcheck
 * found the image size read uninitialised).
 */
static void test_image__jpeg_without_frame_header(void **state)
{
	static const uint8_t tables_only[] = { 0xff, 0xd8, 0xff, 0xd9 };
	char path[1024], why[128];
	struct img im = IMG_INIT;
	unsigned char *d;
	size_t n, cut;
	int fmt, w, h;

	(void)state;
	snprintf(path, sizeof(path), "%s/2373dm.jpg", sample_dir);
	d = slurp_ok(path, &n);
	for (cut = 4; cut <= 30; cut++) {
		why[0] = 0;
		assert_int_equal(img_decode(d, cut, &im, why, sizeof(why)), -1);
		assert_null(im.pix);
		if (strcmp(why, "truncated: JPEG data ends before its frame header"))
			fail_msg("cut at %zu: '%s'", cut, why);
		assert_int_equal(img_probe(d, cut, &fmt, &w, &h), -1);
	}
	free(d);
	why[0] = 0;
	assert_int_equal(img_decode(tables_only, sizeof(tables_only), &im, why, sizeof(why)), -1);
	assert_string_equal(why, "corrupt: JPEG without a frame header (tables only)");
	assert_null(im.pix);
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Offset of the JPEG SOFn segment's marker. */
static size_t jpeg_sof(const uint8_t *d, size_t n)
{
	size_t p = 2;

	while (p + 4 < n) {
		unsigned m = d[p + 1];

		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
			return p;
		p += 2 + ((size_t)d[p + 2] << 8 | d[p + 3]);
	}
	fail_msg("no SOF");
	return 0;
}

static void expect_too_large(const uint8_t *d, size_t n, int w, int h)
{
	struct img im = IMG_INIT;
	uint8_t out[8 * 8 * 3];
	char why[128] = "";
	int pw = 0, ph = 0;

	assert_int_equal(img_probe(d, n, NULL, &pw, &ph), 0);
	assert_int_equal(pw, w);
	assert_int_equal(ph, h);
	assert_int_equal(img_decode(d, n, &im, why, sizeof(why)), -1);
	if (!has_prefix(why, "too large"))
		fail_msg("%dx%d: '%s'", w, h, why);
	assert_null(im.pix);
	assert_int_equal(img_decode_resize(d, n, 8, IMG_SQUASH, out, why, sizeof(why)), -1);
	assert_true(has_prefix(why, "too large"));
}

/* Decompression bombs: a huge declared size is refused from the header. */
static void test_image__huge_declared_size_is_refused(void **state)
{
	unsigned char *d;
	size_t n, p;

	/* JPEG: SOF height/width bytes; one side too long, then too many pixels */
	d = slurp_ok(find("jpeg_420")->file, &n);
	p = jpeg_sof(d, n);
	d[p + 5] = 30000 >> 8, d[p + 6] = 30000 & 0xff, d[p + 7] = 30000 >> 8, d[p + 8] = 30000 & 0xff;
	expect_too_large(d, n, 30000, 30000);
	d[p + 5] = 15000 >> 8, d[p + 6] = 15000 & 0xff, d[p + 7] = 15000 >> 8, d[p + 8] = 15000 & 0xff;
	expect_too_large(d, n, 15000, 15000);
	free(d);
	/* PNG: IHDR with a valid CRC */
	d = slurp_ok(find("png_rgb8")->file, &n);
	put_be32(d + 16, 50000);
	put_be32(d + 20, 10);
	put_be32(d + 29, crc32_png(d + 12, 17));
	expect_too_large(d, n, 50000, 10);
	put_be32(d + 16, 12000);
	put_be32(d + 20, 12000);
	put_be32(d + 29, crc32_png(d + 12, 17));
	expect_too_large(d, n, 12000, 12000);
	free(d);
	/* GIF: logical screen 65535 x 65535 */
	d = slurp_ok(find("gif_palette")->file, &n);
	d[6] = d[7] = d[8] = d[9] = 0xff;
	expect_too_large(d, n, 65535, 65535);
	free(d);
	/* WebP lossless: 14-bit width-1 and height-1 after the VP8L signature byte */
	d = slurp_ok(find("webp_lossless")->file, &n);
	assert_memory_equal(d + 12, "VP8L", 4);
	{
		uint32_t bits = (uint32_t)d[21] | (uint32_t)d[22] << 8 | (uint32_t)d[23] << 16 | (uint32_t)d[24] << 24;

		bits = (bits & ~0x0fffffffu) | 16383u | 16383u << 14;
		d[21] = bits, d[22] = bits >> 8, d[23] = bits >> 16, d[24] = bits >> 24;
	}
	expect_too_large(d, n, 16384, 16384);
	free(d);
}

static void expect_failure(const uint8_t *d, size_t n, const char *prefix, const char *what)
{
	struct img im = IMG_INIT;
	char why[128] = "";

	if (img_decode(d, n, &im, why, sizeof(why)) != -1)
		fail_msg("%s decoded", what);
	assert_reason(why);
	if (prefix && !has_prefix(why, prefix))
		fail_msg("%s: '%s', expected '%s'", what, why, prefix);
}

/* Corrupt data is an error (never a crash), with a documented reason. */
static void test_image__corrupt_is_an_error(void **state)
{
	static const char *names[] = { "png_rgba8", "gif_transparent", "jpeg_444", "jpeg_progressive",
				       "jpeg_cmyk", "webp_lossy", "webp_lossless_alpha" };
	unsigned char *d, junk[4096];
	size_t n, i, p;
	unsigned seed = 12345;
	int k, ok = 0, failed = 0;

	expect_failure((const uint8_t *)"", 0, "empty", "empty input");
	expect_failure((const uint8_t *)"<html><body>404</body></html>", 29, "unknown format", "html");
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 2654435761u >> 13);
	memcpy(junk, "\xff\xd8\xff", 3);
	expect_failure(junk, sizeof(junk), "corrupt", "jpeg magic then noise");
	memcpy(junk, "\x89PNG\r\n\x1a\n", 8);
	expect_failure(junk, sizeof(junk), "corrupt", "png magic then noise");
	memcpy(junk, "GIF89a", 6);
	expect_failure(junk, sizeof(junk), NULL, "gif magic then noise");
	memcpy(junk, "RIFF\xf8\x0f\0\0WEBPVP8 ", 16);
	expect_failure(junk, sizeof(junk), NULL, "webp magic then noise");

	/* a damaged PNG IHDR (CRC no longer matches) and a damaged IDAT */
	d = slurp_ok(find("png_rgb8")->file, &n);
	d[17] ^= 0x40;
	expect_failure(d, n, "corrupt", "png with bad IHDR crc");
	d[17] ^= 0x40;
	d[50] ^= 0xff;
	expect_failure(d, n, "corrupt", "png with bad IDAT crc");
	free(d);
	/* a JPEG whose Huffman tables are wiped */
	d = slurp_ok(find("jpeg_444")->file, &n);
	for (p = 2; p + 4 < n; p += 2 + ((size_t)d[p + 2] << 8 | d[p + 3]))
		if (d[p + 1] == 0xC4)
			memset(d + p + 4, 0xff, ((size_t)d[p + 2] << 8 | d[p + 3]) - 2);
	expect_failure(d, n, "corrupt", "jpeg with wiped huffman tables");
	free(d);

	/* random damage: every outcome is a clean success or a documented error */
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		unsigned char *orig = slurp_ok(find(names[i])->file, &n);

		d = xmalloc(n);
		for (k = 0; k < 60; k++) {
			uint8_t out[32 * 32 * 3];
			char why[128] = "";
			int j;

			memcpy(d, orig, n);
			for (j = 0; j < 1 + k % 8; j++) {
				seed = seed * 1103515245u + 12345u;
				d[(seed >> 8) % n] ^= (uint8_t)(1 + (seed >> 20) % 255);
			}
			if (img_decode_resize(d, n, 32, k % 2, out, why, sizeof(why)) == 0) {
				ok++;
			} else {
				assert_reason(why);
				failed++;
			}
		}
		free(d);
		free(orig);
	}
	print_message("damaged files: %d decoded, %d refused\n", ok, failed);
	assert_true(failed > 0);
}

/* DCT scaling picks the smallest scale still at least the asked size. */
static void test_image__decode_scaled_picks_dct_scale(void **state)
{
	const struct entry *e = find("big_1024x768");
	struct img im = IMG_INIT;
	unsigned char *d;
	char why[128];
	size_t n;

	d = slurp_ok(e->file, &n);
	if (img_decode_scaled(d, n, 200, 100, &im, why, sizeof(why)))
		fail_msg("%s: %s", e->file, why);
	assert_int_equal(im.w, 256);
	assert_int_equal(im.h, 192);
	img_release(&im);
	assert_int_equal(img_decode_scaled(d, n, 224, 224, &im, why, sizeof(why)), 0);
	assert_int_equal(im.w, 512); /* 1/2; 1/4 would give 256x192 < 224 */
	assert_int_equal(im.h, 384);
	img_release(&im);
	assert_int_equal(img_decode_scaled(d, n, 0, 0, &im, why, sizeof(why)), 0);
	assert_int_equal(im.w, 128);
	assert_int_equal(im.h, 96);
	img_release(&im);
	assert_int_equal(img_decode_scaled(d, n, 1024, 1, &im, why, sizeof(why)), 0);
	assert_int_equal(im.w, 1024);
	img_release(&im);
	/* other formats come at full size */
	free(d);
	d = slurp_ok(find("png_rgb8")->file, &n);
	assert_int_equal(img_decode_scaled(d, n, 1, 1, &im, why, sizeof(why)), 0);
	assert_int_equal(im.w, 37);
	img_release(&im);
	free(d);
}

static void test_image__bad_arguments(void **state)
{
	unsigned char *d;
	uint8_t out[4 * 4 * 3];
	char why[128] = "";
	size_t n;

	d = slurp_ok(find("png_rgb8")->file, &n);
	assert_int_equal(img_decode_resize(d, n, 0, IMG_SQUASH, out, why, sizeof(why)), -1);
	assert_true(has_prefix(why, "unsupported"));
	assert_int_equal(img_decode_resize(d, n, 4, 7, out, why, sizeof(why)), -1);
	assert_int_equal(img_decode_resize(d, n, 5000, IMG_CROP, out, NULL, 0), -1);
	assert_int_equal(img_decode_resize(d, n, 4, IMG_CROP, out, NULL, 0), 0);
	/* a tiny why buffer is filled and terminated, never overrun */
	memset(why, 'x', sizeof(why));
	assert_int_equal(img_decode_resize(d, 10, 4, IMG_CROP, out, why, 5), -1);
	assert_int_equal(strlen(why), 4);
	free(d);
}

struct thread_job {
	const unsigned char **data;
	const size_t *len;
	const uint8_t *expected; /* per image SIZE*SIZE*3 */
	size_t count;
	int mismatches;
};

static void *thread_main(void *arg)
{
	struct thread_job *j = arg;
	uint8_t *out = xmalloc(SIZE * SIZE * 3);
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < j->count; i++) {
			char why[128];

			if (img_decode_resize(j->data[i], j->len[i], SIZE, IMG_SQUASH, out, why, sizeof(why)) ||
			    memcmp(out, j->expected + i * SIZE * SIZE * 3, SIZE * SIZE * 3))
				j->mismatches++;
		}
	}
	free(out);
	return NULL;
}

/* Four threads decoding at once give exactly the single-threaded results. */
static void test_image__threads_agree(void **state)
{
	const unsigned char *data[64];
	size_t len[64], count = 0, i;
	uint8_t *expected;
	struct thread_job jobs[4];
	pthread_t th[4];
	int t;

	for (i = 0; i < nentries && count < 64; i++) {
		if (strcmp(entries[i].kind, "sample"))
			continue;
		data[count] = slurp_ok(entries[i].file, &len[count]);
		count++;
	}
	expected = xmalloc(count * SIZE * SIZE * 3);
	for (i = 0; i < count; i++) {
		char why[128] = "";

		if (img_decode_resize(data[i], len[i], SIZE, IMG_SQUASH, expected + i * SIZE * SIZE * 3,
				      why, sizeof(why)))
			fail_msg("image %zu: %s", i, why);
	}
	for (t = 0; t < 4; t++) {
		jobs[t] = (struct thread_job){ data, len, expected, count, 0 };
		assert_int_equal(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
	}
	for (t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(jobs[t].mismatches, 0);
	}
	for (i = 0; i < count; i++)
		free((void *)data[i]);
	free(expected);
}

static void test_image__normalize_chw(void **state)
{
	const uint8_t rgb[2 * 3] = { 0, 128, 255, 255, 0, 10 };
	float out[6];

	img_normalize_chw(rgb, 2, 1, out);
	assert_float_equal(out[0], (0 / 255.0 - 0.485) / 0.229, 1e-5);
	assert_float_equal(out[1], (255 / 255.0 - 0.485) / 0.229, 1e-5);
	assert_float_equal(out[2], (128 / 255.0 - 0.456) / 0.224, 1e-5);
	assert_float_equal(out[3], (0 / 255.0 - 0.456) / 0.224, 1e-5);
	assert_float_equal(out[4], (255 / 255.0 - 0.406) / 0.225, 1e-5);
	assert_float_equal(out[5], (10 / 255.0 - 0.406) / 0.225, 1e-5);
}

static void test_image__versions(void **state)
{
	assert_true(strlen(img_libjpeg_version()) >= 3 && strchr(img_libjpeg_version(), '.'));
	assert_true(has_prefix(img_libpng_version(), "1."));
	assert_true(strchr(img_giflib_version(), '.') != NULL);
	assert_true(strchr(img_libwebp_version(), '.') != NULL);
	assert_string_not_equal(img_libwebp_version(), "0.0.0");
}

/* kB of a "VmRSS:"-style line of /proc/self/status; -1 if absent. */
static long proc_status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

/*
 * A GIF of a few dozen bytes declaring a 10000x10000 frame (within the
 * pixel limit) and then ending: truncated, and found so without writing
 * the 300 MB canvas (the background goes in only after the frame decoded).
 * Found by tests/fuzz/fuzz_image: such inputs took seconds each. Measured
 * in memory touched (the peak resident size), not in time.
 */
static void test_image__truncated_gif_canvas_not_filled(void **state)
{
	static const uint8_t gif[] = {
		'G', 'I', 'F', '8', '9', 'a', 0x10, 0x27, 0x10, 0x27, 0x80, 0, 0, /* 10000x10000, 2 colours */
		0, 0, 0, 255, 255, 255,
		0x2c, 0, 0, 0, 0, 0x10, 0x27, 0x10, 0x27, 0,                          /* the frame, as large */
		2, 4, 0x84, 0x8f, 0xa9, 0xcb,                                      /* LZW data, then the end */
	};
	struct img im = IMG_INIT;
	char why[128];
	long rss, hwm;
	FILE *f;

	(void)state;
	/* Reset the peak resident size to the current one (Linux 4.0 and later). */
	f = fopen("/proc/self/clear_refs", "w");
	if (!f || fputs("5", f) < 0 || fclose(f) != 0 || (rss = proc_status_kb("VmRSS:")) < 0) {
		skip();
		return;
	}
	assert_int_equal(img_decode(gif, sizeof(gif), &im, why, sizeof(why)), -1);
	assert_true(!strncmp(why, "truncated", 9) || !strncmp(why, "corrupt", 7));
	hwm = proc_status_kb("VmHWM:");
	assert_true(hwm >= 0);
	if (hwm - rss > 64 * 1024)
		fail_msg("decoding a truncated GIF touched %ld MB", (hwm - rss) / 1024);
	assert_null(im.pix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image__sniff_uses_magic_bytes),
		cmocka_unit_test(test_image__decodes_every_sample),
		cmocka_unit_test(test_image__colour_types_match_reference),
		cmocka_unit_test(test_image__unsupported_variants_are_errors),
		cmocka_unit_test(test_image__resize_matches_pillow),
		cmocka_unit_test(test_image__resize_preserves_flat_and_identity),
		cmocka_unit_test(test_image__decode_resize_close_to_pillow),
		cmocka_unit_test(test_image__orientation_in_decode_resize),
		cmocka_unit_test(test_image__truncated_is_an_error),
		cmocka_unit_test(test_image__jpeg_without_frame_header),
		cmocka_unit_test(test_image__huge_declared_size_is_refused),
		cmocka_unit_test(test_image__truncated_gif_canvas_not_filled),
		cmocka_unit_test(test_image__corrupt_is_an_error),
		cmocka_unit_test(test_image__decode_scaled_picks_dct_scale),
		cmocka_unit_test(test_image__bad_arguments),
		cmocka_unit_test(test_image__threads_agree),
		cmocka_unit_test(test_image__normalize_chw),
		cmocka_unit_test(test_image__versions),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
