/* model_fetch.h: `mmdb model fetch`, which lives in model_fetch.c. */
#ifndef MMDB_CMD_MODEL_FETCH_H
#define MMDB_CMD_MODEL_FETCH_H

#include "../mmdb.h"

#include <stdio.h>

/* `mmdb model fetch ...` with argv[0] = "fetch"; returns the exit status (0, 1 or 2). */
int model_fetch(int argc, char **argv, struct mmdb_ctx *ctx);

/* The usage lines of `model fetch`, for `mmdb model -h`. */
void model_fetch_usage(FILE *f);

#endif
