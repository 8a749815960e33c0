/*
 * progress: a progress bar with rate and ETA on a TTY. See progress.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct progress {
	char *label;
	const char *unit;
	uint64_t total, done;
	double start, last_draw;
	int active;
	char note[128];
};

struct progress *progress_start(const char *label, uint64_t total, const char *unit, int quiet)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	p->label = xstrdup(label);
	p->unit = unit ? unit : "";
	p->total = total;
	p->start = now_seconds();
	p->active = !quiet && isatty(STDERR_FILENO);
	return p;
}

static void fmt_eta(double s, char *buf, size_t n)
{
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else
		snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

static void draw(struct progress *p, int final)
{
	double el = now_seconds() - p->start;
	double rate = el > 0 ? p->done / el : 0;
	char eta[32] = "";
	if (p->total) {
		int w = 24, fill = (int)(w * (double)p->done / (double)p->total), i;
		if (fill > w)
			fill = w;
		if (!final && rate > 0 && p->done < p->total)
			fmt_eta((p->total - p->done) / rate, eta, sizeof(eta));
		fprintf(stderr, "\r\033[K%s [", p->label);
		for (i = 0; i < w; i++)
			fputc(i < fill ? '#' : '.', stderr);
		fprintf(stderr, "] %llu/%llu %s, %.0f/s%s%s%s%s", (unsigned long long)p->done,
			(unsigned long long)p->total, p->unit, rate, *eta ? ", ETA " : "", eta,
			*p->note ? "  " : "", p->note);
	} else {
		fprintf(stderr, "\r\033[K%s %llu %s, %.0f/s%s%s", p->label,
			(unsigned long long)p->done, p->unit, rate, *p->note ? "  " : "", p->note);
	}
	fflush(stderr);
}

void progress_update(struct progress *p, uint64_t done)
{
	double t;
	if (!p)
		return;
	p->done = done;
	if (!p->active)
		return;
	t = now_seconds();
	if (t - p->last_draw < 0.1)
		return;
	p->last_draw = t;
	draw(p, 0);
}

void progress_note(struct progress *p, const char *note)
{
	if (!p)
		return;
	snprintf(p->note, sizeof(p->note), "%s", note);
}

void progress_done(struct progress *p)
{
	if (!p)
		return;
	if (p->active) {
		draw(p, 1);
		fputc('\n', stderr);
	}
	free(p->label);
	free(p);
}
