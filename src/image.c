/*
 * image: JPEG (libjpeg-turbo), PNG (libpng), GIF (giflib, first frame) and
 * WebP (libwebp) decoding to packed 8-bit RGB, EXIF orientation, limits
 * against decompression bombs, and the decode-and-resize used by the data
 * loader. See image.h for the conventions; the resampler is in
 * image_resize.c.
 *
 * Each thread keeps its own TurboJPEG handle and scratch buffers (a
 * pthread key), so concurrent calls share nothing and the loader's
 * decode-resize allocates nothing per image once warmed up.
 */
#include "image.h"
#include "image_int.h"
#include "util.h"

#include <jconfig.h>
#include <gif_lib.h>
#include <png.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/decode.h>

/* Scratch buffers larger than this are freed after each call. */
#define KEEP_SCRATCH (32u << 20)

struct img_tls {
	tjhandle tj;
	struct img_buf dec;    /* decoded source pixels */
	struct img_buf orient; /* resized pixels before orientation */
	struct img_resize_scratch rs;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static int tls_ok;

static void tls_free(void *p)
{
	struct img_tls *t = p;

	if (!t)
		return;
	if (t->tj)
		tjDestroy(t->tj);
	img_buf_trim(&t->dec, 0);
	img_buf_trim(&t->orient, 0);
	img_resize_scratch_release(&t->rs);
	free(t);
}

static void tls_init(void)
{
	tls_ok = pthread_key_create(&tls_key, tls_free) == 0;
}

static struct img_tls *tls_get(void)
{
	struct img_tls *t;

	pthread_once(&tls_once, tls_init);
	if (!tls_ok)
		return NULL;
	t = pthread_getspecific(tls_key);
	if (!t) {
		t = xcalloc(1, sizeof(*t));
		if (pthread_setspecific(tls_key, t)) {
			free(t);
			return NULL;
		}
	}
	return t;
}

PRINTF_LIKE(3, 4)
static int fail(char *why, size_t why_n, const char *fmt, ...)
{
	va_list ap;

	if (why && why_n) {
		va_start(ap, fmt);
		vsnprintf(why, why_n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int check_size(long long w, long long h, char *why, size_t why_n)
{
	if (w <= 0 || h <= 0)
		return fail(why, why_n, "corrupt: image size %lldx%lld", w, h);
	if (w > IMG_MAX_SIDE || h > IMG_MAX_SIDE || w * h > IMG_MAX_PIXELS)
		return fail(why, why_n, "too large: %lldx%lld", w, h);
	return 0;
}

/* n bytes for pixels: from the scratch buffer when given, else malloc'd (caller frees). */
static uint8_t *pix_alloc(struct img_buf *scratch, size_t n)
{
	return scratch ? img_buf_get(scratch, n) : xmalloc(n);
}

static void pix_free(struct img_buf *scratch, uint8_t *p)
{
	if (!scratch)
		free(p);
}

/* Packed RGBA to packed RGB in place, composited on white. */
static void rgba_on_white(uint8_t *p, size_t npix)
{
	size_t i;

	for (i = 0; i < npix; i++) {
		const uint8_t *s = p + 4 * i;
		uint8_t *d = p + 3 * i;
		unsigned a = s[3], c;

		for (c = 0; c < 3; c++) {
			unsigned v = s[c] * a + 255 * (255 - a) + 128;
			d[c] = (uint8_t)((v + (v >> 8)) >> 8);
		}
	}
}

/* A decoded image before orientation. */
struct raw {
	int w, h;
	uint8_t *pix; /* w * h * 3 */
	int orient;   /* EXIF orientation 1..8 */
};

/* What a JPEG's DCT scaling must still give, in displayed orientation: each side at least this. */
struct need {
	int min_w, min_h;
};

/* ---- JPEG ---- */

static unsigned rd16(const uint8_t *p, int le)
{
	return le ? p[0] | p[1] << 8 : p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p, int le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
		  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The orientation tag (0x0112) of IFD0 in a TIFF block; 1 if absent or bad. */
static int exif_orientation(const uint8_t *t, size_t n)
{
	uint32_t ifd, i, cnt;
	int le;

	if (n < 8)
		return 1;
	if (t[0] == 'I' && t[1] == 'I')
		le = 1;
	else if (t[0] == 'M' && t[1] == 'M')
		le = 0;
	else
		return 1;
	if (rd16(t + 2, le) != 42)
		return 1;
	ifd = rd32(t + 4, le);
	if (ifd < 8 || ifd > n - 2)
		return 1;
	cnt = rd16(t + ifd, le);
	for (i = 0; i < cnt; i++) {
		size_t e = ifd + 2 + 12 * (size_t)i;
		unsigned type, v;

		if (e + 12 > n)
			break;
		if (rd16(t + e, le) != 0x0112)
			continue;
		type = rd16(t + e + 2, le);
		if (type == 3)
			v = rd16(t + e + 8, le);
		else if (type == 4)
			v = rd32(t + e + 8, le);
		else
			return 1;
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}

/* Scans the markers before the first scan for EXIF orientation and Adobe's APP14. */
static void jpeg_markers(const uint8_t *d, size_t n, int *orient, int *adobe)
{
	size_t p = 2;
	int seen_exif = 0;

	*orient = 1;
	*adobe = 0;
	while (p + 4 <= n) {
		unsigned m, len;
		const uint8_t *seg;

		if (d[p] != 0xFF)
			return;
		m = d[p + 1];
		if (m == 0xFF) {
			p++;
			continue;
		}
		if (m == 0xDA || m == 0xD9)
			return;
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {
			p += 2;
			continue;
		}
		len = rd16(d + p + 2, 0);
		if (len < 2 || len > n - p - 2)
			return;
		seg = d + p + 4;
		len -= 2;
		if (m == 0xE1 && !seen_exif && len >= 6 && !memcmp(seg, "Exif\0\0", 6)) {
			*orient = exif_orientation(seg + 6, len - 6);
			seen_exif = 1;
		} else if (m == 0xEE && len >= 12 && !memcmp(seg, "Adobe", 5)) {
			*adobe = 1;
		}
		p += 4 + len;
	}
}

static int jpeg_handle(struct img_tls *t, char *why, size_t why_n)
{
	if (!t->tj && !(t->tj = tjInitDecompress()))
		return fail(why, why_n, "unsupported: cannot start the jpeg decoder");
	return 0;
}

/* Warnings after which the pixels are still whole (common in real files). */
static int benign_warning(const char *msg)
{
	return strstr(msg, "extraneous bytes before marker") || strstr(msg, "bad ICC marker") ||
	       strstr(msg, "Invalid SOS parameters for sequential JPEG");
}

/*
 * Reports the handle's error and drops the handle: after some errors a
 * TurboJPEG 2.x handle refuses valid files, so the next call starts afresh.
 */
static int jpeg_fail(struct img_tls *t, char *why, size_t why_n)
{
	const char *msg = tjGetErrorStr2(t->tj);

	if (strstr(msg, "Premature end") || strstr(msg, "premature end"))
		fail(why, why_n, "truncated: %s", msg);
	else
		fail(why, why_n, "corrupt: %s", msg);
	tjDestroy(t->tj);
	t->tj = NULL;
	return -1;
}

static int dec_jpeg(struct img_tls *t, const uint8_t *d, size_t n, const struct need *need,
		    struct img_buf *scratch, struct raw *r, char *why, size_t why_n)
{
	int w, h, subsamp, cs, nsf, i, pf, adobe, sw, sh, min_w = need->min_w, min_h = need->min_h;
	long long best = -1;
	tjscalingfactor *sf;
	uint8_t *buf;
	size_t npix;

	if (jpeg_handle(t, why, why_n))
		return -1;
	/*
	 * TurboJPEG returns success without setting the size when the data
	 * reaches an end of image (its own, or the one it makes up at the end
	 * of cut data) before a frame header: a tables-only stream.
	 */
	w = h = 0;
	if (tjDecompressHeader3(t->tj, d, n, &w, &h, &subsamp, &cs) < 0)
		return jpeg_fail(t, why, why_n);
	if (w == 0 || h == 0) {
		if (n >= 2 && d[n - 2] == 0xff && d[n - 1] == 0xd9)
			return fail(why, why_n, "corrupt: JPEG without a frame header (tables only)");
		return fail(why, why_n, "truncated: JPEG data ends before its frame header");
	}
	if (check_size(w, h, why, why_n))
		return -1;
	jpeg_markers(d, n, &r->orient, &adobe);
	if (r->orient >= 5) {
		min_w = need->min_h;
		min_h = need->min_w;
	}
	sw = w;
	sh = h;
	sf = tjGetScalingFactors(&nsf);
	for (i = 0; sf && i < nsf; i++) {
		int cw = TJSCALED(w, sf[i]), ch = TJSCALED(h, sf[i]);

		/*
		 * Only 1/1, 1/2, 1/4, 1/8: their reduced IDCTs are SIMD-accelerated
		 * and low-pass; the other eighths were slower than a full decode
		 * here and alias when resized further.
		 */
		if (sf[i].num != 1 || (sf[i].denom & (sf[i].denom - 1)) || cw < min_w || ch < min_h)
			continue;
		if (best < 0 || (long long)cw * ch < best) {
			best = (long long)cw * ch;
			sw = cw;
			sh = ch;
		}
	}
	pf = cs == TJCS_CMYK || cs == TJCS_YCCK ? TJPF_CMYK : TJPF_RGB;
	npix = (size_t)sw * sh;
	buf = pix_alloc(scratch, st_mult(npix, tjPixelSize[pf]));
	if (tjDecompress2(t->tj, d, n, buf, sw, 0, sh, pf, 0) < 0 &&
	    (tjGetErrorCode(t->tj) != TJERR_WARNING || !benign_warning(tjGetErrorStr2(t->tj)))) {
		pix_free(scratch, buf);
		return jpeg_fail(t, why, why_n);
	}
	if (pf == TJPF_CMYK) {
		/* Adobe files store CMYK inverted (255 = no ink); R = (1-C)(1-K). */
		size_t k;

		for (k = 0; k < npix; k++) {
			const uint8_t *s = buf + 4 * k;
			uint8_t *o = buf + 3 * k;
			unsigned kk = adobe ? s[3] : 255u - s[3], c;

			for (c = 0; c < 3; c++) {
				unsigned v = (adobe ? s[c] : 255u - s[c]) * kk + 128;
				o[c] = (uint8_t)((v + (v >> 8)) >> 8);
			}
		}
	}
	r->w = sw;
	r->h = sh;
	r->pix = buf;
	return 0;
}

/* ---- PNG ---- */

struct png_src {
	const uint8_t *d;
	size_t n, pos;
	char msg[160];
};

static void png_read_mem(png_structp png, png_bytep out, size_t len)
{
	struct png_src *s = png_get_io_ptr(png);

	if (len > s->n - s->pos)
		png_error(png, "truncated");
	memcpy(out, s->d + s->pos, len);
	s->pos += len;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
	struct png_src *s = png_get_error_ptr(png);

	snprintf(s->msg, sizeof(s->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
}

static int dec_png(const uint8_t *d, size_t n, struct img_buf *scratch, struct raw *r,
		   char *why, size_t why_n)
{
	struct png_src src = { d, n, 0, "" };
	png_structp png;
	png_infop info = NULL;
	uint8_t *volatile buf = NULL;
	png_bytep *volatile rows = NULL;
	volatile int ret = -1;
	png_uint_32 w, h, y;
	int depth, ctype, ch;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
	if (!png || !(info = png_create_info_struct(png))) {
		fail(why, why_n, "unsupported: cannot start the png decoder");
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		if (!strcmp(src.msg, "truncated"))
			fail(why, why_n, "truncated");
		else
			fail(why, why_n, "corrupt: %s", src.msg);
		goto out;
	}
	png_set_read_fn(png, &src, png_read_mem);
	png_read_info(png, info);
	w = png_get_image_width(png, info);
	h = png_get_image_height(png, info);
	depth = png_get_bit_depth(png, info);
	ctype = png_get_color_type(png, info);
	if (check_size(w, h, why, why_n))
		goto out;
	if (ctype == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_valid(png, info, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(png);
	if (depth == 16)
		png_set_strip_16(png);
	if (!(ctype & PNG_COLOR_MASK_COLOR))
		png_set_gray_to_rgb(png);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	ch = png_get_channels(png, info);
	if ((ch != 3 && ch != 4) || png_get_rowbytes(png, info) != (size_t)w * ch) {
		fail(why, why_n, "unsupported: png layout");
		goto out;
	}
	buf = pix_alloc(scratch, st_mult((size_t)w * h, ch));
	rows = xmalloc(st_mult(h, sizeof(*rows)));
	for (y = 0; y < h; y++)
		rows[y] = buf + (size_t)y * w * ch;
	png_read_image(png, rows);
	if (ch == 4)
		rgba_on_white(buf, (size_t)w * h);
	r->w = w;
	r->h = h;
	r->pix = buf;
	ret = 0;
out:
	png_destroy_read_struct(&png, &info, NULL);
	free(rows);
	if (ret)
		pix_free(scratch, buf);
	return ret;
}

/* ---- GIF ---- */

struct gif_src {
	const uint8_t *d;
	size_t n, pos;
	int short_read; /* the data ended before giflib was done */
};

static int gif_read(GifFileType *g, GifByteType *out, int len)
{
	struct gif_src *s = g->UserData;
	size_t k = len < 0 ? 0 : (size_t)len;

	if (k > s->n - s->pos) {
		k = s->n - s->pos;
		s->short_read = 1;
	}
	memcpy(out, s->d + s->pos, k);
	s->pos += k;
	return (int)k;
}

/* giflib reports running out of data under several codes: the reader knows. */
static int gif_fail(const struct gif_src *src, int err, char *why, size_t why_n)
{
	const char *msg = GifErrorString(err);

	if (src->short_read || err == D_GIF_ERR_READ_FAILED)
		return fail(why, why_n, "truncated");
	return fail(why, why_n, "corrupt: %s", msg ? msg : "gif error");
}

/* n pixels of colour c. */
static void fill_px(uint8_t *p, size_t n, const uint8_t c[3])
{
	size_t i;

	for (i = 0; i < n; i++)
		memcpy(p + 3 * i, c, 3);
}

static int dec_gif(const uint8_t *d, size_t n, struct img_buf *scratch, struct raw *r,
		   char *why, size_t why_n)
{
	static const int ioff[] = { 0, 4, 2, 1 }, istep[] = { 8, 8, 4, 2 };
	struct gif_src src = { d, n, 0, 0 };
	GifFileType *g;
	GifByteType *line = NULL, *ext;
	uint8_t *buf = NULL, fill[3] = { 255, 255, 255 };
	GifRecordType rt;
	int err = 0, code, trans = -1, ret = -1;

	if (!(g = DGifOpen(&src, gif_read, &err)))
		return gif_fail(&src, err, why, why_n);
	for (;;) {
		if (DGifGetRecordType(g, &rt) == GIF_ERROR) {
			gif_fail(&src, g->Error, why, why_n);
			goto out;
		}
		if (rt == TERMINATE_RECORD_TYPE) {
			fail(why, why_n, "corrupt: gif holds no image");
			goto out;
		}
		if (rt == EXTENSION_RECORD_TYPE) {
			if (DGifGetExtension(g, &code, &ext) == GIF_ERROR) {
				gif_fail(&src, g->Error, why, why_n);
				goto out;
			}
			if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1))
				trans = ext[4];
			while (ext) {
				if (DGifGetExtensionNext(g, &ext) == GIF_ERROR) {
					gif_fail(&src, g->Error, why, why_n);
					goto out;
				}
			}
			continue;
		}
		if (rt == IMAGE_DESC_RECORD_TYPE)
			break;
	}
	if (DGifGetImageDesc(g) == GIF_ERROR) {
		gif_fail(&src, g->Error, why, why_n);
		goto out;
	} else {
		const GifImageDesc *im = &g->Image;
		const ColorMapObject *cm = im->ColorMap ? im->ColorMap : g->SColorMap;
		long long cw = g->SWidth, ch = g->SHeight;
		int pass, y, x, fw = im->Width, fh = im->Height;

		if (fw <= 0 || fh <= 0 || im->Left < 0 || im->Top < 0) {
			fail(why, why_n, "corrupt: gif frame %dx%d", fw, fh);
			goto out;
		}
		if (im->Left + (long long)fw > cw)
			cw = im->Left + (long long)fw;
		if (im->Top + (long long)fh > ch)
			ch = im->Top + (long long)fh;
		if (check_size(cw, ch, why, why_n))
			goto out;
		if (!cm) {
			fail(why, why_n, "corrupt: gif without a colour map");
			goto out;
		}
		if (trans < 0 && g->SColorMap && g->SBackGroundColor < g->SColorMap->ColorCount) {
			const GifColorType *bg = &g->SColorMap->Colors[g->SBackGroundColor];

			fill[0] = bg->Red;
			fill[1] = bg->Green;
			fill[2] = bg->Blue;
		}
		/*
		 * The frame's pixels first, the background around it only once
		 * they all decoded: a truncated file with a huge canvas touches
		 * no more memory than the lines it holds.
		 */
		buf = pix_alloc(scratch, st_mult((size_t)(cw * ch), 3));
		line = xmalloc(fw);
		for (pass = im->Interlace ? 0 : 3; pass < 4; pass++) {
			int y0 = im->Interlace ? ioff[pass] : 0, dy = im->Interlace ? istep[pass] : 1;

			for (y = y0; y < fh; y += dy) {
				uint8_t *o = buf + ((size_t)(im->Top + y) * cw + im->Left) * 3;

				if (DGifGetLine(g, line, fw) == GIF_ERROR) {
					gif_fail(&src, g->Error, why, why_n);
					goto out;
				}
				for (x = 0; x < fw; x++, o += 3) {
					int v = line[x];

					if (v == trans) {
						o[0] = o[1] = o[2] = 255;
					} else if (v < cm->ColorCount) {
						o[0] = cm->Colors[v].Red;
						o[1] = cm->Colors[v].Green;
						o[2] = cm->Colors[v].Blue;
					} else {
						o[0] = o[1] = o[2] = 0;
					}
				}
			}
		}
		for (y = 0; y < ch; y++) {
			uint8_t *row = buf + (size_t)y * cw * 3;

			if (y < im->Top || y >= im->Top + fh) {
				fill_px(row, (size_t)cw, fill);
			} else {
				fill_px(row, (size_t)im->Left, fill);
				fill_px(row + ((size_t)im->Left + fw) * 3, (size_t)(cw - im->Left - fw), fill);
			}
		}
		r->w = (int)cw;
		r->h = (int)ch;
	}
	r->pix = buf;
	ret = 0;
out:
	DGifCloseFile(g, &err);
	free(line);
	if (ret)
		pix_free(scratch, buf);
	return ret;
}

/* ---- WebP ---- */

static int webp_fail(VP8StatusCode st, char *why, size_t why_n)
{
	switch (st) {
	case VP8_STATUS_NOT_ENOUGH_DATA: return fail(why, why_n, "truncated");
	case VP8_STATUS_UNSUPPORTED_FEATURE: return fail(why, why_n, "unsupported: webp feature");
	case VP8_STATUS_OUT_OF_MEMORY: return fail(why, why_n, "too large: out of memory");
	default: return fail(why, why_n, "corrupt: webp status %d", (int)st);
	}
}

static int dec_webp(const uint8_t *d, size_t n, struct img_buf *scratch, struct raw *r,
		    char *why, size_t why_n)
{
	WebPBitstreamFeatures f;
	WebPDecoderConfig cfg;
	VP8StatusCode st;
	uint8_t *buf;
	size_t ch;

	if ((st = WebPGetFeatures(d, n, &f)) != VP8_STATUS_OK)
		return webp_fail(st, why, why_n);
	if (f.has_animation)
		return fail(why, why_n, "unsupported: animated webp");
	if (check_size(f.width, f.height, why, why_n))
		return -1;
	if (!WebPInitDecoderConfig(&cfg))
		return fail(why, why_n, "unsupported: libwebp version");
	ch = f.has_alpha ? 4 : 3;
	buf = pix_alloc(scratch, st_mult((size_t)f.width * f.height, ch));
	cfg.output.colorspace = f.has_alpha ? MODE_RGBA : MODE_RGB;
	cfg.output.is_external_memory = 1;
	cfg.output.u.RGBA.rgba = buf;
	cfg.output.u.RGBA.stride = (int)(f.width * ch);
	cfg.output.u.RGBA.size = (size_t)f.width * f.height * ch;
	st = WebPDecode(d, n, &cfg);
	WebPFreeDecBuffer(&cfg.output);
	if (st != VP8_STATUS_OK) {
		pix_free(scratch, buf);
		return webp_fail(st, why, why_n);
	}
	if (f.has_alpha)
		rgba_on_white(buf, (size_t)f.width * f.height);
	r->w = f.width;
	r->h = f.height;
	r->pix = buf;
	return 0;
}

/* ---- common ---- */

int img_sniff(const void *data, size_t n)
{
	const uint8_t *d = data;

	if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
		return IMG_JPEG;
	if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
		return IMG_PNG;
	if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6)))
		return IMG_GIF;
	if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
		return IMG_WEBP;
	return IMG_UNKNOWN;
}

const char *img_format_name(int fmt)
{
	switch (fmt) {
	case IMG_JPEG: return "jpeg";
	case IMG_PNG: return "png";
	case IMG_GIF: return "gif";
	case IMG_WEBP: return "webp";
	default: return "unknown";
	}
}

/* Decodes to raw pixels (before orientation); pixels from scratch or malloc'd. */
static int decode_raw(struct img_tls *t, const uint8_t *d, size_t n, const struct need *need,
		      struct img_buf *scratch, struct raw *r, int *fmt, char *why, size_t why_n)
{
	r->orient = 1;
	r->pix = NULL;
	if (!n)
		return fail(why, why_n, "empty");
	*fmt = img_sniff(d, n);
	switch (*fmt) {
	case IMG_JPEG: return dec_jpeg(t, d, n, need, scratch, r, why, why_n);
	case IMG_PNG: return dec_png(d, n, scratch, r, why, why_n);
	case IMG_GIF: return dec_gif(d, n, scratch, r, why, why_n);
	case IMG_WEBP: return dec_webp(d, n, scratch, r, why, why_n);
	default: return fail(why, why_n, "unknown format");
	}
}

/*
 * Copies src (w x h raw) to dst in displayed orientation o (1..8); for
 * o >= 5 dst is h x w. Each displayed step moves by a fixed source stride.
 */
static void orient_copy(const uint8_t *src, int w, int h, int o, uint8_t *dst)
{
	ptrdiff_t sx = 3, sy = (ptrdiff_t)w * 3, start = 0, step_x, step_y;
	ptrdiff_t right = (ptrdiff_t)(w - 1) * sx, bottom = (ptrdiff_t)(h - 1) * sy;
	int ow = o >= 5 ? h : w, oh = o >= 5 ? w : h, x, y;

	switch (o) {
	case 2: start = right; step_x = -sx; step_y = sy; break;
	case 3: start = right + bottom; step_x = -sx; step_y = -sy; break;
	case 4: start = bottom; step_x = sx; step_y = -sy; break;
	case 5: step_x = sy; step_y = sx; break;
	case 6: start = bottom; step_x = -sy; step_y = sx; break;
	case 7: start = right + bottom; step_x = -sy; step_y = -sx; break;
	case 8: start = right; step_x = sy; step_y = -sx; break;
	default: step_x = sx; step_y = sy; break;
	}
	for (y = 0; y < oh; y++) {
		const uint8_t *s = src + start + y * step_y;

		for (x = 0; x < ow; x++, s += step_x, dst += 3) {
			dst[0] = s[0];
			dst[1] = s[1];
			dst[2] = s[2];
		}
	}
}

static void trim(struct img_tls *t)
{
	img_buf_trim(&t->dec, KEEP_SCRATCH);
	img_buf_trim(&t->rs.tmp, KEEP_SCRATCH);
}

int img_decode_resize(const void *data, size_t n, int size, int mode,
		      uint8_t *out, char *why, size_t why_n)
{
	struct img_tls *t = tls_get();
	struct need need = { size, size }; /* a crop's shorter side >= size means both are */
	struct raw r;
	int fmt, dw, dh, x0 = 0, y0 = 0, flip_x, flip_y;
	uint8_t *dst;

	if (!t)
		return fail(why, why_n, "unsupported: no thread state");
	if (size < 1 || size > 4096 || (mode != IMG_SQUASH && mode != IMG_CROP))
		return fail(why, why_n, "unsupported: size %d mode %d", size, mode);
	if (decode_raw(t, data, n, &need, &t->dec, &r, &fmt, why, why_n))
		return -1;
	dw = dh = size;
	if (mode == IMG_CROP) {
		/* Shorter side to size (the longer one truncated, as torchvision's Resize), centre crop. */
		flip_x = r.orient == 2 || r.orient == 3 || r.orient == 7 || r.orient == 8;
		flip_y = r.orient == 3 || r.orient == 4 || r.orient == 6 || r.orient == 7;
		if (r.w <= r.h) {
			dh = (int)((double)size * r.h / r.w);
			y0 = flip_y ? dh - size - (dh - size) / 2 : (dh - size) / 2;
		} else {
			dw = (int)((double)size * r.w / r.h);
			x0 = flip_x ? dw - size - (dw - size) / 2 : (dw - size) / 2;
		}
	}
	dst = r.orient == 1 ? out : img_buf_get(&t->orient, (size_t)size * size * 3);
	img_resize_window(r.pix, r.w, r.h, (size_t)r.w * 3, dst, dw, dh, x0, y0, size, size, &t->rs);
	if (r.orient != 1)
		orient_copy(dst, size, size, r.orient, out);
	trim(t);
	return 0;
}

int img_decode_scaled(const void *data, size_t n, int min_w, int min_h,
		      struct img *out, char *why, size_t why_n)
{
	struct img_tls *t = tls_get();
	struct need need = { min_w, min_h };
	struct raw r;
	int fmt;

	*out = (struct img)IMG_INIT;
	if (!t)
		return fail(why, why_n, "unsupported: no thread state");
	if (decode_raw(t, data, n, &need, NULL, &r, &fmt, why, why_n))
		return -1;
	out->format = fmt;
	if (r.orient == 1) {
		out->w = r.w;
		out->h = r.h;
		/* PNG and WebP with alpha were decoded 4 bytes a pixel: give back the rest. */
		out->pix = xrealloc(r.pix, (size_t)r.w * r.h * 3);
	} else {
		out->w = r.orient >= 5 ? r.h : r.w;
		out->h = r.orient >= 5 ? r.w : r.h;
		out->pix = xmalloc((size_t)r.w * r.h * 3);
		orient_copy(r.pix, r.w, r.h, r.orient, out->pix);
		free(r.pix);
	}
	return 0;
}

int img_decode(const void *data, size_t n, struct img *out, char *why, size_t why_n)
{
	return img_decode_scaled(data, n, INT32_MAX, INT32_MAX, out, why, why_n);
}

void img_release(struct img *img)
{
	free(img->pix);
	*img = (struct img)IMG_INIT;
}

int img_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh)
{
	struct img_tls *t = tls_get();

	if (!t || sw < 1 || sh < 1 || dw < 1 || dh < 1 || check_size(sw, sh, NULL, 0) ||
	    check_size(dw, dh, NULL, 0))
		return -1;
	img_resize_window(src, sw, sh, (size_t)sw * 3, dst, dw, dh, 0, 0, dw, dh, &t->rs);
	trim(t);
	return 0;
}

/* ---- header only ---- */

/* GIF canvas as dec_gif() makes it: the screen, grown to hold the first frame. */
static int probe_gif(const uint8_t *d, size_t n, int *w, int *h)
{
	size_t p = 13;
	long long cw, ch;

	if (n < 13)
		return -1;
	cw = rd16(d + 6, 1);
	ch = rd16(d + 8, 1);
	if (d[10] & 0x80)
		p += 3u << ((d[10] & 7) + 1);
	while (p < n) {
		if (d[p] == 0x21) {
			p += 2;
			while (p < n && d[p])
				p += d[p] + 1u;
			p++;
		} else if (d[p] == 0x2C) {
			long long l, t, fw, fh;

			if (p + 9 > n)
				return -1;
			l = rd16(d + p + 1, 1);
			t = rd16(d + p + 3, 1);
			fw = rd16(d + p + 5, 1);
			fh = rd16(d + p + 7, 1);
			*w = (int)(l + fw > cw ? l + fw : cw);
			*h = (int)(t + fh > ch ? t + fh : ch);
			return 0;
		} else {
			return -1;
		}
	}
	return -1;
}

int img_probe(const void *data, size_t n, int *fmt, int *w, int *h)
{
	const uint8_t *d = data;
	int f = img_sniff(data, n), pw = 0, ph = 0, sub, cs, orient, adobe;
	struct img_tls *t;

	if (fmt)
		*fmt = f;
	switch (f) {
	case IMG_JPEG:
		if (!(t = tls_get()) || jpeg_handle(t, NULL, 0))
			return -1;
		if (tjDecompressHeader3(t->tj, d, n, &pw, &ph, &sub, &cs) < 0)
			return jpeg_fail(t, NULL, 0);
		jpeg_markers(d, n, &orient, &adobe);
		if (orient >= 5) {
			int tmp = pw;

			pw = ph;
			ph = tmp;
		}
		break;
	case IMG_PNG:
		if (n < 24 || memcmp(d + 12, "IHDR", 4) || rd32(d + 16, 0) > INT32_MAX ||
		    rd32(d + 20, 0) > INT32_MAX)
			return -1;
		pw = (int)rd32(d + 16, 0);
		ph = (int)rd32(d + 20, 0);
		break;
	case IMG_GIF:
		if (probe_gif(d, n, &pw, &ph))
			return -1;
		break;
	case IMG_WEBP:
		if (!WebPGetInfo(d, n, &pw, &ph))
			return -1;
		break;
	default:
		return -1;
	}
	if (pw <= 0 || ph <= 0)
		return -1;
	if (w)
		*w = pw;
	if (h)
		*h = ph;
	return 0;
}

void img_normalize_chw(const uint8_t *rgb, int w, int h, float *out)
{
	static const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };
	size_t i, np = (size_t)w * h;
	int c;

	for (c = 0; c < 3; c++) {
		float a = 1.0f / (255.0f * std[c]), b = -mean[c] / std[c];
		float *o = out + c * np;

		for (i = 0; i < np; i++)
			o[i] = rgb[3 * i + c] * a + b;
	}
}

/* ---- versions ---- */

#define STR_(x) #x
#define STR(x) STR_(x)

const char *img_libjpeg_version(void)
{
#ifdef LIBJPEG_TURBO_VERSION
	return STR(LIBJPEG_TURBO_VERSION);
#else
	return "unknown";
#endif
}

const char *img_libpng_version(void)
{
	return png_get_libpng_ver(NULL);
}

const char *img_giflib_version(void)
{
	return STR(GIFLIB_MAJOR) "." STR(GIFLIB_MINOR) "." STR(GIFLIB_RELEASE);
}

static char webp_ver[32];
static pthread_once_t webp_once = PTHREAD_ONCE_INIT;

static void webp_ver_init(void)
{
	int v = WebPGetDecoderVersion();

	snprintf(webp_ver, sizeof(webp_ver), "%d.%d.%d", v >> 16 & 0xff, v >> 8 & 0xff, v & 0xff);
}

const char *img_libwebp_version(void)
{
	pthread_once(&webp_once, webp_ver_init);
	return webp_ver;
}
