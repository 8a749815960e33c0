/*
 * mmdb tui: the terminal dashboard. Opens the database read-only (a
 * deletion the user confirms opens its own write connection), checks that
 * it is an mmdb database, and hands over to ui/.
 */
#include "cmds.h"
#include "../db.h"
#include "../util.h"
#include "../../ui/tui.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Seconds since this process was executed (from /proc, 10 ms resolution),
 * so --timing can also report what library start-up costs; -1 if unknown.
 */
static double process_age(void)
{
	FILE *f;
	char buf[1024], *p;
	double up = -1, start;
	unsigned long long ticks = 0;
	int i;
	if (!(f = fopen("/proc/uptime", "r")))
		return -1;
	if (fscanf(f, "%lf", &up) != 1)
		up = -1;
	fclose(f);
	if (up < 0 || !(f = fopen("/proc/self/stat", "r")))
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* Field 22 (starttime) counts from the field after the ")" of the name. */
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	for (i = 0; i < 20 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return -1;
	start = (double)ticks / (double)sysconf(_SC_CLK_TCK);
	return up - start;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmdb tui [--run ID] [--interval SECONDS] [--timing FILE]\n\n"
		   "The terminal dashboard: runs (live), one run's epochs, charts, per-class\n"
		   "metrics and confusion matrix, comparisons of 2-6 runs, predictions and posts.\n"
		   "Press ? on any screen for its keys, q to go back.\n\n"
		   "  --run ID            open this run first\n"
		   "  --interval SECONDS  how often to look for new data (default 1)\n"
		   "  --timing FILE       append first-draw and per-key times (ms) to FILE\n");
}

int cmd_tui(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "interval", required_argument, NULL, 'i' },
		{ "timing", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tui_options o = { 0 };
	struct db *db = NULL;
	int64_t n = 0;
	long run = 0;
	int c, ret = 1;

	o.t0 = now_seconds();
	o.exec_age = process_age();
	o.interval = 1;
	while ((c = getopt_long(argc, argv, "r:i:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (parse_long(optarg, 1, LONG_MAX, "--run", &run))
				return 2;
			break;
		case 'i':
			if (parse_double(optarg, 0.05, 3600, "--interval", &o.interval))
				return 2;
			break;
		case 't': o.timing = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		return usage_error("tui: unexpected argument '%s'", argv[optind]);

	if (db_open(&db, ctx->db_path, DB_READONLY))
		return 1;
	if (db_query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
			     " ('runs', 'epochs', 'predictions', 'posts')", 0, &n))
		goto out;
	if (n != 4) {
		error("'%s' is not an mmdb database (no runs, epochs, predictions and posts tables)",
		      ctx->db_path);
		goto out;
	}
	/* Read-only: the dashboard cannot migrate an older database itself. */
	if (db_user_version(db) < db_schema_version()) {
		error("'%s' is at schema version %d, this mmdb reads version %d: run 'mmdb init' to "
		      "migrate it", ctx->db_path, db_user_version(db), db_schema_version());
		goto out;
	}
	if (run > 0) {
		struct strbuf sql = STRBUF_INIT;
		sb_addf(&sql, "SELECT count(*) FROM runs WHERE id = %ld", run);
		c = db_query_int(db, sql.buf, 0, &n);
		sb_release(&sql);
		if (c)
			goto out;
		if (!n) {
			error("no run %ld in '%s'", run, ctx->db_path);
			goto out;
		}
	}
	o.db = db;
	o.db_path = ctx->db_path;
	o.cache_dir = ctx->cache_dir;
	o.run = run;
	ret = tui_run(&o) ? 1 : 0;
out:
	db_close(db);
	return ret;
}
