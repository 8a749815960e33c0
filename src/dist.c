/*
 * dist: where a rank stands (environment), starting local ranks
 * (--nproc), and telling whether a peer's process is gone. See dist.h.
 */
#include "dist.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int env_int(const char *name, int min, int max, int *out)
{
	const char *s = getenv(name);
	char what[64];
	snprintf(what, sizeof(what), "$%s", name);
	if (!s || !*s)
		return error("$%s is not set", name);
	return parse_int(s, min, max, what, out) ? -1 : 0;
}

int dist_env_read(struct dist_env *e)
{
	const char *s, *rank_var, *world_var, *local_var;
	double t;

	memset(e, 0, sizeof(*e));
	e->world_size = 1;
	e->listen_fd = -1;
	e->master_port = DIST_DEFAULT_PORT;
	e->timeout = DIST_DEFAULT_TIMEOUT;
	snprintf(e->master_addr, sizeof(e->master_addr), "127.0.0.1");
	if ((s = getenv("MMDB_DIST_TIMEOUT")) && *s) {
		if (parse_double(s, 1, 86400 * 7, "$MMDB_DIST_TIMEOUT", &t))
			return -1;
		e->timeout = t;
	}
	if (getenv("WORLD_SIZE") && *getenv("WORLD_SIZE")) {
		rank_var = "RANK";
		world_var = "WORLD_SIZE";
		local_var = "LOCAL_RANK";
		e->launcher = (s = getenv("MMDB_DIST_LAUNCHER")) && !strcmp(s, "mmdb") ? "mmdb" : "torchrun";
	} else if (getenv("SLURM_NTASKS") && getenv("SLURM_PROCID") && *getenv("SLURM_PROCID")) {
		rank_var = "SLURM_PROCID";
		world_var = "SLURM_NTASKS";
		local_var = "SLURM_LOCALID";
		e->launcher = "srun";
	} else {
		return 0;
	}
	if (env_int(world_var, 1, 1 << 20, &e->world_size) ||
	    env_int(rank_var, 0, e->world_size - 1, &e->rank))
		return -1;
	if (getenv(local_var) && *getenv(local_var)) {
		if (env_int(local_var, 0, 1 << 20, &e->local_rank))
			return -1;
	} else {
		e->local_rank = e->rank;
	}
	if (e->world_size == 1)
		return 0;
	if ((s = getenv("MASTER_ADDR")) && *s)
		snprintf(e->master_addr, sizeof(e->master_addr), "%s", s);
	else if (!strcmp(e->launcher, "srun"))
		return error("$MASTER_ADDR is not set: under srun, export the first node's name "
			     "(e.g. $(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -1))");
	if ((s = getenv("MASTER_PORT")) && *s && parse_int(s, 1, 65535, "$MASTER_PORT", &e->master_port))
		return -1;
	if ((s = getenv("TORCHELASTIC_USE_AGENT_STORE")) && !strcasecmp(s, "true"))
		e->agent_store = 1;
	if ((s = getenv("MMDB_DIST_LISTEN_FD")) && *s && e->rank == 0 &&
	    parse_int(s, 0, 1 << 20, "$MMDB_DIST_LISTEN_FD", &e->listen_fd))
		return -1;
	return 0;
}

void dist_peer_self(struct dist_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = (int)getpid();
	gethostname(p->host, sizeof(p->host) - 1);
}

/* A process's state letter from /proc/PID/stat ('R', 'S', 'T', 'Z'...),
 * 'X' when it has no entry there, 0 when it cannot be read. */
static char proc_state(int pid)
{
	char path[64], buf[512], *rp;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return errno == ENOENT ? 'X' : 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

int dist_peer_gone(const struct dist_peer *p)
{
	struct dist_peer me;
	char st;

	dist_peer_self(&me);
	if (strcmp(me.host, p->host) || p->pid <= 0)
		return 0;
	if (kill((pid_t)p->pid, 0) && errno == ESRCH)
		return 1;
	/* a killed child its parent has not reaped yet: state Z in /proc */
	st = proc_state(p->pid);
	return st == 'Z' || st == 'X';
}

/* ---- mmdb run --nproc ---- */

static volatile sig_atomic_t launch_signal;

static void on_launch_signal(int sig)
{
	launch_signal = sig;
}

/* A TCP socket on 127.0.0.1, a port the kernel picks, listening. */
static int listen_socket(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return error("cannot create a socket for the store: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		error("cannot listen on 127.0.0.1 for the store: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void set_env_int(const char *name, int v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", v);
	setenv(name, buf, 1);
}

static pid_t spawn_rank(int rank, int nproc, int port, int fd, char **args)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	set_env_int("RANK", rank);
	set_env_int("LOCAL_RANK", rank);
	set_env_int("WORLD_SIZE", nproc);
	set_env_int("LOCAL_WORLD_SIZE", nproc);
	set_env_int("MASTER_PORT", port);
	setenv("MASTER_ADDR", "127.0.0.1", 1);
	setenv("MMDB_DIST_LAUNCHER", "mmdb", 1);
	setenv("MMDB_DIST_HOST", "127.0.0.1", 0);
	if (rank == 0) {
		/* the store takes over the socket: keep it open across exec */
		fcntl(fd, F_SETFD, 0);
		set_env_int("MMDB_DIST_LISTEN_FD", fd);
	} else {
		unsetenv("MMDB_DIST_LISTEN_FD");
	}
	execv("/proc/self/exe", args);
	fprintf(stderr, "error: rank %d: cannot run /proc/self/exe: %s\n", rank, strerror(errno));
	_exit(127);
}

static void describe_exit(int rank, pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		fprintf(stderr, "mmdb: rank %d (pid %d) was killed by signal %d (%s)\n", rank, (int)pid,
			WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 130) /* mmdb run's own, after a signal */
		fprintf(stderr, "mmdb: rank %d (pid %d) was interrupted (status 130)\n", rank, (int)pid);
	else if (WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "mmdb: rank %d (pid %d) exited with status %d\n", rank, (int)pid,
			WEXITSTATUS(st));
}

/* 1 when every rank still running is stopped. */
static int all_stopped(const pid_t *pids, int nproc)
{
	int i, n = 0;
	for (i = 0; i < nproc; i++) {
		if (pids[i] <= 0)
			continue;
		if (proc_state(pids[i]) != 'T')
			return 0;
		n++;
	}
	return n > 0;
}

int dist_launch(int nproc, const char *db_path, const char *cache_dir, int quiet,
		int argc, char **argv, double grace)
{
	struct sigaction sa, old_int, old_term;
	pid_t *pids = xcalloc((size_t)nproc, sizeof(pid_t));
	char **args = xcalloc((size_t)argc + 8, sizeof(char *));
	int fd, port = 0, i, k = 0, alive = 0, ret = 0, first_bad = -1;
	double bad_at = 0;
	int sent_term = 0, sent_kill = 0;

	if ((fd = listen_socket(&port)) < 0) {
		free(pids);
		free(args);
		return 1;
	}
	args[k++] = "mmdb";
	args[k++] = "--db";
	args[k++] = (char *)db_path;
	args[k++] = "--cache";
	args[k++] = (char *)cache_dir;
	if (quiet)
		args[k++] = "-q";
	for (i = 0; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_launch_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	launch_signal = 0;
	fflush(NULL);
	for (i = 0; i < nproc; i++) {
		pids[i] = spawn_rank(i, nproc, port, fd, args);
		if (pids[i] < 0) {
			error("cannot start rank %d: %s", i, strerror(errno));
			ret = 1;
			break;
		}
		alive++;
	}
	close(fd);
	if (ret && alive)
		for (i = 0; i < nproc; i++)
			if (pids[i] > 0)
				kill(pids[i], SIGTERM);
	while (alive > 0) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p > 0) {
			for (i = 0; i < nproc && pids[i] != p; i++)
				;
			if (i == nproc)
				continue;
			pids[i] = 0;
			alive--;
			if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
				describe_exit(i, p, st);
				if (first_bad < 0) {
					first_bad = i;
					bad_at = now_seconds();
					ret = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				}
			}
			continue;
		}
		if (p < 0 && errno != EINTR && errno != ECHILD)
			break;
		if (launch_signal) {
			for (i = 0; i < nproc; i++)
				if (pids[i] > 0)
					kill(pids[i], launch_signal);
			launch_signal = 0;
		}
		/* A rank ended badly: the others should fail on their own (their
		 * collectives break); past the grace period, or at once when every
		 * one left is stopped (SIGSTOP: it cannot end by itself), they are
		 * stopped. */
		if (first_bad >= 0 && !sent_term &&
		    (now_seconds() - bad_at > grace || all_stopped(pids, nproc))) {
			fprintf(stderr, "mmdb: stopping the other ranks (rank %d ended %.0f s ago)\n",
				first_bad, now_seconds() - bad_at);
			for (i = 0; i < nproc; i++)
				if (pids[i] > 0) {
					kill(pids[i], SIGTERM);
					kill(pids[i], SIGCONT); /* a stopped rank too */
				}
			sent_term = 1;
		}
		if (sent_term && !sent_kill && now_seconds() - bad_at > grace + 30) {
			for (i = 0; i < nproc; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			sent_kill = 1;
		}
		{
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(pids);
	free(args);
	return ret;
}
