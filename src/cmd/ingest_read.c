/*
 * mmdb ingest, the reading side: a thread per file entry reads its records
 * (decompression and SHA-256 happen in the archive reader beneath), parses
 * and converts them to typed values, and hands them to the writing thread
 * in batches over a bounded queue. Bad records travel too, with their raw
 * text, to be kept in ingest_errors.
 */
#define _POSIX_C_SOURCE 200809L
#include "ingest_int.h"
#include "../archive.h"
#include "../tsv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_ITEMS 1024      /* records per hand-over between the threads */
#define RAW_MAX 2000          /* bytes of a bad record kept in ingest_errors */

static struct batch *batch_get(struct queue *q)
{
	struct batch *b = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->nspare)
		b = q->spare[--q->nspare];
	pthread_mutex_unlock(&q->mu);
	if (!b)
		b = xcalloc(1, sizeof(*b));
	b->n = 0;
	b->last = b->failed = 0;
	sb_reset(&b->arena);
	return b;
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->items);
	sb_release(&b->arena);
	free(b);
}

void ingest_batch_put_spare(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	if (q->nspare < ARRAY_SIZE(q->spare)) {
		q->spare[q->nspare++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	batch_free(b);
}

/* Producer side: waits for room; returns -1 when cancelled. */
static int queue_push(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == QUEUE_DEPTH && !q->cancel)
		pthread_cond_wait(&q->changed, &q->mu);
	if (q->cancel) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	q->full[(q->head + q->count++) % QUEUE_DEPTH] = b;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

struct batch *ingest_queue_pop(struct queue *q)
{
	struct batch *b;
	pthread_mutex_lock(&q->mu);
	while (q->count == 0)
		pthread_cond_wait(&q->changed, &q->mu);
	b = q->full[q->head];
	q->head = (q->head + 1) % QUEUE_DEPTH;
	q->count--;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->mu);
	return b;
}

void ingest_queue_cancel(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->cancel = 1;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->mu);
}

void ingest_queue_init(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->changed, NULL);
}

void ingest_queue_release(struct queue *q)
{
	while (q->count) {
		struct batch *b = q->full[q->head];
		q->head = (q->head + 1) % QUEUE_DEPTH;
		q->count--;
		batch_free(b);
	}
	while (q->nspare)
		batch_free(q->spare[--q->nspare]);
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->mu);
}

/* ---- the reading thread ---- */

/* Appends bytes as valid UTF-8 text (other bytes as '?'), at most max. */
static size_t arena_text(struct strbuf *sb, const char *s, size_t len, size_t max)
{
	size_t off = sb->len, i;
	if (len > max)
		len = max;
	if (utf8_valid(s, len) && !memchr(s, '\0', len)) {
		sb_add(sb, s, len);
	} else {
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			sb_addc(sb, c && c < 0x80 ? (char)c : '?');
		}
	}
	sb_addc(sb, '\0');
	return off;
}

static void add_item(struct reader *rd, struct batch *b, const struct tsv_record *rec)
{
	struct item *it;
	char detail[160];
	int c;
	ALLOC_GROW(b->items, b->n + 1, b->alloc);
	it = &b->items[b->n++];
	it->line = rec->line;
	it->col = NULL;
	it->reason = NULL;
	if (rec->status != TSV_OK) {
		it->reason = tsv_status_str(rec->status);
		if (rec->status == TSV_FIELD_COUNT)
			snprintf(detail, sizeof(detail), "expected %zu fields, found %zu",
				 rd->layout.nfields, rec->nfields);
		else
			*detail = '\0';
	} else if (fd_convert(&rd->layout, rec, it->v, &it->col, &it->reason, detail, sizeof(detail))) {
		/* it->reason set */
	} else {
		for (c = 0; c < rd->layout.ncols; c++) {
			struct fd_value *v = &it->v[c];
			if (v->type == FD_TEXT) {
				v->i = (int64_t)b->arena.len;
				sb_add(&b->arena, v->s, v->len);
				sb_addc(&b->arena, '\0');
			}
		}
		*detail = '\0';
	}
	/* The raw text too: a good record may still turn out a duplicate. */
	it->detail = b->arena.len;
	sb_add(&b->arena, detail, strlen(detail) + 1);
	it->raw = arena_text(&b->arena, rec->raw, rec->raw_len, RAW_MAX);
	it->raw_len = b->arena.len - it->raw - 1;
}

/* Text values become pointers once the arena stops moving. */
static void batch_seal(struct batch *b, int ncols)
{
	size_t i;
	int c;
	for (i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		if (it->reason)
			continue;
		for (c = 0; c < ncols; c++)
			if (it->v[c].type == FD_TEXT)
				it->v[c].s = b->arena.buf + it->v[c].i;
	}
}

void *ingest_reader_main(void *arg)
{
	struct reader *rd = arg;
	struct batch *b = batch_get(rd->q);
	struct tsv_record rec;
	int rc;
	while ((rc = tsv_next(rd->tsv, &rec)) == 1) {
		add_item(rd, b, &rec);
		if (b->n == BATCH_ITEMS) {
			b->bytes = ar_bytes_consumed(rd->ar);
			batch_seal(b, rd->layout.ncols);
			if (queue_push(rd->q, b)) {
				batch_free(b);
				return NULL;
			}
			b = batch_get(rd->q);
		}
	}
	b->failed = rc < 0;
	b->last = 1;
	b->bytes = ar_bytes_consumed(rd->ar);
	batch_seal(b, rd->layout.ncols);
	if (queue_push(rd->q, b))
		batch_free(b);
	return NULL;
}
