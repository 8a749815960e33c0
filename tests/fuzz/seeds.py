#!/usr/bin/env python3
"""Writes the fuzz seed corpora under tests/fuzz/corpus/<target>/ from the
real sample (TSV rows, images), the golden tokenizer cases and small
made-up files. Run from the repository root with the project venv
(Pillow):  .venv/bin/python tests/fuzz/seeds.py [SHARED_DIR]

Each target reads its control bytes from the input (see the targets'
comments): tsv, archive and tokenizer take one leading byte, image three
trailing bytes. The seeds carry them.
"""
import bz2, gzip, io, json, lzma, os, shutil, struct, sys, tarfile, zipfile

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, '..', 'shared')
sample = os.path.join(shared, 'fakeddit-sample')
out = os.path.join(top, 'tests', 'fuzz', 'corpus')


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


for t in ('tsv', 'safetensors', 'image', 'archive', 'tokenizer', 'tokenize_json'):
    shutil.rmtree(os.path.join(out, t), ignore_errors=True)

# ---- tsv: real rows (with the quoted multi-line titles), made-up edge cases
val = open(os.path.join(sample, 'multimodal_validate.tsv'), 'rb').read().split(b'\n')
test = open(os.path.join(sample, 'multimodal_test_public.tsv'), 'rb').read().split(b'\n')
put('tsv', 'validate_head', b'\x00' + b'\n'.join(val[:8]) + b'\n')
put('tsv', 'validate_quoted', b'\x13' + b'\n'.join([val[0]] + val[118:123]) + b'\n')
put('tsv', 'validate_quoted2', b'\x25' + b'\n'.join([val[0]] + val[582:587]))
put('tsv', 'test_head_crlf', b'\x07' + b'\r\n'.join(test[:5]) + b'\r\n')
hdr = val[0]
put('tsv', 'bom_blank', b'\x3f\xef\xbb\xbf' + hdr + b'\n\n' + val[1] + b'\n\r\n' + val[2])
put('tsv', 'bad_label', b'\x01' + hdr + b'\n' + val[1].rsplit(b'\t', 1)[0] + b'\t9\n')
put('tsv', 'comments', b'\x02id\tsubmission_id\tparent_id\tauthor\tbody\tups\tisTopLevel\tcreated_utc\n'
    b'c1\ts1\tt3_s1\tbob\t"a ""quoted""\tbody"\t3.0\tTrue\t1551641244.0\n'
    b'c2\ts1\tc1\t\tnan\t-1\tfalse\t1.5e9\n')
put('tsv', 'all_index', b'\x44\tUnnamed: 0\tid\t2_way_label\tclean_title\n0\t0\tab\t1\tx\n1\t1\tcd\t0\t"y\tz"\n')
put('tsv', 'junk_quote', b'\x55a\tb\n"x"y\tz\n"unterminated\tq\n')
put('tsv', 'nul', b'\x66id\t2_way_label\nab\x00c\t1\n"q\x00"\t0\n')
put('tsv', 'cr_only', b'\x77a\tb\r\n"c"\r\nd\te\r')

# ---- image: real previews (JPEG, PNG behind .jpg) and made-up files of every format
from PIL import Image, ImageDraw

tail = b'\x20\x01\x33'  # size 33, crop, minimum 120x120


def img_bytes(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


imgs = sorted(os.listdir(os.path.join(sample, 'images')))
small = sorted(imgs, key=lambda n: os.path.getsize(os.path.join(sample, 'images', n)))[:4]
for n in small:
    put('image', 'sample_' + n.split('.')[0], open(os.path.join(sample, 'images', n), 'rb').read() + tail)

rgb = Image.new('RGB', (17, 11), (200, 30, 60))
ImageDraw.Draw(rgb).line((0, 0, 16, 10), fill=(10, 220, 40), width=2)
rgba = rgb.convert('RGBA')
rgba.putalpha(Image.linear_gradient('L').resize((17, 11)))
put('image', 'jpeg_baseline', img_bytes(rgb, 'JPEG', quality=80) + tail)
put('image', 'jpeg_progressive', img_bytes(rgb, 'JPEG', progressive=True) + b'\x05\x00\x00')
put('image', 'jpeg_gray', img_bytes(rgb.convert('L'), 'JPEG') + b'\x40\x00\xff')
put('image', 'jpeg_cmyk', img_bytes(rgb.convert('CMYK'), 'JPEG') + tail)
exif = Image.Exif()
exif[0x0112] = 6
put('image', 'jpeg_exif6', img_bytes(rgb, 'JPEG', exif=exif.tobytes()) + b'\x07\x01\x21')
exif[0x0112] = 3
put('image', 'jpeg_exif3', img_bytes(rgb, 'JPEG', exif=exif.tobytes(), subsampling=0) + tail)
put('image', 'png_rgb', img_bytes(rgb, 'PNG') + tail)
put('image', 'png_rgba', img_bytes(rgba, 'PNG') + b'\x10\x00\x00')
put('image', 'png_palette_trns', img_bytes(rgb.convert('P'), 'PNG', transparency=0) + tail)
put('image', 'png_gray16', img_bytes(rgb.convert('I;16'), 'PNG') + tail)
put('image', 'png_la', img_bytes(rgba.convert('LA'), 'PNG') + tail)
put('image', 'png_1bit', img_bytes(rgb.convert('1'), 'PNG') + tail)
put('image', 'gif', img_bytes(rgb.convert('P'), 'GIF') + tail)
put('image', 'gif_transparent', img_bytes(rgb.convert('P'), 'GIF', transparency=3) + b'\x02\x01\x00')
frames = [rgb.convert('P'), rgb.transpose(Image.FLIP_LEFT_RIGHT).convert('P')]
put('image', 'gif_anim', img_bytes(frames[0], 'GIF', save_all=True, append_images=frames[1:]) + tail)
put('image', 'webp_lossy', img_bytes(rgb, 'WEBP', quality=50) + tail)
put('image', 'webp_lossless', img_bytes(rgb, 'WEBP', lossless=True) + tail)
put('image', 'webp_alpha', img_bytes(rgba, 'WEBP') + b'\x09\x00\x00')
put('image', 'webp_anim', img_bytes(rgb, 'WEBP', save_all=True, append_images=[rgba]) + tail)

# ---- safetensors: made-up files, every dtype, metadata, escapes


def st(tensors, meta=None, pad=True):
    h, data = {}, b''
    if meta is not None:
        h['__metadata__'] = meta
    for name, dtype, shape, raw in tensors:
        h[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
        data += raw
    hb = json.dumps(h).encode()
    if pad:
        hb += b' ' * (-len(hb) % 8)
    return struct.pack('<Q', len(hb)) + hb + data


put('safetensors', 'one_f32', st([('w', 'F32', [2, 3], bytes(24))]))
put('safetensors', 'dtypes', st([('a', 'F64', [1], bytes(8)), ('b', 'F16', [2], bytes(4)),
                                 ('c', 'BF16', [1, 1], bytes(2)), ('d', 'I64', [1], bytes(8)),
                                 ('e', 'I32', [], bytes(4)), ('f', 'I16', [0, 5], b''),
                                 ('g', 'I8', [3], b'\x01\x02\x03'), ('h', 'U8', [1], b'\xff'),
                                 ('i', 'BOOL', [2], b'\x00\x01')]))
put('safetensors', 'meta', st([('layer.0.weight', 'F32', [1], b'\x00\x00\x80\x3f')],
                              {'format': 'pt', 'k\u00e9y': 'v\n"q"\\', 'e': ''}))
esc = b'{"\\u00e9\\ud83d\\ude00\\t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
put('safetensors', 'escapes', struct.pack('<Q', len(esc)) + esc + b'\x07')
put('safetensors', 'empty', st([], None))
put('safetensors', 'unpadded', st([('x', 'I8', [2, 2], b'abcd')], {}, pad=False))

# ---- archive: import-shaped archives in every container, and names
jpg = img_bytes(rgb, 'JPEG')


def tar_bytes(mode, entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode, format=tarfile.GNU_FORMAT) as tf:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            if kind == 'dir':
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif kind == 'sym':
                ti.type, ti.linkname = tarfile.SYMTYPE, 'abc.jpg'
                tf.addfile(ti)
            elif kind == 'hard':
                ti.type, ti.linkname = tarfile.LNKTYPE, 'imgs/abc.jpg'
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return b.getvalue()


entries = [('imgs', 'dir', b''), ('imgs/abc.jpg', 'file', jpg), ('imgs/../evil.jpg', 'file', b'x'),
           ('/abs.jpg', 'file', b'y'), ('imgs/link.jpg', 'sym', b''), ('imgs/hard.jpg', 'hard', b''),
           ('noext', 'file', b'z'), ('C:\\x\\d3f.png', 'file', b'p')]
put('archive', 'tar', b'\x02' + tar_bytes('w', entries))
put('archive', 'tar_gz', b'\x04' + tar_bytes('w:gz', entries[:3]))
put('archive', 'tar_bz2', b'\x02' + tar_bytes('w:bz2', entries[1:2]))
put('archive', 'tar_xz', b'\x04' + tar_bytes('w:xz', entries[1:2]))
zb = io.BytesIO()
with zipfile.ZipFile(zb, 'w') as zf:
    zf.writestr('imgs/abc.jpg', jpg)
    zf.writestr('../up.jpg', b'u')
    zf.writestr('dir/', b'')
put('archive', 'zip', b'\x03' + zb.getvalue())
put('archive', 'gz_plain', b'\x01' + gzip.compress(b'id\t2_way_label\nab\t1\n'))
put('archive', 'bz2_plain', b'\x07' + bz2.compress(b'plain text\n'))
put('archive', 'plain', b'\x00' + b'just bytes')
put('archive', 'name_nested', b'a/b\\c/abc123.jpg')
put('archive', 'name_dotdot', b'x/..\\..')
put('archive', 'name_drive', b'C:foo.jpg')

# ---- tokenizer and tokenize_json: the golden hard cases, and bytes no JSON can hold
hard = [json.loads(l) for l in open(os.path.join(shared, 'golden', 'golden_hard.jsonl'), encoding='utf-8')]
for i, h in enumerate(hard[::3]):
    put('tokenizer', 'hard_%02d' % i, bytes([0x4e]) + h['text'].encode('utf-8', 'surrogatepass'))
put('tokenizer', 'invalid_utf8', b'\x10caf\xc3\xa9 \xff\xfe \xed\xa0\x80 \xc0\xaf x\xe4\xb8')
put('tokenizer', 'specials', b'\x06[CLS] a[SEP]b [MASK][UNK] [unk] ##a')
put('tokenizer', 'long_word', b'\x7f' + b'unaffable' * 20 + b' ' + b'a\xcc\x81' * 60)
lines = [json.dumps(h['text']) for h in hard[1::4]] + \
        [json.dumps(h['text'], ensure_ascii=False) for h in hard[2::4]]
put('tokenize_json', 'hard_lines', '\n'.join(lines).encode('utf-8', 'surrogatepass') + b'\n')
put('tokenize_json', 'escapes', b'"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000"\n  "x"  \r\n')
put('tokenize_json', 'bad', b'"\\ud800"\n"\\udc00x"\n"abc\n x\n"\\q"\n"a" b\n"\\u12"\n"\x01"\n')
