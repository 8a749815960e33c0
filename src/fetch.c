/*
 * fetch: many transfers on one libcurl multi handle, scheduled under a
 * global and a per-host limit; and a synchronous resumable download. See
 * fetch.h. The only file that includes curl headers.
 */
#define _POSIX_C_SOURCE 200809L
#include "fetch.h"
#include "progress.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#define HOST_BUCKETS 1024
/* Requests queued per transfer slot at most before fetch_wants_more() says no. */
#define QUEUE_PER_JOB 16

struct host;

struct req {
	struct fetcher *f;
	char *url;
	void *tag;
	double not_before;
	struct host *host;
	CURL *easy;
	uint64_t bytes;
	long status;        /* response code seen by the write callback, 0 = not yet */
	int too_large;
	int cb_failed;
	int cancelled;
	const char *bad;    /* set when the URL is refused before starting */
	struct req *next;
	struct req *run_prev, *run_next; /* running list */
	char errbuf[CURL_ERROR_SIZE];
	char reason[32];
};

struct host {
	char *name;
	int active;
	int in_ready;
	struct req *head, *tail;    /* waiting requests, FIFO */
	struct host *hash_next, *ready_next;
};

struct fetcher {
	struct fetch_opts o;
	fetch_data_fn data;
	fetch_done_fn done;
	CURLM *multi;
	struct host *hosts[HOST_BUCKETS];
	struct host *ready_head, *ready_tail; /* hosts with waiting requests and room */
	struct req *delayed;                 /* not yet due (unordered) */
	struct req *bad;                     /* refused before starting */
	struct req *running;                 /* started, not finished */
	CURL **spare;                        /* easy handles kept for reuse */
	size_t nspare, spare_alloc;
	int active, waiting, ndelayed;
};

static int curl_ready;

static void global_init(void)
{
	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = 1;
	}
}

void fetch_opts_init(struct fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->jobs = 64;
	o->per_host = 16;
	o->connect_timeout = 10;
	o->timeout = 60;
	o->low_speed_bytes = 1024;
	o->low_speed_time = 15;
	o->max_bytes = 32 << 20;
	o->max_redirects = 5;
}

const char *fetch_user_agent(void)
{
	return "mmdb/" MMDB_VERSION " (+dataset image fetcher)";
}

const char *fetch_lib_version(void)
{
	static char buf[160];
	const curl_version_info_data *v;
	global_init();
	v = curl_version_info(CURLVERSION_NOW);
	snprintf(buf, sizeof(buf), "%s%s%s", v->version, v->ssl_version ? " " : "",
		 v->ssl_version ? v->ssl_version : "");
	return buf;
}

/* Options shared by both ways in. */
static void set_common(CURL *e, const struct fetch_opts *o, char *errbuf)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : fetch_user_agent());
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)o->max_redirects);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout * 1000));
	if (o->timeout > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	if (o->low_speed_time > 0 && o->low_speed_bytes > 0) {
		/* libcurl counts whole seconds; never below one. */
		long t = (long)(o->low_speed_time + 0.5);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, t < 1 ? 1L : t);
	}
	if (o->max_bytes > 0)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
}

/* ---- the fetcher ------------------------------------------------------ */

int fetch_new(struct fetcher **out, const struct fetch_opts *o, fetch_data_fn data,
	      fetch_done_fn done)
{
	struct fetcher *f;

	if (o->jobs < 1 || o->per_host < 1)
		return error("fetch: jobs and per-host limits must be at least 1");
	global_init();
	f = xcalloc(1, sizeof(*f));
	f->o = *o;
	f->data = data;
	f->done = done;
	f->multi = curl_multi_init();
	if (!f->multi) {
		free(f);
		return error("cannot create a libcurl multi handle");
	}
	curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)o->jobs * 2);
	curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->per_host);
	*out = f;
	return 0;
}

static struct host *host_get(struct fetcher *f, const char *name)
{
	unsigned h = 5381;
	const char *p;
	struct host *x;

	for (p = name; *p; p++)
		h = h * 33 + (unsigned char)tolower((unsigned char)*p);
	for (x = f->hosts[h % HOST_BUCKETS]; x; x = x->hash_next)
		if (!strcasecmp(x->name, name))
			return x;
	x = xcalloc(1, sizeof(*x));
	x->name = xstrdup(name);
	x->hash_next = f->hosts[h % HOST_BUCKETS];
	f->hosts[h % HOST_BUCKETS] = x;
	return x;
}

static void ready_push(struct fetcher *f, struct host *h)
{
	if (h->in_ready || !h->head || h->active >= f->o.per_host)
		return;
	h->in_ready = 1;
	h->ready_next = NULL;
	if (f->ready_tail)
		f->ready_tail->ready_next = h;
	else
		f->ready_head = h;
	f->ready_tail = h;
}

static struct host *ready_pop(struct fetcher *f)
{
	struct host *h = f->ready_head;
	if (!h)
		return NULL;
	f->ready_head = h->ready_next;
	if (!f->ready_head)
		f->ready_tail = NULL;
	h->in_ready = 0;
	return h;
}

static void host_enqueue(struct fetcher *f, struct req *r)
{
	struct host *h = r->host;
	r->next = NULL;
	if (h->tail)
		h->tail->next = r;
	else
		h->head = r;
	h->tail = r;
	f->waiting++;
	ready_push(f, h);
}

/* Host of an http(s) URL, or NULL with *why set. */
static char *url_host(const char *url, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *ret = NULL;

	if (curl_url_set(u, CURLUPART_URL, url, 0)) {
		*why = "malformed URL";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
		*why = "disallowed scheme (http and https only)";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host) {
		*why = "malformed URL";
		goto out;
	}
	ret = xstrdup(host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

void fetch_add(struct fetcher *f, const char *url, double not_before, void *tag)
{
	struct req *r = xcalloc(1, sizeof(*r));
	const char *why = NULL;
	char *host;

	r->f = f;
	r->url = xstrdup(url);
	r->tag = tag;
	r->not_before = not_before;
	host = url_host(url, &why);
	if (!host) {
		r->bad = why;
		r->next = f->bad;
		f->bad = r;
		f->waiting++;
		return;
	}
	r->host = host_get(f, host);
	free(host);
	if (not_before > now_seconds()) {
		r->next = f->delayed;
		f->delayed = r;
		f->ndelayed++;
		f->waiting++;
		return;
	}
	host_enqueue(f, r);
}


/* Body bytes: counted, held to max_bytes, handed to the caller. Error pages are dropped. */
static size_t write_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct req *r = ud;
	struct fetcher *f = r->f;
	size_t n = sz * nm;

	if (!r->status)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status / 100 != 2)
		return n;
	if (r->cancelled)
		return 0;
	if (f->o.max_bytes > 0 && r->bytes + n > (uint64_t)f->o.max_bytes) {
		r->too_large = 1;
		return 0;
	}
	r->bytes += n;
	if (f->data(r->tag, p, n)) {
		r->cb_failed = 1;
		return 0;
	}
	return n;
}

static CURL *easy_get(struct fetcher *f)
{
	if (f->nspare)
		return f->spare[--f->nspare];
	return curl_easy_init();
}

static void easy_put(struct fetcher *f, CURL *e)
{
	curl_easy_reset(e);
	ALLOC_GROW(f->spare, f->nspare + 1, f->spare_alloc);
	f->spare[f->nspare++] = e;
}

static int start(struct fetcher *f, struct req *r)
{
	CURL *e = easy_get(f);
	if (!e)
		return error("cannot create a libcurl handle");
	r->easy = e;
	set_common(e, &f->o, r->errbuf);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		easy_put(f, e);
		r->easy = NULL;
		return error("cannot add a transfer for '%s'", r->url);
	}
	r->host->active++;
	f->active++;
	r->run_prev = NULL;
	r->run_next = f->running;
	if (f->running)
		f->running->run_prev = r;
	f->running = r;
	return 0;
}

static void req_free(struct req *r)
{
	free(r->url);
	free(r);
}

/* Classifies a finished transfer into r's result. */
static void classify(struct req *r, CURLcode code, struct fetch_result *res)
{
	long redirects = 0;
	curl_off_t ra = -1;
	char *ct = NULL;

	memset(res, 0, sizeof(*res));
	res->retry_after = -1;
	res->bytes = r->bytes;
	res->detail = r->errbuf[0] ? r->errbuf : (code ? curl_easy_strerror(code) : "");
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res->http_status);
	curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_COUNT, &redirects);
	if (!curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct))
		res->content_type = ct;
	if (!curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) && ra > 0)
		res->retry_after = (double)ra;

	if (r->cancelled) {
		res->outcome = FETCH_ABORTED;
		res->reason = "cancelled";
		return;
	}
	if (r->too_large || code == CURLE_FILESIZE_EXCEEDED) {
		res->outcome = FETCH_TOO_LARGE;
		res->reason = "body over the size limit";
		return;
	}
	if (r->cb_failed) {
		res->outcome = FETCH_ABORTED;
		res->reason = "could not store the body";
		return;
	}
	switch (code) {
	case CURLE_OK:
		if (res->http_status / 100 == 2) {
			res->outcome = FETCH_OK;
			res->reason = "ok";
			return;
		}
		res->outcome = FETCH_HTTP;
		snprintf(r->reason, sizeof(r->reason), "HTTP %ld", res->http_status);
		res->reason = r->reason;
		res->retryable = res->http_status >= 500 || res->http_status == 429 ||
				 res->http_status == 408;
		return;
	case CURLE_OPERATION_TIMEDOUT:
		res->outcome = FETCH_TIMEOUT;
		res->retryable = 1;
		if (strstr(r->errbuf, "too slow"))
			res->reason = "stalled transfer";
		else if (strstr(r->errbuf, "onnection time") || strstr(r->errbuf, "onnect"))
			res->reason = "connect timeout";
		else
			res->reason = "transfer timeout";
		return;
	case CURLE_TOO_MANY_REDIRECTS:
		res->outcome = FETCH_REFUSED;
		res->reason = "too many redirects";
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
		res->outcome = FETCH_REFUSED;
		res->reason = redirects > 0 ? "redirect to a disallowed scheme"
					    : "disallowed scheme (http and https only)";
		return;
	case CURLE_URL_MALFORMAT:
		res->outcome = FETCH_REFUSED;
		res->reason = "malformed URL";
		return;
	case CURLE_PARTIAL_FILE:
		res->outcome = FETCH_NETWORK;
		res->retryable = 1;
		res->reason = "truncated transfer";
		return;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		res->outcome = FETCH_NETWORK;
		res->retryable = 1;
		res->reason = "connection dropped";
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		res->outcome = FETCH_NETWORK;
		res->reason = "could not resolve host";
		return;
	case CURLE_COULDNT_CONNECT:
		res->outcome = FETCH_NETWORK;
		res->reason = "could not connect";
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
		res->outcome = FETCH_NETWORK;
		res->reason = "TLS error";
		return;
	default:
		res->outcome = FETCH_NETWORK;
		res->reason = curl_easy_strerror(code);
		return;
	}
}

static void finish(struct fetcher *f, struct req *r, CURLcode code)
{
	struct fetch_result res;
	classify(r, code, &res);
	curl_multi_remove_handle(f->multi, r->easy);
	if (r->run_prev)
		r->run_prev->run_next = r->run_next;
	else
		f->running = r->run_next;
	if (r->run_next)
		r->run_next->run_prev = r->run_prev;
	r->host->active--;
	f->active--;
	ready_push(f, r->host);
	f->done(r->tag, &res); /* before the reset: res points into the handle */
	easy_put(f, r->easy);
	req_free(r);
}

static void deliver_refused(struct fetcher *f, struct req *r, int outcome, const char *reason)
{
	struct fetch_result res;
	memset(&res, 0, sizeof(res));
	res.outcome = outcome;
	res.retry_after = -1;
	res.reason = reason;
	res.detail = reason;
	f->waiting--;
	f->done(r->tag, &res);
	req_free(r);
}

/* Starts requests while the limits allow, round-robin over ready hosts. */
static void start_ready(struct fetcher *f)
{
	while (f->active < f->o.jobs) {
		struct host *h = ready_pop(f);
		struct req *r;
		if (!h)
			break;
		r = h->head;
		h->head = r->next;
		if (!h->head)
			h->tail = NULL;
		f->waiting--;
		if (start(f, r)) {
			struct fetch_result res;
			memset(&res, 0, sizeof(res));
			res.outcome = FETCH_NETWORK;
			res.retryable = 1;
			res.retry_after = -1;
			res.reason = res.detail = "could not start the transfer";
			f->done(r->tag, &res);
			req_free(r);
		}
		ready_push(f, h);
	}
}

/* Moves due delayed requests to their hosts; returns seconds to the next due one (or -1). */
static double release_delayed(struct fetcher *f)
{
	double now = now_seconds(), next = -1;
	struct req **pp = &f->delayed;

	while (*pp) {
		struct req *r = *pp;
		if (r->not_before <= now) {
			*pp = r->next;
			f->ndelayed--;
			f->waiting--;
			host_enqueue(f, r);
			continue;
		}
		if (next < 0 || r->not_before - now < next)
			next = r->not_before - now;
		pp = &r->next;
	}
	return next;
}

int fetch_poll(struct fetcher *f, double timeout)
{
	double next;
	int running, ms, left;
	CURLMsg *m;
	CURLMcode mc;

	while (f->bad) {
		struct req *r = f->bad;
		f->bad = r->next;
		deliver_refused(f, r, FETCH_REFUSED, r->bad);
	}
	next = release_delayed(f);
	start_ready(f);
	if (next >= 0 && next < timeout)
		timeout = next;
	ms = (int)(timeout * 1000);
	mc = curl_multi_poll(f->multi, NULL, 0, ms < 0 ? 0 : ms, NULL);
	if (mc != CURLM_OK)
		return error("libcurl: %s", curl_multi_strerror(mc));
	mc = curl_multi_perform(f->multi, &running);
	if (mc != CURLM_OK)
		return error("libcurl: %s", curl_multi_strerror(mc));
	while ((m = curl_multi_info_read(f->multi, &left))) {
		struct req *r = NULL;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		finish(f, r, m->data.result);
	}
	release_delayed(f);
	start_ready(f);
	return 0;
}

void fetch_wakeup(struct fetcher *f)
{
	curl_multi_wakeup(f->multi);
}

int fetch_active(const struct fetcher *f)
{
	return f->active;
}

int fetch_waiting(const struct fetcher *f)
{
	return f->waiting;
}

int fetch_wants_more(const struct fetcher *f)
{
	return f->active < f->o.jobs && !f->ready_head && !f->bad &&
	       f->waiting < f->o.jobs * QUEUE_PER_JOB;
}

void fetch_cancel_all(struct fetcher *f)
{
	size_t i;
	struct req *r;

	/* Waiting requests: refused without starting. */
	for (i = 0; i < HOST_BUCKETS; i++) {
		struct host *h;
		for (h = f->hosts[i]; h; h = h->hash_next) {
			while ((r = h->head)) {
				h->head = r->next;
				deliver_refused(f, r, FETCH_ABORTED, "cancelled");
			}
			h->tail = NULL;
			h->in_ready = 0;
		}
	}
	f->ready_head = f->ready_tail = NULL;
	while ((r = f->delayed)) {
		f->delayed = r->next;
		f->ndelayed--;
		deliver_refused(f, r, FETCH_ABORTED, "cancelled");
	}
	while ((r = f->bad)) {
		f->bad = r->next;
		deliver_refused(f, r, FETCH_ABORTED, "cancelled");
	}
	/* Running transfers. */
	while ((r = f->running)) {
		r->cancelled = 1;
		finish(f, r, CURLE_ABORTED_BY_CALLBACK);
	}
}

void fetch_free(struct fetcher *f)
{
	size_t i;
	if (!f)
		return;
	fetch_cancel_all(f);
	for (i = 0; i < HOST_BUCKETS; i++) {
		struct host *h = f->hosts[i];
		while (h) {
			struct host *next = h->hash_next;
			free(h->name);
			free(h);
			h = next;
		}
	}
	for (i = 0; i < f->nspare; i++)
		curl_easy_cleanup(f->spare[i]);
	free(f->spare);
	curl_multi_cleanup(f->multi);
	free(f);
}

/* ---- one resumable download ------------------------------------------ */

struct file_dl {
	int fd;
	int64_t offset;     /* bytes already in the .part file when the request was made */
	int64_t max_bytes;
	int64_t got;
	long status;
	int restarted, too_large, io_error;
	CURL *easy;
	struct progress *prog;
};

static size_t file_write_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct file_dl *d = ud;
	size_t n = sz * nm, left = n;

	if (!d->status)
		curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &d->status);
	if (d->status / 100 != 2)
		return n;
	if (d->status == 200 && d->offset > 0 && !d->restarted) {
		/* The server ignored the Range request: start over. */
		if (ftruncate(d->fd, 0) || lseek(d->fd, 0, SEEK_SET) < 0) {
			d->io_error = errno;
			return 0;
		}
		d->offset = 0;
		d->restarted = 1;
	}
	if (d->max_bytes > 0 && d->offset + d->got + (int64_t)n > d->max_bytes) {
		d->too_large = 1;
		return 0;
	}
	while (left) {
		ssize_t w = write(d->fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			d->io_error = errno;
			return 0;
		}
		p += w;
		left -= (size_t)w;
	}
	d->got += (int64_t)n;
	return n;
}

static int file_progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			    curl_off_t ulnow)
{
	struct file_dl *d = ud;
	progress_update(d->prog, (uint64_t)(d->offset + dlnow));
	return 0;
}

int fetch_file(const char *url, const char *dest, const char *expected_sha256,
	       const struct fetch_opts *o, int quiet)
{
	struct fetch_opts dflt;
	struct file_dl d = { .fd = -1 };
	struct strbuf part = STRBUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "", hex[65];
	struct stat st;
	curl_off_t len = -1;
	CURLcode code;
	int ret = 0;

	if (!o) {
		fetch_opts_init(&dflt);
		dflt.timeout = 0; /* large files: rely on the stall limit */
		dflt.max_bytes = 0;
		o = &dflt;
	}
	global_init();
	sb_addf(&part, "%s.part", dest);
	d.fd = open(part.buf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (d.fd < 0) {
		ret = error("cannot open '%s': %s", part.buf, strerror(errno));
		goto out;
	}
	if (!fstat(d.fd, &st))
		d.offset = st.st_size;
	d.max_bytes = o->max_bytes;
	d.easy = curl_easy_init();
	if (!d.easy) {
		ret = error("cannot create a libcurl handle");
		goto out;
	}
	set_common(d.easy, o, errbuf);
	curl_easy_setopt(d.easy, CURLOPT_URL, url);
	curl_easy_setopt(d.easy, CURLOPT_WRITEFUNCTION, file_write_cb);
	curl_easy_setopt(d.easy, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(d.easy, CURLOPT_FAILONERROR, 0L);
	if (d.offset > 0)
		curl_easy_setopt(d.easy, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d.offset);
	d.prog = progress_start(dest, 0, "bytes", quiet);
	curl_easy_setopt(d.easy, CURLOPT_XFERINFOFUNCTION, file_progress_cb);
	curl_easy_setopt(d.easy, CURLOPT_XFERINFODATA, &d);
	curl_easy_setopt(d.easy, CURLOPT_NOPROGRESS, 0L);
	code = curl_easy_perform(d.easy);
	if (code == CURLE_RANGE_ERROR && d.offset > 0 && !d.restarted) {
		/* The server cannot resume: start over from the first byte. */
		if (ftruncate(d.fd, 0)) {
			ret = error("cannot truncate '%s': %s", part.buf, strerror(errno));
			goto out;
		}
		d.offset = 0;
		d.got = 0;
		d.status = 0;
		d.restarted = 1;
		curl_easy_setopt(d.easy, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)0);
		code = curl_easy_perform(d.easy);
	}
	progress_done(d.prog);
	curl_easy_getinfo(d.easy, CURLINFO_RESPONSE_CODE, &d.status);
	if (d.too_large) {
		unlink(part.buf); /* not the file wanted: nothing to resume */
		ret = error("'%s' is larger than %lld bytes (removed)", url, (long long)o->max_bytes);
		goto out;
	}
	if (d.io_error) {
		ret = error("cannot write '%s': %s", part.buf, strerror(d.io_error));
		goto out;
	}
	/* 416: the range starts at the end, so the file is already whole. */
	if (!(d.status == 416 && d.offset > 0)) {
		if (code != CURLE_OK && d.offset + d.got > 0) {
			ret = error("cannot fetch '%s': %s (%lld bytes kept in '%s' for resuming)", url,
				    errbuf[0] ? errbuf : curl_easy_strerror(code),
				    (long long)(d.offset + d.got), part.buf);
			goto out;
		}
		if (code != CURLE_OK) {
			ret = error("cannot fetch '%s': %s", url, errbuf[0] ? errbuf : curl_easy_strerror(code));
			goto out;
		}
		if (d.status / 100 != 2) {
			ret = error("cannot fetch '%s': HTTP %ld", url, d.status);
			goto out;
		}
		if (!curl_easy_getinfo(d.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len) &&
		    len >= 0 && d.got != len) {
			ret = error("cannot fetch '%s': got %lld of %lld bytes", url, (long long)d.got,
				    (long long)len);
			goto out;
		}
	}
	if (fsync(d.fd)) {
		ret = error("cannot fsync '%s': %s", part.buf, strerror(errno));
		goto out;
	}
	close(d.fd);
	d.fd = -1;
	if (expected_sha256) {
		if (sha256_file(part.buf, hex, NULL)) {
			ret = -1;
			goto out;
		}
		if (strcasecmp(hex, expected_sha256)) {
			unlink(part.buf);
			ret = error("'%s' has sha256 %s, expected %s (removed)", url, hex, expected_sha256);
			goto out;
		}
	}
	if (rename(part.buf, dest)) {
		ret = error("cannot rename '%s' to '%s': %s", part.buf, dest, strerror(errno));
		goto out;
	}
out:
	if (d.fd >= 0)
		close(d.fd);
	if (ret && !stat(part.buf, &st) && st.st_size == 0)
		unlink(part.buf); /* nothing to resume from */
	if (d.easy)
		curl_easy_cleanup(d.easy);
	sb_release(&part);
	return ret;
}
