/*
 * bz2par: decompresses a .bz2 file on several threads (the one module that
 * uses libbz2). A bzip2 stream is a run of independent blocks, each
 * starting with a 48-bit magic at any bit offset; a scanner thread finds
 * them, wraps each block's bits as a stream of its own, and worker threads
 * decompress those at once; the reader gets the bytes back in order. Every
 * block's CRC is checked by libbz2. A magic that is really part of a
 * block's data (rare) shows up as a block that does not decode: it is then
 * decoded together with the next one. Concatenated streams (pbzip2,
 * lbzip2) work the same way.
 */
#ifndef MMDB_BZ2PAR_H
#define MMDB_BZ2PAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bz2par;

/*
 * 1 when the n bytes at head start a bzip2 stream this module can take
 * ("BZh1".."BZh9", then a block or end-of-stream magic); needs n >= 10.
 */
int bz2par_detect(const unsigned char *head, size_t n);

/*
 * Starts decompressing: head (n bytes, already read from fd, copied) and
 * then the rest of fd; name is for messages. threads >= 1 decoders. *out
 * owns it; free with bz2par_close() (which stops the threads). 0 or error().
 */
int bz2par_open(struct bz2par **out, int fd, const unsigned char *head, size_t n, const char *name,
		int threads);

/*
 * The next decompressed bytes: *buf points at them (valid until the next
 * call) and their count is returned; 0 at the end; -1 on error (printed).
 */
ssize_t bz2par_read(struct bz2par *p, const void **buf);

/* Compressed bytes read from the file so far (for progress). */
int64_t bz2par_consumed(struct bz2par *p);

void bz2par_close(struct bz2par *p);

/*
 * For tests: also cut every `bits` bits (0: never), as if a magic had been
 * found inside a block, so that the joining of wrongly cut segments runs.
 * Applies to readers opened afterwards.
 */
void bz2par_test_cuts(uint64_t bits);

#endif
