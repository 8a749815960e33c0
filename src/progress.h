/*
 * progress: a one-line progress bar on stderr with rate and ETA. Silent
 * when quiet or when stderr is not a terminal; at most ~10 redraws a second.
 */
#ifndef MMDB_PROGRESS_H
#define MMDB_PROGRESS_H

#include <stdint.h>

struct progress;

/* total = 0 when unknown (shows count and rate only). unit e.g. "records". */
struct progress *progress_start(const char *label, uint64_t total, const char *unit, int quiet);
void progress_update(struct progress *p, uint64_t done);
/* Extra text shown after the numbers (e.g. "loss 0.53"); copied. */
void progress_note(struct progress *p, const char *note);
/* Ends the line and frees p (NULL is fine). */
void progress_done(struct progress *p);

#endif
