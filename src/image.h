/*
 * image: decoding of JPEG, PNG, GIF (first frame) and WebP into 8-bit RGB,
 * and antialiased resizing to the model's input size.
 *
 * The only module that includes turbojpeg.h, png.h, gif_lib.h and the webp
 * headers. The format is found from magic bytes, never from a file name.
 * Every decoded image is packed RGB, 3 bytes a pixel, rows top to bottom
 * (HWC), with:
 *   - grayscale, palette and 16-bit data converted to 8-bit RGB (16-bit is
 *     reduced to its high byte, as Pillow does);
 *   - alpha (PNG alpha or tRNS, GIF transparent index, WebP alpha)
 *     composited on a WHITE background;
 *   - CMYK/YCCK JPEG converted with the naive formula R = (1-C)(1-K),
 *     honouring Adobe's inverted storage;
 *   - the JPEG EXIF orientation tag (APP1) applied, so width and height are
 *     those of the image as displayed.
 * Images wider or taller than IMG_MAX_SIDE or larger than IMG_MAX_PIXELS are
 * refused from their header, before any pixel buffer is allocated.
 *
 * No function here prints anything: failures return -1 and put a short
 * reason in the caller's `why` buffer (may be NULL), starting with one of
 *   "empty", "unknown format", "truncated", "corrupt", "too large",
 *   "unsupported"
 * followed by detail, e.g. "too large: 30000x30000", "corrupt: bad huffman
 * table". The caller decides what to do with the image (skip, blank, record
 * the reason).
 *
 * Thread safety: every function may be called from several threads at
 * once. Decoder handles and scratch buffers are kept per thread and freed
 * when the thread exits.
 */
#ifndef MMDB_IMAGE_H
#define MMDB_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum img_format {
	IMG_UNKNOWN = 0,
	IMG_JPEG,
	IMG_PNG,
	IMG_GIF,
	IMG_WEBP,
};

/* How img_decode_resize() maps an image to size x size. */
enum img_mode {
	IMG_SQUASH = 0, /* scale each axis to size, ignoring the aspect ratio (the original recipe) */
	IMG_CROP = 1,   /* scale the shorter side to size, then take the centre size x size */
};

#define IMG_MAX_SIDE 20000          /* pixels, either side */
#define IMG_MAX_PIXELS 100000000LL  /* width * height */

/* A decoded image: w * h pixels of packed RGB, owned by the struct. */
struct img {
	int w, h;
	int format;    /* enum img_format of the source */
	uint8_t *pix;  /* w * h * 3 bytes, row stride w * 3; free with img_release() */
};
#define IMG_INIT { 0, 0, IMG_UNKNOWN, NULL }

/* The format from the first bytes of data (magic bytes only); IMG_UNKNOWN if none. */
int img_sniff(const void *data, size_t n);

/* "jpeg", "png", "gif", "webp", or "unknown"; a static string. */
const char *img_format_name(int fmt);

/*
 * Reads only the header: sets *fmt and the displayed width *w and height *h
 * (after EXIF orientation for JPEG). Any output pointer may be NULL.
 * Returns 0, or -1 if the format is unknown or the header is unreadable.
 * It does not apply the size limits (a caller can show a bomb's size); it
 * does not prove the rest of the data decodes.
 */
int img_probe(const void *data, size_t n, int *fmt, int *w, int *h);

/*
 * Decodes data to size x size RGB pixels (HWC, size * size * 3 bytes written
 * to out, which the caller owns) with the given enum img_mode. JPEG is
 * decoded with libjpeg-turbo's DCT scaling (1/2, 1/4 or 1/8) at the
 * smallest scale whose sides are still at least size; then an antialiased
 * triangle filter (Pillow's BILINEAR, support widened when reducing) scales
 * to size. IMG_CROP's longer side is truncated as torchvision's Resize
 * does (int(size * long / short)) and the crop offset is
 * (long - size) / 2 rounded down. size is 1..4096.
 * Returns 0, or -1 with a reason in why (why_n bytes, NUL-terminated); on
 * failure out is left unspecified.
 */
int img_decode_resize(const void *data, size_t n, int size, int mode,
		      uint8_t *out, char *why, size_t why_n);

/*
 * Decodes data at full size into *out (which must be IMG_INIT or released).
 * Returns 0, or -1 with a reason in why; on failure *out holds nothing.
 * The caller frees the pixels with img_release().
 */
int img_decode(const void *data, size_t n, struct img *out, char *why, size_t why_n);

/*
 * Like img_decode(), but a JPEG may be decoded at a reduced DCT scale (1/2,
 * 1/4, 1/8): the smallest whose displayed size is still at least min_w x
 * min_h (for a thumbnail, say). Other formats decode at full size. A
 * minimum of 0 puts no bound on that axis, so (0, 0) decodes a JPEG at 1/8.
 */
int img_decode_scaled(const void *data, size_t n, int min_w, int min_h,
		      struct img *out, char *why, size_t why_n);

/* Frees the pixels of img (if any) and resets it to IMG_INIT. */
void img_release(struct img *img);

/*
 * Resizes packed RGB src (sw x sh) to dst (dw x dh, caller-owned, dw * dh *
 * 3 bytes) with the same antialiased filter as img_decode_resize(). All
 * sizes >= 1. Returns 0, or -1 (nothing printed) if a size is out of range.
 */
int img_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh);

/*
 * Converts packed RGB uint8 (w x h, HWC) to float CHW normalised with the
 * ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) of
 * pixel / 255. out holds 3 * w * h floats (caller-owned).
 */
void img_normalize_chw(const uint8_t *rgb, int w, int h, float *out);

/* Library versions for `mmdb env`: static strings. */
const char *img_libjpeg_version(void);  /* libjpeg-turbo, e.g. "2.1.5" */
const char *img_libpng_version(void);   /* e.g. "1.6.39" */
const char *img_giflib_version(void);   /* e.g. "5.2.1" */
const char *img_libwebp_version(void);  /* e.g. "1.2.4" */

#endif
