/*
 * fuzz_image: the image decoders (src/image.c, src/image_resize.c) through
 * their public entries, for every format (the format comes from the magic
 * bytes, so one target reaches JPEG, PNG, GIF and WebP): img_probe,
 * img_decode, img_decode_scaled and img_decode_resize.
 *
 * The last 3 input bytes choose the resize size and mode and the
 * img_decode_scaled minimum; the rest is the image. Invariants checked:
 *  - a failure gives a reason starting with one of the documented words;
 *  - a decoded image is within the size limits, and img_probe, when it
 *    succeeds, gives the same size as the full decode;
 *  - img_decode_scaled never gives more than the full size, nor less than
 *    the asked minimum (when the image has it);
 *  - every output byte is written (read back in full, so the sanitizers
 *    see the whole buffer), and img_decode_resize gives the same pixels
 *    again after its per-thread scratch buffers held another image.
 */
#include "fuzz.h"
#include "image.h"

#include <string.h>

/* A 300x300 GIF: one pixel on a background of (0x5a, 0xa5, 0x33). */
static const uint8_t poison_gif[] = {
	'G', 'I', 'F', '8', '9', 'a', 0x2c, 0x01, 0x2c, 0x01, 0x80, 0, 0,
	0x5a, 0xa5, 0x33, 0x11, 0x22, 0x33,
	0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0,
	2, 2, 0x44, 0x01, 0, 0x3b,
};

static const char *const reasons[] = {
	"empty", "unknown format", "truncated", "corrupt", "too large", "unsupported",
};

static void check_why(const char *why)
{
	size_t i;
	FUZZ_CHECK(memchr(why, '\0', 256));
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (!strncmp(why, reasons[i], strlen(reasons[i])))
			return;
	fprintf(stderr, "undocumented reason: '%s'\n", why);
	FUZZ_CHECK(!"a documented reason");
}

/* Reads every byte (into a volatile, so the loads stay). */
static volatile unsigned sink;
static void sum(const uint8_t *p, size_t n)
{
	unsigned s = 0;
	size_t i;
	for (i = 0; i < n; i++)
		s += p[i];
	sink += s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img full = IMG_INIT, scaled = IMG_INIT;
	char why[256];
	int fmt, pw = 0, ph = 0, probed, size_px, mode, min_w, min_h, rc;
	uint8_t *out;

	if (size < 3)
		return 0;
	size_px = 1 + data[size - 3] % 64;
	mode = data[size - 2] & 1 ? IMG_CROP : IMG_SQUASH;
	min_w = (data[size - 1] & 15) * 40;
	min_h = (data[size - 1] >> 4) * 40;
	size -= 3;

	probed = img_probe(data, size, &fmt, &pw, &ph) == 0;
	FUZZ_CHECK(fmt == img_sniff(data, size));
	if (probed)
		FUZZ_CHECK(pw > 0 && ph > 0);

	why[0] = '\0';
	rc = img_decode(data, size, &full, why, sizeof(why));
	if (rc) {
		check_why(why);
		FUZZ_CHECK(full.pix == NULL);
	} else {
		FUZZ_CHECK(full.w >= 1 && full.h >= 1 && full.w <= IMG_MAX_SIDE && full.h <= IMG_MAX_SIDE);
		FUZZ_CHECK((long long)full.w * full.h <= IMG_MAX_PIXELS);
		FUZZ_CHECK(full.format == fmt && fmt != IMG_UNKNOWN);
		if (probed && (pw != full.w || ph != full.h)) {
			fprintf(stderr, "probe %dx%d, decode %dx%d (%s)\n", pw, ph, full.w, full.h,
				img_format_name(fmt));
			FUZZ_CHECK(!"img_probe gives the decoded size");
		}
		sum(full.pix, (size_t)full.w * full.h * 3);
	}

	why[0] = '\0';
	if (img_decode_scaled(data, size, min_w, min_h, &scaled, why, sizeof(why))) {
		check_why(why);
	} else if (!rc) {
		FUZZ_CHECK(scaled.w <= full.w && scaled.h <= full.h);
		FUZZ_CHECK(scaled.w >= (min_w < full.w ? min_w : full.w));
		FUZZ_CHECK(scaled.h >= (min_h < full.h ? min_h : full.h));
		sum(scaled.pix, (size_t)scaled.w * scaled.h * 3);
	}
	img_release(&scaled);
	img_release(&full);

	out = malloc((size_t)size_px * size_px * 3 * 2);
	FUZZ_CHECK(out);
	why[0] = '\0';
	if (img_decode_resize(data, size, size_px, mode, out, why, sizeof(why))) {
		check_why(why);
	} else {
		/*
		 * The same output after the thread's scratch buffers held another
		 * image: a pixel left unwritten by a decoder would show through.
		 */
		uint8_t *again = out + (size_t)size_px * size_px * 3;
		FUZZ_CHECK(img_decode_resize(poison_gif, sizeof(poison_gif), size_px, mode, again, why,
					     sizeof(why)) == 0);
		FUZZ_CHECK(img_decode_resize(data, size, size_px, mode, again, why, sizeof(why)) == 0);
		FUZZ_CHECK(!memcmp(out, again, (size_t)size_px * size_px * 3));
	}
	free(out);
	return 0;
}
