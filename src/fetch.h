/*
 * fetch: the one module that uses libcurl. Two ways in:
 *
 *  - a fetcher: many HTTP(S) transfers at once on one libcurl multi handle
 *    and one event loop, with a global and a per-host concurrency limit,
 *    timeouts (connect, total, stalled transfers), a size limit, at most a
 *    few redirects, http and https only (also through redirects). Callers
 *    queue requests (optionally "not before" a time, for backoff) and call
 *    fetch_poll() in a loop; bodies arrive through a data callback and each
 *    request ends in one done callback with a classified result.
 *  - fetch_file(): one synchronous download to a file with resume and an
 *    optional sha256 check (model weights).
 *
 * The fetcher never retries by itself: the caller decides from the result
 * (fetch_result.retryable, retry_after) and queues the request again.
 */
#ifndef MMDB_FETCH_H
#define MMDB_FETCH_H

#include <stddef.h>
#include <stdint.h>

struct fetch_opts {
	int jobs;               /* transfers at once (>= 1) */
	int per_host;           /* transfers at once per host name (>= 1) */
	double connect_timeout; /* seconds */
	double timeout;         /* seconds for a whole transfer, 0 = none */
	long low_speed_bytes;   /* abort when slower than this many bytes/s ... */
	double low_speed_time;  /* ... for this many seconds (0 = never) */
	int64_t max_bytes;      /* abort bodies larger than this (0 = no limit) */
	int max_redirects;      /* redirects followed at most */
	const char *user_agent; /* NULL: fetch_user_agent() */
};
/* Defaults: 64 jobs, 16 per host, 10 s connect, 60 s total, 1 KB/s over 15 s, 32 MiB, 5 redirects. */
void fetch_opts_init(struct fetch_opts *o);

/* How a request ended. */
enum fetch_outcome {
	FETCH_OK = 0,       /* a 2xx response, body delivered whole */
	FETCH_HTTP,         /* a non-2xx final response (http_status) */
	FETCH_TIMEOUT,      /* connect or total timeout, or a stalled transfer */
	FETCH_TOO_LARGE,    /* Content-Length or received bytes over max_bytes */
	FETCH_REFUSED,      /* a URL or redirect we will not follow: scheme, too many redirects */
	FETCH_NETWORK,      /* DNS, connection, TLS, truncated transfer, ... */
	FETCH_ABORTED,      /* the data callback failed, or fetch_cancel_all() */
};

struct fetch_result {
	int outcome;            /* enum fetch_outcome */
	int retryable;          /* 1: timeouts, 5xx, 429, transient network errors */
	long http_status;       /* 0 if no response */
	double retry_after;     /* seconds from Retry-After, -1 if absent */
	uint64_t bytes;         /* body bytes received */
	const char *reason;     /* short, static, groupable ("HTTP 404", "stalled transfer") */
	const char *detail;     /* libcurl's message for this transfer ("" if none) */
	const char *content_type; /* NULL if none */
};

/*
 * Callbacks: data gets body bytes in order (return 0, or -1 to abort the
 * transfer); done is called once per request, after its last data call.
 * Strings in the result are valid during the call only.
 */
typedef int (*fetch_data_fn)(void *tag, const void *buf, size_t n);
typedef void (*fetch_done_fn)(void *tag, const struct fetch_result *r);

struct fetcher;

/* Creates a fetcher; *out owns it; free with fetch_free() (aborting what is left). */
int fetch_new(struct fetcher **out, const struct fetch_opts *o, fetch_data_fn data,
	      fetch_done_fn done);
void fetch_free(struct fetcher *f);

/*
 * Queues a GET of url (copied), to start no earlier than not_before
 * (now_seconds() clock; 0 = now). A URL without a host still gets a done
 * callback (from fetch_poll) with the error.
 */
void fetch_add(struct fetcher *f, const char *url, double not_before, void *tag);

/*
 * Starts what the limits allow, waits up to timeout seconds for activity,
 * moves transfers along and delivers callbacks. 0 or error().
 */
int fetch_poll(struct fetcher *f, double timeout);

/* Wakes a fetch_poll() waiting in another thread. */
void fetch_wakeup(struct fetcher *f);

/* Requests running and waiting (queued, delayed). */
int fetch_active(const struct fetcher *f);
int fetch_waiting(const struct fetcher *f);
/*
 * 1 when the fetcher has free transfer slots that nothing queued can use
 * now: the caller should queue more requests (bounded internally).
 */
int fetch_wants_more(const struct fetcher *f);

/* Aborts every running and waiting request; each gets done with FETCH_ABORTED. */
void fetch_cancel_all(struct fetcher *f);

/* "mmdb/<version> (+dataset image fetcher)" */
const char *fetch_user_agent(void);
/* "libcurl 7.88.1 OpenSSL/3.0.x ..." for mmdb env. */
const char *fetch_lib_version(void);

/*
 * Downloads url to dest synchronously: bytes go to dest.part (resumed with
 * a Range request if it exists and the server allows it), are checked
 * against expected_sha256 (lower-case hex; NULL = no check) and renamed to
 * dest. o gives timeouts, max_bytes and redirects (jobs unused; NULL =
 * defaults). Prints progress unless quiet. 0 or error(); on a hash mismatch,
 * a body larger than o->max_bytes, or a failure before any byte arrived,
 * dest.part is removed.
 */
int fetch_file(const char *url, const char *dest, const char *expected_sha256,
	       const struct fetch_opts *o, int quiet);

#endif
