#!/usr/bin/env python3
"""Reference data for tests/unit/test_image.c, made with Pillow and numpy.

usage: image_ref.py OUTDIR SAMPLEDIR

Writes into OUTDIR images of every colour type and format (PNG written by a
small encoder here, so every bit depth, tRNS and Adam7 interlacing can be
made), the RGB pixels a decoder must give for each (raw .rgb files, alpha
composited on white, 16-bit reduced to the high byte), and for each real
sample image Pillow's decode and Pillow's resize to 224x224 BILINEAR of that
decode. OUTDIR/manifest.txt lists them, one whitespace-separated line each:

  fixture NAME FILE W H EXPECTED.rgb MEAN_TOL MAX_TOL
  error   NAME FILE REASON_PREFIX
  sample  NAME FILE W H DECODED.rgb|- SQUASH.rgb CROP.rgb DSQUASH.rgb DCROP.rgb
  pipeline NAME FILE SQUASH.rgb CROP.rgb DSQUASH.rgb DCROP.rgb

SQUASH and CROP come from Pillow's full decode; DSQUASH and DCROP from a
JPEG decoded at the DCT scale mmdb picks (Image.draft), then the same resize.
"""
import io
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageFilter

SIZE = 224
lines = []


def picture(w, h, seed=1):
    """A test picture: gradients, hard edges, a disc and mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.sin(x / 3.0) * np.cos(y / 5.0)
    a = np.stack([r, g, b], -1)
    disc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.25) ** 2
    a[disc] = [250, 20, 40]
    a[(x.astype(int) // 7 + y.astype(int) // 7) % 5 == 0] *= 0.5
    a += rng.normal(0, 6, a.shape)
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def save_rgb(path, a):
    assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
    with open(path, "wb") as f:
        f.write(np.ascontiguousarray(a).tobytes())


def on_white(rgb, alpha):
    """What the decoder must give for straight alpha: round((c*a + 255*(255-a)) / 255)."""
    c = rgb.astype(np.int64)
    a = alpha.astype(np.int64)[..., None]
    return ((2 * (c * a + 255 * (255 - a)) + 255) // 510).astype(np.uint8)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(samples, ctype, depth, plte=None, trns=None, interlace=False):
    """A PNG from samples (h x w x channels ints at `depth` bits)."""
    h, w = samples.shape[:2]
    s = samples.reshape(h, w, -1).astype(np.int64)

    def scanline(rows):  # rows: (n, m, ch) -> filter-0 bytes
        out = bytearray()
        for row in rows:
            out.append(0)
            flat = row.reshape(-1)
            if depth == 16:
                out += flat.astype(">u2").tobytes()
            elif depth == 8:
                out += flat.astype(np.uint8).tobytes()
            else:
                per = 8 // depth
                pad = (-len(flat)) % per
                v = np.concatenate([flat, np.zeros(pad, np.int64)]).reshape(-1, per)
                shifts = np.array([8 - depth * (i + 1) for i in range(per)])
                out += (v << shifts).sum(1).astype(np.uint8).tobytes()
        return bytes(out)

    if interlace:
        raw = b""
        for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                               (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
            sub = s[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += scanline(sub)
    else:
        raw = scanline(s)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0))
    if plte is not None:
        out += chunk(b"PLTE", bytes(np.asarray(plte, np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(raw, 6))
    out += chunk(b"IEND", b"")
    return out


def fixture(out, name, data, expected, mean_tol=0.0, max_tol=0):
    fn = name + "." + ("png" if data[:4] == b"\x89PNG" else "bin")
    with open(os.path.join(out, fn), "wb") as f:
        f.write(data)
    save_rgb(os.path.join(out, name + ".exp.rgb"), expected)
    h, w = expected.shape[:2]
    lines.append(f"fixture {name} {fn} {w} {h} {name}.exp.rgb {mean_tol} {max_tol}")


def error_case(out, name, data, prefix):
    fn = name + ".bin"
    with open(os.path.join(out, fn), "wb") as f:
        f.write(data)
    lines.append(f"error {name} {fn} {prefix}")


def pil_bytes(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def pil_rgb(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def png_fixtures(out):
    w, h = 37, 23  # odd sizes: partial bytes at low bit depths, partial Adam7 blocks
    pic = picture(w, h, 2)
    rng = np.random.default_rng(3)
    gray8 = pic[..., 1]
    alpha = rng.integers(0, 256, (h, w)).astype(np.uint8)
    alpha[0, :] = 0
    alpha[1, :] = 255
    rep = lambda g: np.repeat(g[..., None], 3, -1)
    for depth in (1, 2, 4):
        v = rng.integers(0, 1 << depth, (h, w))
        scale = 255 // ((1 << depth) - 1)
        fixture(out, f"png_gray{depth}", png_bytes(v, 0, depth), rep((v * scale).astype(np.uint8)))
    fixture(out, "png_gray8", png_bytes(gray8, 0, 8), rep(gray8))
    g16 = gray8.astype(np.int64) * 256 + rng.integers(0, 256, (h, w))
    fixture(out, "png_gray16", png_bytes(g16, 0, 16), rep(gray8))
    key = int(gray8[5, 5])
    exp = rep(gray8).copy()
    exp[gray8 == key] = 255
    fixture(out, "png_gray8_trns", png_bytes(gray8, 0, 8, trns=struct.pack(">H", key)), exp)
    fixture(out, "png_graya8", png_bytes(np.stack([gray8, alpha], -1), 4, 8), on_white(rep(gray8), alpha))
    ga16 = np.stack([g16, alpha.astype(np.int64) * 257], -1)
    fixture(out, "png_graya16", png_bytes(ga16, 4, 16), on_white(rep(gray8), alpha))
    fixture(out, "png_rgb8", png_bytes(pic, 2, 8), pic)
    p16 = pic.astype(np.int64) * 256 + rng.integers(0, 256, pic.shape)
    fixture(out, "png_rgb16", png_bytes(p16, 2, 16), pic)
    key = pic[4, 4].astype(np.int64)
    exp = pic.copy()
    exp[(pic == key).all(-1)] = 255
    fixture(out, "png_rgb8_trns", png_bytes(pic, 2, 8, trns=struct.pack(">HHH", *key)), exp)
    rgba = np.concatenate([pic, alpha[..., None]], -1)
    fixture(out, "png_rgba8", png_bytes(rgba, 6, 8), on_white(pic, alpha))
    rgba16 = np.concatenate([p16, alpha[..., None].astype(np.int64) * 257], -1)
    fixture(out, "png_rgba16", png_bytes(rgba16, 6, 16), on_white(pic, alpha))
    fixture(out, "png_rgb8_adam7", png_bytes(pic, 2, 8, interlace=True), pic)
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        plte = rng.integers(0, 256, (n, 3)).astype(np.uint8)
        idx = rng.integers(0, n, (h, w))
        fixture(out, f"png_palette{depth}", png_bytes(idx, 3, depth, plte=plte), plte[idx])
    plte = rng.integers(0, 256, (16, 3)).astype(np.uint8)
    pal_alpha = rng.integers(0, 256, 10).astype(np.uint8)  # entries 10..15 stay opaque
    full_alpha = np.concatenate([pal_alpha, np.full(6, 255, np.uint8)])
    idx = rng.integers(0, 16, (h, w))
    fixture(out, "png_palette4_trns", png_bytes(idx, 3, 4, plte=plte, trns=pal_alpha.tobytes()),
            on_white(plte[idx], full_alpha[idx]))
    fixture(out, "png_palette4_adam7", png_bytes(idx, 3, 4, plte=plte, interlace=True), plte[idx])


def gif_fixtures(out):
    w, h = 41, 29
    rng = np.random.default_rng(4)
    plte = rng.integers(0, 256, (256, 3)).astype(np.uint8)
    idx = rng.integers(0, 256, (h, w)).astype(np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette(plte.reshape(-1).tolist())
    fixture(out, "gif_palette", pil_bytes(im, "GIF", interlace=False), plte[idx])
    fixture(out, "gif_interlaced", pil_bytes(im, "GIF", interlace=True), plte[idx])
    exp = plte[idx].copy()
    exp[idx == 7] = 255
    fixture(out, "gif_transparent", pil_bytes(im, "GIF", transparency=7), exp)
    idx2 = (idx // 2).astype(np.uint8)
    im2 = Image.fromarray(idx2, "P")
    im2.putpalette(plte.reshape(-1).tolist())
    anim = pil_bytes(im, "GIF", save_all=True, append_images=[im2], duration=100, loop=0)
    fixture(out, "gif_animated_first_frame", anim, plte[idx])


def jpeg_fixtures(out):
    pic = picture(97, 61, 5)
    im = Image.fromarray(pic)
    for name, kw in (("jpeg_444", dict(quality=95, subsampling=0)),
                     ("jpeg_420", dict(quality=90, subsampling=2)),
                     ("jpeg_422", dict(quality=90, subsampling=1)),
                     ("jpeg_progressive", dict(quality=85, progressive=True))):
        data = pil_bytes(im, "JPEG", **kw)
        fixture(out, name, data, pil_rgb(data), 0.5, 8)
    data = pil_bytes(im.convert("L"), "JPEG", quality=90)
    fixture(out, "jpeg_gray", data, pil_rgb(data), 0.5, 8)
    # Pillow writes CMYK with an Adobe marker, stored inverted (as Photoshop does).
    data = pil_bytes(im.convert("CMYK"), "JPEG", quality=95)
    cmyk = np.asarray(Image.open(io.BytesIO(data))).astype(np.int64)
    exp = ((2 * (255 - cmyk[..., :3]) * (255 - cmyk[..., 3:]) + 255) // 510).astype(np.uint8)
    fixture(out, "jpeg_cmyk", data, exp, 0.5, 8)
    # EXIF orientation: the APP1 segment made by hand, in both byte orders.
    base = pil_bytes(im, "JPEG", quality=95, subsampling=0)
    dec = Image.open(io.BytesIO(base)).convert("RGB")
    ops = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
           4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
           6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
    for o in range(1, 9):
        bo = "<" if o % 2 else ">"
        tiff = (b"II" if bo == "<" else b"MM") + struct.pack(bo + "HI", 42, 8)
        entries = [(0x010F, 2, 4, b"mmd\0"), (0x0112, 3, 1, struct.pack(bo + "HH", o, 0))]
        tiff += struct.pack(bo + "H", len(entries))
        for tag, typ, cnt, val in entries:
            tiff += struct.pack(bo + "HHI", tag, typ, cnt) + val
        tiff += struct.pack(bo + "I", 0)
        app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\0\0" + tiff
        data = base[:2] + app1 + base[2:]
        exp = dec.transpose(ops[o]) if o in ops else dec
        fixture(out, f"jpeg_exif{o}", data, np.asarray(exp), 0.5, 8)


def webp_fixtures(out):
    pic = picture(53, 31, 6)
    rng = np.random.default_rng(7)
    alpha = rng.integers(0, 256, pic.shape[:2]).astype(np.uint8)
    im = Image.fromarray(pic)
    fixture(out, "webp_lossless", pil_bytes(im, "WEBP", lossless=True), pic)
    rgba = Image.fromarray(np.concatenate([pic, alpha[..., None]], -1), "RGBA")
    fixture(out, "webp_lossless_alpha", pil_bytes(rgba, "WEBP", lossless=True, exact=True),
            on_white(pic, alpha))
    data = pil_bytes(im, "WEBP", quality=90)
    fixture(out, "webp_lossy", data, pil_rgb(data), 1.0, 12)
    im2 = Image.fromarray(picture(53, 31, 8))
    anim = pil_bytes(im, "WEBP", save_all=True, append_images=[im2], duration=100, lossless=True)
    error_case(out, "webp_animated", anim, "unsupported")


def resize_crop(im, size):
    """Shorter side to size (longer truncated, as torchvision's Resize), centre crop (floor offset)."""
    w, h = im.size
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    r = im.resize((nw, nh), Image.BILINEAR)
    x0, y0 = (nw - size) // 2, (nh - size) // 2
    return r.crop((x0, y0, x0 + size, y0 + size))


def dct_scale(w, h, size):
    """The reduction mmdb's decoder picks: the largest 1/a whose sides stay >= size."""
    for a in (8, 4, 2, 1):
        if -(-w // a) >= size and -(-h // a) >= size:
            return a
    return 1


def refs(out, name, data):
    """Writes NAME.{sq,crop,dsq,dcrop}.rgb for encoded data; returns the four file names."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    names = [name + x for x in (".sq.rgb", ".crop.rgb", ".dsq.rgb", ".dcrop.rgb")]
    save_rgb(os.path.join(out, names[0]), np.asarray(im.resize((SIZE, SIZE), Image.BILINEAR)))
    save_rgb(os.path.join(out, names[1]), np.asarray(resize_crop(im, SIZE)))
    d = Image.open(io.BytesIO(data))
    if d.format == "JPEG":
        a = dct_scale(d.size[0], d.size[1], SIZE)
        # draft picks the largest a with a <= min(w // rw, h // rh); this request gives exactly a
        d.draft(None, (d.size[0] // a, d.size[1] // a))
    d = d.convert("RGB")
    save_rgb(os.path.join(out, names[2]), np.asarray(d.resize((SIZE, SIZE), Image.BILINEAR)))
    save_rgb(os.path.join(out, names[3]), np.asarray(resize_crop(d, SIZE)))
    return " ".join(names)


def samples(out, sample_dir):
    for fn in sorted(os.listdir(sample_dir)):
        path = os.path.join(sample_dir, fn)
        name = os.path.splitext(fn)[0]
        im = Image.open(path).convert("RGB")
        w, h = im.size
        dec = "-"
        if w * h <= 1500000:  # the few multi-megapixel ones are only checked resized
            dec = name + ".dec.rgb"
            save_rgb(os.path.join(out, dec), np.asarray(im))
        with open(path, "rb") as f:
            names = refs(out, name, f.read())
        lines.append(f"sample {name} {path} {w} {h} {dec} {names}")


def pipelines(out):
    """Larger generated JPEGs, which mmdb decodes at a reduced DCT scale."""
    for name, (w, h) in (("big_1024x768", (1024, 768)), ("big_800x1200", (800, 1200)),
                         ("big_3000x2000", (3000, 2000))):
        a = picture(w, h, 9)
        # smoother content, like a photo, so the comparison is about resampling
        a = np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(1.5)))
        data = pil_bytes(Image.fromarray(a), "JPEG", quality=90)
        fn = name + ".jpg"
        with open(os.path.join(out, fn), "wb") as f:
            f.write(data)
        lines.append(f"pipeline {name} {os.path.join(out, fn)} {refs(out, name, data)}")


def main():
    out, sample_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    png_fixtures(out)
    gif_fixtures(out)
    jpeg_fixtures(out)
    webp_fixtures(out)
    samples(out, sample_dir)
    pipelines(out)
    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
