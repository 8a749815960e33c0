/*
 * fuzz.h: what the fuzz targets share. Each tests/fuzz/fuzz_<name>.c
 * defines LLVMFuzzerTestOneInput (and may define LLVMFuzzerInitialize); it
 * is linked either with libFuzzer (clang, make fuzz) or with replay.c (the
 * regression replay in make test). A broken invariant aborts through
 * FUZZ_CHECK, so both builds report it as a crash.
 */
#ifndef MMDB_FUZZ_H
#define MMDB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

#endif
