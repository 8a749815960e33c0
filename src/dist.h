/*
 * dist: the process side of data-parallel runs (no libtorch here; the
 * collectives are mt_dist_* in src/torch/mt.h).
 *
 * A rank learns its place from the environment, the contract torchrun and
 * torch.distributed use: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
 * MASTER_PORT; under srun, SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID
 * stand in for the first three. `mmdb run --nproc N` starts N local ranks
 * itself with the same variables (dist_launch).
 */
#ifndef MMDB_DIST_H
#define MMDB_DIST_H

#define DIST_DEFAULT_PORT 29500
#define DIST_DEFAULT_TIMEOUT 300.0   /* seconds; MMDB_DIST_TIMEOUT overrides */

/* After a collective timed out, how long a rank waits to hear from the
 * others (to tell a rank that hangs from those that wait for it). */
static inline double dist_rollcall_wait(double timeout)
{
	return timeout < 30 ? timeout : 30;
}

struct dist_env {
	int rank, world_size, local_rank;
	char master_addr[256];
	int master_port;
	int listen_fd;             /* rank 0 under --nproc: the store's socket; else -1 */
	double timeout;            /* MMDB_DIST_TIMEOUT or DIST_DEFAULT_TIMEOUT */
	int agent_store;           /* torchrun's agent hosts the store (TORCHELASTIC_USE_AGENT_STORE) */
	const char *launcher;      /* "torchrun" (RANK...), "srun" (SLURM_*), "mmdb" (--nproc) */
};

/*
 * Reads the environment into e. Returns 0 (e->world_size 1 and nothing else
 * set when no launcher's variables are there), or -1 with an error naming
 * the variable that is malformed or missing.
 */
int dist_env_read(struct dist_env *e);

/*
 * mmdb run --nproc N: starts N copies of this mmdb as ranks 0..N-1 on this
 * host (`mmdb --db DB --cache CACHE [-q] run ARGS`, ARGS without --nproc)
 * with the environment above, MASTER_ADDR 127.0.0.1 and a free port that
 * rank 0's store takes over from this process. Waits for them; when one
 * ends badly the others get `grace` seconds to notice and end on their
 * own before SIGTERM. SIGINT and SIGTERM are passed on. Returns the exit
 * status for mmdb: 0 when every rank ended 0, else the first failure's.
 */
int dist_launch(int nproc, const char *db_path, const char *cache_dir, int quiet,
		int argc, char **argv, double grace);

/* One rank's process, as every rank learns it when the group forms. */
struct dist_peer {
	int pid;
	char host[64];
};

/*
 * 1 when peer is on this host and its process is gone (or a zombie),
 * else 0 (alive, or on another host: not knowable from here).
 */
int dist_peer_gone(const struct dist_peer *p);

/* This process as a dist_peer. */
void dist_peer_self(struct dist_peer *p);

#endif
