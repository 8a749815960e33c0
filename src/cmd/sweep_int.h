/* sweep_int.h: what src/cmd/sweep.c and sweep_create.c share. */
#ifndef MMDB_SWEEP_INT_H
#define MMDB_SWEEP_INT_H

struct mmdb_ctx;

/* mmdb sweep create (argv[0] is "create"); returns the exit status. */
int sweep_create(int argc, char **argv, struct mmdb_ctx *ctx);

#endif
