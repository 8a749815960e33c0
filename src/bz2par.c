/*
 * bz2par: a .bz2 file decompressed by several threads. See bz2par.h.
 *
 * The scanner thread reads the file and cuts it at every block and
 * end-of-stream magic into segments, numbered in order. A segment that
 * starts with a block magic is wrapped as a one-block stream ("BZh9", its
 * bits, an end-of-stream magic and the block's CRC as the stream CRC) and
 * decompressed by a worker; one that starts with an end-of-stream magic
 * (stream CRC, padding, the next stream's header) gives no bytes. The
 * reader takes the segments' bytes in order. At most a few segments per
 * worker are held at once, so memory stays bounded whatever the file size.
 */
#define _POSIX_C_SOURCE 200809L
#include "bz2par.h"
#include "util.h"

#include <bzlib.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK_MAGIC 0x314159265359ULL
#define EOS_MAGIC 0x177245385090ULL
#define MASK48 0xffffffffffffULL
#define READ_SIZE (1 << 20)
/* Compressed bytes without a magic after which the file is no bzip2 data
 * (a block of 900 kB compresses to about that at worst). */
#define MAX_SEGMENT (16 << 20)
/* Segments joined at most when a cut turns out to be inside a block. */
#define MAX_MERGE 4

enum { SEG_BLOCK, SEG_SKIP };
enum { ST_QUEUED, ST_BUSY, ST_DONE };

struct seg {
	struct seg *next;
	int kind;              /* SEG_BLOCK or SEG_SKIP */
	int state;             /* ST_* */
	int ok;                /* decoded (ST_DONE) */
	unsigned char *bits;   /* the segment's bits, MSB first, from bit 0 */
	uint64_t nbits;
	unsigned char *out;    /* decompressed bytes */
	size_t out_n;
};

struct bz2par {
	char *name;
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t work, done, space;
	struct seg *head, *tail; /* in file order; head is the reader's next */
	int nsegs, max_segs;
	int scan_done, scan_err, stop;
	int64_t consumed;
	pthread_t scanner;
	pthread_t *workers;
	int nworkers, scanner_started;
	uint64_t cut_every;      /* bz2par_test_cuts() */
	/* scanner state (scanner thread only) */
	unsigned char *in;
	size_t in_n, in_alloc;
	/* reader state */
	unsigned char *cur;    /* bytes handed out last */
	int failed;
};

static unsigned char cand[65536];
static uint64_t test_cut_bits;

void bz2par_test_cuts(uint64_t bits)
{
	test_cut_bits = bits;
}
static pthread_once_t cand_once = PTHREAD_ONCE_INIT;

/*
 * A magic starting at bit s (0..7) of byte j puts bits 16..31 of its
 * 48-bit window-aligned form into bytes j+1, j+2 whatever the data around
 * it: the 16-bit value there is the quick filter before the full check.
 */
static void cand_init(void)
{
	int s;
	for (s = 0; s < 8; s++) {
		cand[(BLOCK_MAGIC >> (24 + s)) & 0xffff] = 1;
		cand[(EOS_MAGIC >> (24 + s)) & 0xffff] = 1;
	}
}

int bz2par_detect(const unsigned char *h, size_t n)
{
	uint64_t m = 0;
	size_t i;
	if (n < 10 || h[0] != 'B' || h[1] != 'Z' || h[2] != 'h' || h[3] < '1' || h[3] > '9')
		return 0;
	for (i = 4; i < 10; i++)
		m = m << 8 | h[i];
	return m == BLOCK_MAGIC || m == EOS_MAGIC;
}

/* ---- bits --------------------------------------------------------------- */

/* n bits of src from bit a into a new buffer from its bit 0 (+ room bytes spare). */
static unsigned char *bits_copy(const unsigned char *src, size_t src_n, uint64_t a, uint64_t n,
				size_t room)
{
	size_t bytes = (size_t)((n + 7) / 8), k, first = (size_t)(a / 8);
	unsigned s = (unsigned)(a % 8);
	unsigned char *d = xcalloc(1, bytes + room);
	for (k = 0; k < bytes; k++) {
		unsigned char hi = src[first + k], lo = first + k + 1 < src_n ? src[first + k + 1] : 0;
		d[k] = s ? (unsigned char)(hi << s | lo >> (8 - s)) : hi;
	}
	if (n % 8)
		d[bytes - 1] &= (unsigned char)(0xff << (8 - n % 8));
	return d;
}

/* Appends the low n bits of v at bit *pos of d (zeroed beyond *pos). */
static void bits_put(unsigned char *d, uint64_t *pos, uint64_t v, int n)
{
	while (n-- > 0) {
		if (v >> n & 1)
			d[*pos / 8] |= (unsigned char)(0x80 >> (*pos % 8));
		(*pos)++;
	}
}

static uint64_t bits_get(const unsigned char *d, uint64_t pos, int n)
{
	uint64_t v = 0;
	while (n-- > 0) {
		v = v << 1 | (uint64_t)(d[pos / 8] >> (7 - pos % 8) & 1);
		pos++;
	}
	return v;
}

/* Appends segment bits (d has room) at bit *pos. */
static void bits_append(unsigned char *d, uint64_t *pos, const unsigned char *src, uint64_t n)
{
	uint64_t i = 0;
	if (*pos % 8 == 0) {
		size_t whole = (size_t)(n / 8);
		memcpy(d + *pos / 8, src, whole);
		*pos += (uint64_t)whole * 8;
		i = (uint64_t)whole * 8;
	}
	for (; i < n; i++)
		bits_put(d, pos, (uint64_t)(src[i / 8] >> (7 - i % 8) & 1), 1);
}

/*
 * Decompresses segments [s .. s+count) (their bits joined) as one block.
 * 0 with *out, *out_n set (caller frees), or -1 when they do not decode.
 */
static int decode(struct seg *s, int count, unsigned char **out, size_t *out_n)
{
	uint64_t nbits = 0, pos = 0;
	unsigned char *in;
	size_t alloc = 1 << 20, n = 0;
	unsigned char *o;
	struct seg *x;
	bz_stream z;
	int i, r;

	for (x = s, i = 0; i < count; i++, x = x->next)
		nbits += x->nbits;
	if (nbits < 80)
		return -1;
	in = xcalloc(1, (size_t)(nbits / 8) + 32);
	bits_put(in, &pos, 0x425a6839, 32); /* "BZh9" */
	for (x = s, i = 0; i < count; i++, x = x->next)
		bits_append(in, &pos, x->bits, x->nbits);
	bits_put(in, &pos, EOS_MAGIC, 48);
	bits_put(in, &pos, bits_get(s->bits, 48, 32), 32); /* the block CRC as the stream CRC */

	memset(&z, 0, sizeof(z));
	if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) {
		free(in);
		return -1;
	}
	o = xmalloc(alloc);
	z.next_in = (char *)in;
	z.avail_in = (unsigned)((pos + 7) / 8);
	for (;;) {
		if (n == alloc) {
			alloc *= 2;
			o = xrealloc(o, alloc);
		}
		z.next_out = (char *)o + n;
		z.avail_out = (unsigned)(alloc - n);
		r = BZ2_bzDecompress(&z);
		n = alloc - z.avail_out;
		if (r == BZ_STREAM_END)
			break;
		if (r != BZ_OK || (z.avail_in == 0 && z.avail_out > 0)) {
			r = -1;
			break;
		}
	}
	BZ2_bzDecompressEnd(&z);
	free(in);
	if (r != BZ_STREAM_END) {
		free(o);
		return -1;
	}
	*out = o;
	*out_n = n;
	return 0;
}

/* ---- threads ------------------------------------------------------------ */

static void *worker_main(void *arg)
{
	struct bz2par *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct seg *s;
		for (s = p->head; s && s->state != ST_QUEUED; s = s->next)
			;
		if (p->stop)
			break;
		if (!s) {
			pthread_cond_wait(&p->work, &p->lock);
			continue;
		}
		s->state = ST_BUSY;
		pthread_mutex_unlock(&p->lock);
		s->ok = decode(s, 1, &s->out, &s->out_n) == 0;
		pthread_mutex_lock(&p->lock);
		s->state = ST_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Queues the bits [a, b) of the scanner's buffer as a segment; 0, or -1 when stopped. */
static int emit(struct bz2par *p, uint64_t a, uint64_t b)
{
	struct seg *s = xcalloc(1, sizeof(*s));
	s->nbits = b - a;
	s->bits = bits_copy(p->in, p->in_n, a, b - a, 0);
	s->kind = s->nbits >= 48 && bits_get(s->bits, 0, 48) == BLOCK_MAGIC ? SEG_BLOCK : SEG_SKIP;
	if (s->kind == SEG_SKIP) {
		s->state = ST_DONE;
		s->ok = 1;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->stop && p->nsegs >= p->max_segs)
		pthread_cond_wait(&p->space, &p->lock);
	if (p->stop) {
		pthread_mutex_unlock(&p->lock);
		free(s->bits);
		free(s);
		return -1;
	}
	if (p->tail)
		p->tail->next = s;
	else
		p->head = s;
	p->tail = s;
	p->nsegs++;
	pthread_cond_signal(&p->work);
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* 64 bits from byte j (zeros past the end). */
static uint64_t load64(const unsigned char *b, size_t n, size_t j)
{
	uint64_t w = 0;
	size_t k;
	for (k = 0; k < 8; k++)
		w = w << 8 | (j + k < n ? b[j + k] : 0);
	return w;
}

static void *scanner_main(void *arg)
{
	struct bz2par *p = arg;
	uint64_t start = 32;  /* bit where the current segment starts (after "BZhN") */
	uint64_t next = 80;   /* where the next magic may start: past the current one */
	size_t j = 4;         /* next byte where a magic may start */
	int eof = 0;

	for (;;) {
		/* Scan what is buffered: a magic at byte j needs bytes j..j+7. */
		while (j + 8 <= p->in_n || (eof && j < p->in_n)) {
			uint64_t w;
			int s;
			unsigned v;
			if (p->cut_every && (uint64_t)j * 8 > start + p->cut_every) {
				/* a false cut, for tests */
				if (emit(p, start, (uint64_t)j * 8))
					goto out;
				start = next = (uint64_t)j * 8;
			}
			v = (unsigned)(j + 1 < p->in_n ? p->in[j + 1] : 0) << 8 |
				     (j + 2 < p->in_n ? p->in[j + 2] : 0);
			if (!cand[v]) {
				j++;
				continue;
			}
			w = load64(p->in, p->in_n, j);
			for (s = 0; s < 8; s++) {
				uint64_t m = (w >> (16 - s)) & MASK48, at = (uint64_t)j * 8 + (uint64_t)s;
				if ((m == BLOCK_MAGIC || m == EOS_MAGIC) && at >= next && at > start) {
					if (emit(p, start, at))
						goto out;
					start = at;
					next = at + 48;
				}
			}
			j++;
		}
		if (eof)
			break;
		/* Drop what lies before the current segment, then read more. */
		if (start / 8 > (1 << 22)) {
			size_t drop = (size_t)(start / 8);
			memmove(p->in, p->in + drop, p->in_n - drop);
			p->in_n -= drop;
			j -= drop;
			start -= (uint64_t)drop * 8;
			next -= (uint64_t)drop * 8;
		}
		if (p->in_n - (size_t)(start / 8) > MAX_SEGMENT) {
			error("cannot read '%s': no bzip2 block magic in %d MB", p->name, MAX_SEGMENT >> 20);
			pthread_mutex_lock(&p->lock);
			p->scan_err = 1;
			goto out_locked;
		}
		if (p->in_n + READ_SIZE > p->in_alloc) {
			p->in_alloc = p->in_n + READ_SIZE;
			p->in = xrealloc(p->in, p->in_alloc);
		}
		{
			ssize_t r;
			do
				r = read(p->fd, p->in + p->in_n, READ_SIZE);
			while (r < 0 && errno == EINTR);
			if (r < 0) {
				error("cannot read '%s': %s", p->name, strerror(errno));
				pthread_mutex_lock(&p->lock);
				p->scan_err = 1;
				goto out_locked;
			}
			if (r == 0)
				eof = 1;
			p->in_n += (size_t)r;
			pthread_mutex_lock(&p->lock);
			p->consumed += r;
			pthread_mutex_unlock(&p->lock);
		}
	}
	/* The last segment: end-of-stream trailer (or a truncated block). */
	if ((uint64_t)p->in_n * 8 > start && emit(p, start, (uint64_t)p->in_n * 8))
		goto out;
out:
	pthread_mutex_lock(&p->lock);
out_locked:
	p->scan_done = 1;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ---- the reader --------------------------------------------------------- */

int bz2par_open(struct bz2par **out, int fd, const unsigned char *head, size_t n, const char *name,
		int threads)
{
	struct bz2par *p;
	int i;

	if (!bz2par_detect(head, n))
		return error("'%s' is not bzip2 data", name);
	pthread_once(&cand_once, cand_init);
	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	p->fd = fd;
	/* Enough to keep every worker busy, and to join MAX_MERGE cuts. */
	p->max_segs = 2 * threads + 2 > MAX_MERGE + 1 ? 2 * threads + 2 : MAX_MERGE + 1;
	p->cut_every = test_cut_bits;
	p->in_alloc = n + READ_SIZE;
	p->in = xmalloc(p->in_alloc);
	memcpy(p->in, head, n);
	p->in_n = n;
	p->consumed = (int64_t)n;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	pthread_cond_init(&p->space, NULL);
	p->workers = xcalloc((size_t)threads, sizeof(*p->workers));
	for (i = 0; i < threads; i++)
		if (!pthread_create(&p->workers[p->nworkers], NULL, worker_main, p))
			p->nworkers++;
	if (!p->nworkers || pthread_create(&p->scanner, NULL, scanner_main, p)) {
		bz2par_close(p);
		return error("cannot start threads to decompress '%s'", name);
	}
	p->scanner_started = 1;
	*out = p;
	return 0;
}

static void seg_free(struct seg *s)
{
	free(s->bits);
	free(s->out);
	free(s);
}

/* Removes the head segment (lock held). */
static void pop_head(struct bz2par *p)
{
	struct seg *s = p->head;
	p->head = s->next;
	if (!p->head)
		p->tail = NULL;
	p->nsegs--;
	pthread_cond_signal(&p->space);
	/* its bytes stay with the reader until the next call */
	free(p->cur);
	p->cur = s->out;
	s->out = NULL;
	seg_free(s);
}

ssize_t bz2par_read(struct bz2par *p, const void **buf)
{
	ssize_t ret = -1;
	pthread_mutex_lock(&p->lock);
	free(p->cur);
	p->cur = NULL;
	while (!p->failed) {
		struct seg *s = p->head;
		size_t n;
		if (!s) {
			if (p->scan_done) {
				ret = p->scan_err ? -1 : 0;
				goto out;
			}
			pthread_cond_wait(&p->done, &p->lock);
			continue;
		}
		if (s->state != ST_DONE) {
			pthread_cond_wait(&p->done, &p->lock);
			continue;
		}
		if (!s->ok) {
			/* A cut inside a block: join it to the next segments until it decodes. */
			int count, have;
			struct seg *x;
			for (count = 2; count <= 1 + MAX_MERGE; count++) {
				for (;;) {
					for (have = 0, x = s; x && have < count; x = x->next)
						if (x->state == ST_DONE)
							have++;
						else
							break;
					if (have == count || (p->scan_done && !x))
						break;
					pthread_cond_wait(&p->done, &p->lock);
				}
				if (have < count)
					break;
				if (!decode(s, count, &s->out, &s->out_n)) {
					s->ok = 1;
					while (--count > 0) {
						x = s->next;
						s->next = x->next;
						if (p->tail == x)
							p->tail = s;
						p->nsegs--;
						seg_free(x);
					}
					pthread_cond_signal(&p->space);
					break;
				}
			}
			if (!s->ok) {
				error("cannot read '%s': bzip2 data is corrupt or truncated", p->name);
				p->failed = 1;
				goto out;
			}
		}
		n = s->out_n;
		pop_head(p);
		if (n) {
			*buf = p->cur;
			ret = (ssize_t)n;
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int64_t bz2par_consumed(struct bz2par *p)
{
	int64_t n;
	pthread_mutex_lock(&p->lock);
	n = p->consumed;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void bz2par_close(struct bz2par *p)
{
	int i;
	struct seg *s;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->space);
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->lock);
	if (p->scanner_started)
		pthread_join(p->scanner, NULL);
	for (i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i], NULL);
	while ((s = p->head)) {
		p->head = s->next;
		seg_free(s);
	}
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->space);
	pthread_mutex_destroy(&p->lock);
	free(p->workers);
	free(p->in);
	free(p->cur);
	free(p->name);
	free(p);
}
