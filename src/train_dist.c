/*
 * train_dist: what the epoch loop of a data-parallel run asks of the other
 * ranks (see train_int.h): sums, agreement, gathering an evaluation, and
 * telling which rank is gone when a collective breaks, and a failure's
 * account kept in the run's folder while the database is locked.
 */
#include "train_int.h"
#include "dist.h"
#include "loader.h"
#include "torch/mt.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int td_sum(const struct run_config *cfg, double *v, size_t n)
{
	if (!cfg->dist)
		return 0;
	return mt_dist_allreduce(cfg->dist, v, n, MT_SUM);
}

int td_broadcast(const struct run_config *cfg, void *buf, size_t n)
{
	if (!cfg->dist)
		return 0;
	return mt_dist_broadcast(cfg->dist, buf, n, 0);
}

int td_agree(const struct run_config *cfg, int ok)
{
	double v = ok ? 1 : 0;
	if (!cfg->dist)
		return ok ? 1 : 0;
	if (mt_dist_allreduce(cfg->dist, &v, 1, MT_MIN))
		return 0;
	return v > 0.5;
}

int td_gather_probs(const struct run_config *cfg, const float *local, size_t n_local, size_t n,
		    int C, float *probs)
{
	int W = cfg->world_size, r;
	size_t k, row = (size_t)C * sizeof(float);
	float *all;

	if (!cfg->dist) {
		if (local != probs)
			memcpy(probs, local, n * row);
		return 0;
	}
	all = xmalloc(st_mult(st_mult(n_local ? n_local : 1, row), (size_t)W));
	if (mt_dist_allgather(cfg->dist, local, n_local * row, all)) {
		free(all);
		return -1;
	}
	/* rank r's k-th post sits at position k*W + r; positions past n are the
	 * padding (repeats of the first posts) and are dropped */
	for (r = 0; r < W; r++)
		for (k = 0; k < n_local; k++) {
			size_t pos = k * (size_t)W + (size_t)r;
			if (pos < n)
				memcpy(probs + pos * C, all + ((size_t)r * n_local + k) * C, row);
		}
	free(all);
	return 0;
}

/*
 * Which peers' processes are gone, into gone[] (world_size). A killed
 * process closes its sockets before it turns into a zombie, so a collective
 * can break a moment before /proc shows the process gone: look again for
 * up to 2 s while none is. Returns how many are gone.
 */
static int find_gone(const struct run_config *cfg, char *gone)
{
	int r, n = 0, tries;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	for (tries = 0; tries < 40; tries++) {
		for (r = 0, n = 0; cfg->peers && r < cfg->world_size; r++) {
			gone[r] = r != cfg->rank && dist_peer_gone(&cfg->peers[r]);
			n += gone[r];
		}
		if (n || !cfg->peers)
			break;
		nanosleep(&ts, NULL);
	}
	return n;
}

/* The ranks that did not answer a roll call (after a collective timed out)
 * into silent[]; returns how many, or -1 when the store did not answer. */
static int find_silent(const struct run_config *cfg, char *silent)
{
	char *here = xcalloc((size_t)cfg->world_size, 1);
	int r, n = 0, rc;

	rc = mt_dist_rollcall(cfg->dist, dist_rollcall_wait(cfg->dist_timeout), here);
	for (r = 0; r < cfg->world_size; r++) {
		silent[r] = rc == 0 && !here[r];
		n += silent[r];
	}
	free(here);
	return rc < 0 ? -1 : n;
}

static size_t name_ranks(const struct run_config *cfg, const char *which, const char *what,
			 char *buf, size_t len, size_t n)
{
	int r, k = 0, count = 0;

	for (r = 0; r < cfg->world_size; r++)
		count += which[r] != 0;
	if (!count)
		return len;
	for (r = 0; r < cfg->world_size; r++) {
		if (!which[r])
			continue;
		len += snprintf(buf + len, len < n ? n - len : 0, "%s%srank %d (pid %d on %s)",
				len && !k ? "; " : "", k ? ", " : "", r, cfg->peers[r].pid,
				cfg->peers[r].host);
		k++;
	}
	len += snprintf(buf + len, len < n ? n - len : 0, " %s %s", count > 1 ? "are" : "is", what);
	return len;
}

int td_blame(const struct run_config *cfg, double since, char *buf, size_t n)
{
	int W = cfg->world_size, r, ngone, nsilent = 0;
	char *gone = xcalloc((size_t)W, 1), *silent = xcalloc((size_t)W, 1), what[64];
	double waited = now_seconds() - since;
	size_t len = 0;

	buf[0] = '\0';
	ngone = find_gone(cfg, gone);
	/* none gone, and the collective waited its whole timeout: one that
	 * hangs stays silent when the others, timed out too, call the roll */
	if (!ngone && cfg->dist_timeout > 0 && waited >= 0.9 * cfg->dist_timeout) {
		nsilent = find_silent(cfg, silent);
		if (nsilent < 0 && !cfg->dist_agent_store && cfg->rank != 0) {
			silent[0] = 1; /* rank 0's process hosts the store */
			nsilent = 1;
		}
	}
	len = name_ranks(cfg, gone, "gone", buf, len, n);
	snprintf(what, sizeof(what), "not responding (no answer in %.0f s)", waited);
	len = name_ranks(cfg, silent, what, buf, len, n);
	if (len >= n)
		buf[n - 1] = '\0';
	if (!len && nsilent < 0)
		snprintf(buf, n, "the launcher's store does not answer");
	else if (!len && waited >= 0.9 * cfg->dist_timeout)
		snprintf(buf, n, "the ranks timed out waiting for each other (%.0f s)", waited);
	for (r = 0; cfg->lost && r < W; r++)
		cfg->lost[r] = gone[r] || silent[r];
	free(gone);
	free(silent);
	return cfg->lost && cfg->lost[0];
}

int td_reporter(const struct run_config *cfg)
{
	char *gone;
	int r, ret = 1;
	if (cfg->rank == 0)
		return 1;
	if (!cfg->peers)
		return 0;
	gone = xcalloc((size_t)cfg->world_size, 1);
	find_gone(cfg, gone);
	for (r = 0; r < cfg->rank; r++)
		if (!gone[r] && !(cfg->lost && cfg->lost[r]))
			ret = 0;
	free(gone);
	return ret;
}

void td_resize_world(const struct run_config *cfg, struct train_state *st, int64_t run_id, int verbose)
{
	int64_t old = st->world_size > 0 ? st->world_size : 1, w = cfg->world_size > 0 ? cfg->world_size : 1;
	int64_t B = cfg->batch_size, done;

	if (old == w)
		return;
	done = (int64_t)st->step * B * old;
	st->step = (int32_t)(done / (B * w));
	st->world_size = (int32_t)w;
	if (verbose)
		fprintf(stderr, "run %lld: resuming with %lld rank%s (it ran on %lld): epoch %d goes on "
				"at step %d\n", (long long)run_id, (long long)w, w > 1 ? "s" : "",
			(long long)old, st->epoch, st->step);
}

#define ACCOUNT_PREFIX "failure-rank"

void td_account_leave(const char *dir, int rank, const char *reason)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	FILE *f;

	if (!*dir)
		return;
	sb_addf(&path, "%s/" ACCOUNT_PREFIX "%d", dir, rank);
	sb_addf(&tmp, "%s.tmp%ld", path.buf, (long)getpid());
	if ((f = fopen(tmp.buf, "w"))) {
		fputs(reason, f);
		if (fclose(f) == 0 && rename(tmp.buf, path.buf) == 0)
			fprintf(stderr, "mmdb: rank %d: the database is locked; the failure's account "
					"waits in %s for the rank that records it\n", rank, path.buf);
		else
			unlink(tmp.buf);
	}
	sb_release(&path);
	sb_release(&tmp);
}

char *td_account_take(const char *dir, int rank)
{
	DIR *d = *dir ? opendir(dir) : NULL;
	struct dirent *e;
	struct strbuf path = STRBUF_INIT;
	char *account = NULL;
	long r;

	if (!d)
		return NULL;
	while (!account && (e = readdir(d))) {
		char *end;
		FILE *f;
		if (strncmp(e->d_name, ACCOUNT_PREFIX, strlen(ACCOUNT_PREFIX)))
			continue;
		r = strtol(e->d_name + strlen(ACCOUNT_PREFIX), &end, 10);
		if (*end || r == rank)
			continue;  /* a temporary, or this rank's own */
		sb_reset(&path);
		sb_addf(&path, "%s/%s", dir, e->d_name);
		if ((f = fopen(path.buf, "r"))) {
			char buf[1024];
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = '\0';
			if (n)
				account = xstrdup(buf);
		}
	}
	closedir(d);
	sb_release(&path);
	return account;
}

static int is_account(const char *name, void *arg)
{
	(void)arg;
	return !strncmp(name, ACCOUNT_PREFIX, strlen(ACCOUNT_PREFIX));
}

void td_account_forget(const char *dir)
{
	if (*dir)
		remove_matching(dir, is_account, NULL);
}
