/*
 * ckpt: WAL checkpoints on a thread of their own. See ckpt.h.
 *
 * A checkpoint failing here (a full disk, a reader holding old frames) is
 * not an error of the writer: it is retried by the next request, and SQLite
 * checkpoints whatever is left when the last connection closes.
 */
#define _POSIX_C_SOURCE 200809L
#include "ckpt.h"
#include "db.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>

struct ckpt {
	struct db *writer;  /* the writer's connection (autocheckpoint off meanwhile) */
	struct db *db;      /* this thread's own connection */
	struct db_stmt *st; /* PRAGMA wal_checkpoint(PASSIVE) */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t changed;
	int busy;           /* a checkpoint asked for and not done yet */
	int stop;
};

static void *ckpt_main(void *arg)
{
	struct ckpt *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->busy && !c->stop)
			pthread_cond_wait(&c->changed, &c->mu);
		if (!c->busy)
			break;
		pthread_mutex_unlock(&c->mu);
		while (db_step_quiet(c->st) == DB_ROW)
			;
		db_reset(c->st);
		pthread_mutex_lock(&c->mu);
		c->busy = 0;
		pthread_cond_broadcast(&c->changed);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

struct ckpt *ckpt_start(struct db *db, const char *path)
{
	struct ckpt *c = xcalloc(1, sizeof(*c));
	c->writer = db;
	if (db_open(&c->db, path, DB_NO_CREATE | DB_NO_MIGRATE) ||
	    db_prepare(c->db, &c->st, "PRAGMA wal_checkpoint(PASSIVE)"))
		goto fail;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->changed, NULL);
	if (pthread_create(&c->th, NULL, ckpt_main, c)) {
		pthread_cond_destroy(&c->changed);
		pthread_mutex_destroy(&c->mu);
		goto fail;
	}
	if (db_exec(db, "PRAGMA wal_autocheckpoint = 0")) {
		ckpt_stop(c);
		return NULL;
	}
	return c;
fail:
	db_finalize(c->st);
	db_close(c->db);
	free(c);
	return NULL;
}

void ckpt_request(struct ckpt *c, int wait)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	while (c->busy)
		pthread_cond_wait(&c->changed, &c->mu);
	c->busy = 1;
	pthread_cond_broadcast(&c->changed);
	while (wait && c->busy)
		pthread_cond_wait(&c->changed, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

void ckpt_stop(struct ckpt *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	pthread_cond_destroy(&c->changed);
	pthread_mutex_destroy(&c->mu);
	db_finalize(c->st);
	db_close(c->db);
	db_exec(c->writer, "PRAGMA wal_autocheckpoint = 1000");
	free(c);
}
