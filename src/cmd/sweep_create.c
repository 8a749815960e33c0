/*
 * mmdb sweep create: expands --grid and --random into trials, checks each
 * trial's full `mmdb run` command line with the run command's own parser
 * (an unknown flag or a bad value is an error before anything is written),
 * and stores the sweep and its pending trials in one transaction.
 */
#include "cmds.h"
#include "run_args.h"
#include "sweep_int.h"
#include "../db.h"
#include "../sweep.h"
#include "../train.h"
#include "../util.h"

#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRIALS 100000

static const char usage_text[] =
	"usage: mmdb sweep create NAME [--grid KEY=V1,V2,...]... [--random KEY=LO:HI[:log]]...\n"
	"                         [--trials N] [--seed N] [--metric M] [--prune asha|median|none]\n"
	"                         [-- RUN FLAGS...]\n"
	"\n"
	"Stores a sweep and its trials, all pending: one per combination of the --grid\n"
	"values, or, with --random, N samples (--trials, 10) drawn with --seed (a\n"
	"grid key then takes one of its values at random). KEY is a 'mmdb run' flag\n"
	"without its dashes (lr, batch-size, dropout, text-model, ...); the flags after\n"
	"'--' are the settings every trial shares. Workers ('mmdb sweep run NAME')\n"
	"then train the trials.\n"
	"\n"
	"  --grid KEY=V1,V2,...   values of KEY (separated by ';' instead when a value\n"
	"                         holds a comma: --grid 'modalities=text;text,image')\n"
	"  --random KEY=LO:HI[:log]  uniform in [LO, HI] (log-uniform with :log); whole\n"
	"                         numbers when LO and HI are both written as integers\n"
	"  --trials N             samples of a random sweep (10)\n"
	"  --seed N               the random sweep's seed (default: from the clock; kept)\n"
	"  --metric M             what 'best' means (best_val_f1): best_val_f1,\n"
	"                         best_val_accuracy, best_val_f1_macro, best_val_loss\n"
	"                         (lower is better), test_f1, test_accuracy, test_f1_macro\n"
	"  --prune asha|median|none  stop poor trials early (none): asha keeps the top\n"
	"                         third at epochs 1, 3, 9, ...; median stops a trial below\n"
	"                         the median of the others at the same epoch\n";

/* Flags a trial may not sweep or fix: the sweep names its runs, and a
 * trial is trained, not resumed or timed. */
static const char *const reserved[] = { "name", "resume", "loader-only", "help", NULL };

static int is_reserved(const char *key)
{
	int i;
	for (i = 0; reserved[i]; i++)
		if (!strcmp(reserved[i], key))
			return 1;
	return 0;
}

/* One swept parameter. */
struct param {
	char *key;
	char **values;      /* grid: nvalues texts */
	int nvalues;
	int random;         /* --random: lo..hi */
	double lo, hi;
	int log, integer;
};

struct create_opts {
	struct param *params;
	size_t nparams, alloc;
	int trials;          /* -1: not given */
	int64_t seed;
	int has_seed;
	const char *metric, *prune;
};

static void params_release(struct create_opts *o)
{
	size_t i;
	int j;
	for (i = 0; i < o->nparams; i++) {
		free(o->params[i].key);
		for (j = 0; j < o->params[i].nvalues; j++)
			free(o->params[i].values[j]);
		free(o->params[i].values);
	}
	free(o->params);
}

/* Checks KEY (leading dashes allowed) for --grid/--random; *out is malloc'd. */
static int check_key(const char *what, const char *arg, const char *eq, struct create_opts *o,
		     char **out)
{
	char *key;
	size_t i;
	int kind;

	if (!eq || eq == arg)
		return usage_error("sweep create: %s '%s': expected KEY=%s", what, arg,
				   !strcmp(what, "--grid") ? "V1,V2,..." : "LO:HI[:log]");
	while (*arg == '-' && arg < eq)
		arg++;
	key = xstrndup(arg, (size_t)(eq - arg));
	kind = run_option_kind(key);
	if (kind < 0 || is_reserved(key)) {
		usage_error("sweep create: %s: '%s' is not a flag of 'mmdb run'%s", what, key,
			    kind < 0 ? " (see 'mmdb run -h')" : " that a sweep can set");
		goto fail;
	}
	if (kind == 0) {
		usage_error("sweep create: %s: --%s takes no value: give it after '--' to set it for "
			    "every trial", what, key);
		goto fail;
	}
	for (i = 0; i < o->nparams; i++)
		if (!strcmp(o->params[i].key, key)) {
			usage_error("sweep create: %s: '%s' is swept twice", what, key);
			goto fail;
		}
	*out = key;
	return 0;
fail:
	free(key);
	return 2;
}

static int add_grid(struct create_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '='), *p;
	char sep, *key = NULL;
	struct param *pa;

	if (check_key("--grid", arg, eq, o, &key))
		return 2;
	sep = strchr(eq + 1, ';') ? ';' : ',';
	ALLOC_GROW(o->params, o->nparams + 1, o->alloc);
	pa = &o->params[o->nparams++];
	memset(pa, 0, sizeof(*pa));
	pa->key = key;
	for (p = eq + 1;;) {
		const char *end = strchr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (!len)
			return usage_error("sweep create: --grid %s: an empty value in '%s'", key, eq + 1);
		pa->values = xrealloc(pa->values, st_mult((size_t)pa->nvalues + 1, sizeof(char *)));
		pa->values[pa->nvalues++] = xstrndup(p, len);
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

static int whole_number(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int add_random(struct create_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *key = NULL, *spec, *lo, *hi, *mode;
	struct param *pa;
	int ret = 2;

	if (check_key("--random", arg, eq, o, &key))
		return 2;
	spec = xstrdup(eq + 1);
	lo = spec;
	hi = strchr(lo, ':');
	mode = hi ? strchr(hi + 1, ':') : NULL;
	if (!hi) {
		usage_error("sweep create: --random %s: '%s' is not LO:HI[:log]", key, eq + 1);
		goto out;
	}
	*hi++ = 0;
	if (mode)
		*mode++ = 0;
	ALLOC_GROW(o->params, o->nparams + 1, o->alloc);
	pa = &o->params[o->nparams++];
	memset(pa, 0, sizeof(*pa));
	pa->key = key;
	key = NULL;
	pa->random = 1;
	if (parse_double(lo, -1e300, 1e300, "--random LO", &pa->lo) ||
	    parse_double(hi, -1e300, 1e300, "--random HI", &pa->hi))
		goto out;
	if (mode && strcmp(mode, "log")) {
		usage_error("sweep create: --random %s: unknown scale '%s' (log)", pa->key, mode);
		goto out;
	}
	pa->log = !!mode;
	pa->integer = whole_number(lo) && whole_number(hi);
	if (!(pa->lo <= pa->hi)) {
		usage_error("sweep create: --random %s: LO %s is above HI %s", pa->key, lo, hi);
		goto out;
	}
	if (pa->log && pa->lo <= 0) {
		usage_error("sweep create: --random %s: a log scale needs LO > 0 (%s)", pa->key, lo);
		goto out;
	}
	ret = 0;
out:
	free(key);
	free(spec);
	return ret;
}

/* splitmix64: a small, well-mixed generator; the same seed gives the same sweep. */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double next_unit(uint64_t *s)
{
	return (double)(next_u64(s) >> 11) / 9007199254740992.0; /* [0, 1) */
}

/* 1 if s is a JSON number literal (stored as a number, keeping its text). */
static int json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s))
			s++;
	else
		return 0;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return !*s;
}

/* One trial's value of each parameter, as text. */
static void trial_values(const struct create_opts *o, size_t t, int random, uint64_t *rng,
			 char **vals)
{
	size_t i;
	for (i = 0; i < o->nparams; i++) {
		const struct param *p = &o->params[i];
		char buf[64];
		if (!p->random && !random) {
			/* The grid's t-th combination: the last key varies fastest. */
			size_t stride = 1, k;
			for (k = i + 1; k < o->nparams; k++)
				stride *= (size_t)o->params[k].nvalues;
			vals[i] = xstrdup(p->values[(t / stride) % (size_t)p->nvalues]);
		} else if (!p->random) {
			vals[i] = xstrdup(p->values[next_u64(rng) % (uint64_t)p->nvalues]);
		} else {
			double u = next_unit(rng), v;
			if (p->log)
				v = exp(log(p->lo) + u * (log(p->hi) - log(p->lo)));
			else
				v = p->lo + u * (p->hi - p->lo);
			if (p->integer) {
				/* Whole numbers: each of lo..hi about equally likely. */
				v = p->log ? floor(exp(log(p->lo) + u * (log(p->hi + 1) - log(p->lo))))
					   : floor(p->lo + u * (p->hi - p->lo + 1));
				if (v > p->hi)
					v = p->hi;
				snprintf(buf, sizeof(buf), "%.0f", v);
			} else {
				snprintf(buf, sizeof(buf), "%.6g", v);
			}
			vals[i] = xstrdup(buf);
		}
	}
}

/* The sweep's spec: what was swept, as JSON. */
static char *spec_json(const struct create_opts *o)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int j, first = 1;

	sb_adds(&sb, "{\"grid\": [");
	for (i = 0; i < o->nparams; i++) {
		if (o->params[i].random)
			continue;
		sb_addf(&sb, "%s{\"key\": ", first ? "" : ", ");
		first = 0;
		sb_add_json_str(&sb, o->params[i].key);
		sb_adds(&sb, ", \"values\": [");
		for (j = 0; j < o->params[i].nvalues; j++) {
			if (j)
				sb_adds(&sb, ", ");
			if (json_number(o->params[i].values[j]))
				sb_adds(&sb, o->params[i].values[j]);
			else
				sb_add_json_str(&sb, o->params[i].values[j]);
		}
		sb_adds(&sb, "]}");
	}
	sb_adds(&sb, "], \"random\": [");
	first = 1;
	for (i = 0; i < o->nparams; i++) {
		const struct param *p = &o->params[i];
		if (!p->random)
			continue;
		sb_addf(&sb, "%s{\"key\": ", first ? "" : ", ");
		first = 0;
		sb_add_json_str(&sb, p->key);
		sb_addf(&sb, ", \"lo\": %.17g, \"hi\": %.17g, \"log\": %s, \"integer\": %s}", p->lo, p->hi,
			p->log ? "true" : "false", p->integer ? "true" : "false");
	}
	sb_adds(&sb, "]}");
	return sb_detach(&sb);
}

static char *params_json(const struct create_opts *o, char **vals)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	sb_addc(&sb, '{');
	for (i = 0; i < o->nparams; i++) {
		if (i)
			sb_adds(&sb, ", ");
		sb_add_json_str(&sb, o->params[i].key);
		sb_adds(&sb, ": ");
		if (json_number(vals[i]))
			sb_adds(&sb, vals[i]);
		else
			sb_add_json_str(&sb, vals[i]);
	}
	sb_addc(&sb, '}');
	return sb_detach(&sb);
}

/*
 * Checks the fixed run flags: no reserved flag, and (with every trial's
 * values, in check_trial) a command line `mmdb run` accepts.
 */
static int check_run_flags(int argc, char **argv)
{
	int i;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;
		char *key;
		int kind;
		if (strncmp(a, "--", 2) || !a[2])
			continue;
		eq = strchr(a, '=');
		key = eq ? xstrndup(a + 2, (size_t)(eq - a - 2)) : xstrdup(a + 2);
		kind = run_option_kind(key);
		if (kind < 0) {
			usage_error("sweep create: '--%s' after '--' is not a flag of 'mmdb run' (see "
				    "'mmdb run -h')", key);
			free(key);
			return 2;
		}
		if (is_reserved(key)) {
			usage_error("sweep create: '--%s' cannot be given to the trials (a sweep names "
				    "its runs '<sweep>-<trial>')", key);
			free(key);
			return 2;
		}
		free(key);
		if (kind == 1 && !eq)
			i++; /* its value */
	}
	return 0;
}

/* The trial's `mmdb run` command line must parse. */
static int check_trial(const struct create_opts *o, int nfixed, char **fixed, char **vals)
{
	struct run_config cfg;
	char **argv = xcalloc(st_add(st_mult(o->nparams, 2), (size_t)nfixed + 2), sizeof(char *));
	int argc = 0, i, rc;
	size_t k;
	struct strbuf *flags = xcalloc(o->nparams ? o->nparams : 1, sizeof(*flags));

	argv[argc++] = "run";
	for (i = 0; i < nfixed; i++)
		argv[argc++] = fixed[i];
	for (k = 0; k < o->nparams; k++) {
		sb_addf(&flags[k], "--%s", o->params[k].key);
		argv[argc++] = flags[k].buf;
		argv[argc++] = vals[k];
	}
	argv[argc] = NULL;
	rc = run_parse_args(argc, argv, &cfg, NULL);
	if (rc == 0)
		free((void *)cfg.tags);
	for (k = 0; k < o->nparams; k++)
		sb_release(&flags[k]);
	free(flags);
	free(argv);
	return rc == 0 ? 0 : 2;
}

static int valid_name(const char *s)
{
	if (!*s || *s == '-')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

int sweep_create(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "grid", required_argument, NULL, 'g' },
		{ "random", required_argument, NULL, 'r' },
		{ "trials", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "metric", required_argument, NULL, 'm' },
		{ "prune", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct create_opts o;
	struct db_stmt *st = NULL;
	const char *name = NULL;
	char **fixed = NULL, *spec = NULL, *run_args = NULL, **vals = NULL, **pjson = NULL;
	int nopt = argc, nfixed = 0, c, i, random = 0, ret = 2;
	size_t ntrials = 1, t, k;
	uint64_t rng;
	long lv;
	int64_t exists = 0, sweep_id;

	memset(&o, 0, sizeof(o));
	o.trials = -1;
	o.metric = "best_val_f1";
	o.prune = "none";
	/* The run flags after '--' are not ours: getopt sees only what precedes it. */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			fixed = argv + i + 1;
			nfixed = argc - i - 1;
			break;
		}
	optind = 0;
	while ((c = getopt_long(nopt, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'g': if (add_grid(&o, optarg)) goto out; break;
		case 'r': if (add_random(&o, optarg)) goto out; break;
		case 'n':
			if (parse_int(optarg, 1, MAX_TRIALS, "--trials", &o.trials))
				goto out;
			break;
		case 's':
			if (parse_long(optarg, 0, 0x7fffffffffffffffL, "--seed", &lv))
				goto out;
			o.seed = lv;
			o.has_seed = 1;
			break;
		case 'm':
			if (sweep_metric(optarg, NULL, NULL)) {
				usage_error("sweep create: --metric: unknown metric '%s' (%s)", optarg,
					    sweep_metric_names());
				goto out;
			}
			o.metric = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "asha") && strcmp(optarg, "median") && strcmp(optarg, "none")) {
				usage_error("sweep create: --prune: unknown rule '%s' (asha, median, none)",
					    optarg);
				goto out;
			}
			o.prune = optarg;
			break;
		case 'h': fputs(usage_text, stdout); ret = 0; goto out;
		default: goto out;
		}
	}
	for (i = optind; i < nopt; i++) {
		if (name) {
			usage_error("sweep create: unexpected argument '%s' (run flags go after '--')",
				    argv[i]);
			goto out;
		}
		name = argv[i];
	}
	if (!name) {
		usage_error("sweep create: which name? (mmdb sweep create NAME --grid KEY=V1,V2 -- ...)");
		goto out;
	}
	if (!valid_name(name)) {
		usage_error("sweep create: name '%s': letters, digits, '.', '_' and '-' only", name);
		goto out;
	}
	if (!o.nparams) {
		usage_error("sweep create: nothing to sweep: give --grid KEY=V1,V2,... or --random "
			    "KEY=LO:HI");
		goto out;
	}
	for (k = 0; k < o.nparams; k++)
		random |= o.params[k].random;
	if (random) {
		ntrials = o.trials > 0 ? (size_t)o.trials : 10;
	} else {
		if (o.trials > 0) {
			usage_error("sweep create: --trials is for --random (a grid has one trial per "
				    "combination)");
			goto out;
		}
		for (k = 0; k < o.nparams; k++) {
			ntrials *= (size_t)o.params[k].nvalues;
			if (ntrials > MAX_TRIALS) {
				usage_error("sweep create: the grid has more than %d combinations", MAX_TRIALS);
				goto out;
			}
		}
	}
	if (check_run_flags(nfixed, fixed))
		goto out;
	if (random && !o.has_seed) {
		o.seed = (int64_t)((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20)) & 0x7fffffff;
		o.has_seed = 1;
	}
	rng = (uint64_t)o.seed;

	/* Every trial's values and a check of its command line, before any write. */
	vals = xcalloc(o.nparams, sizeof(char *));
	pjson = xcalloc(ntrials, sizeof(char *));
	for (t = 0; t < ntrials; t++) {
		int bad;
		trial_values(&o, t, random, &rng, vals);
		bad = check_trial(&o, nfixed, fixed, vals);
		if (!bad)
			pjson[t] = params_json(&o, vals);
		for (k = 0; k < o.nparams; k++) {
			free(vals[k]);
			vals[k] = NULL;
		}
		if (bad)
			goto out;
	}
	spec = spec_json(&o);
	run_args = run_argv_json(nfixed, fixed);

	ret = 1;
	if (db_begin(ctx->db))
		goto out;
	if (db_prepare(ctx->db, &st, "SELECT id FROM sweeps WHERE name = ?1"))
		goto fail;
	db_bind_text(st, 1, name, -1);
	if ((c = db_step(st)) < 0)
		goto fail;
	exists = c == DB_ROW;
	db_finalize(st);
	st = NULL;
	if (exists) {
		error("sweep '%s' exists (see 'mmdb sweep show %s'; remove it with 'mmdb sweep rm')",
		      name, name);
		goto fail;
	}
	if (db_prepare(ctx->db, &st, "INSERT INTO sweeps (name, method, metric, goal, prune, seed, "
				     "trials, spec, run_args) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"))
		goto fail;
	{
		int minimize = 0;
		sweep_metric(o.metric, NULL, &minimize);
		db_bind_text(st, 1, name, -1);
		db_bind_text(st, 2, random ? "random" : "grid", -1);
		db_bind_text(st, 3, o.metric, -1);
		db_bind_text(st, 4, minimize ? "min" : "max", -1);
		db_bind_text(st, 5, o.prune, -1);
		if (o.has_seed)
			db_bind_int(st, 6, o.seed);
		db_bind_int(st, 7, (int64_t)ntrials);
		db_bind_text(st, 8, spec, -1);
		db_bind_text(st, 9, run_args, -1);
	}
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	st = NULL;
	sweep_id = db_last_insert_rowid(ctx->db);
	if (db_prepare(ctx->db, &st, "INSERT INTO sweep_trials (sweep_id, idx, params) "
				     "VALUES (?1, ?2, ?3)"))
		goto fail;
	for (t = 0; t < ntrials; t++) {
		db_reset(st);
		db_bind_int(st, 1, sweep_id);
		db_bind_int(st, 2, (int64_t)t + 1);
		db_bind_text(st, 3, pjson[t], -1);
		if (db_step(st) < 0)
			goto fail;
	}
	db_finalize(st);
	st = NULL;
	if (db_commit(ctx->db))
		goto fail;
	if (!ctx->quiet)
		printf("sweep %s: %zu trials (%s", name, ntrials, random ? "random" : "grid");
	if (!ctx->quiet && random)
		printf(", seed %lld", (long long)o.seed);
	if (!ctx->quiet)
		printf("); train them with 'mmdb sweep run %s' (one worker per device)\n", name);
	ret = 0;
	goto out;
fail:
	db_finalize(st);
	db_rollback(ctx->db);
out:
	if (pjson)
		for (t = 0; t < ntrials; t++)
			free(pjson[t]);
	free(pjson);
	free(vals);
	free(spec);
	free(run_args);
	params_release(&o);
	return ret;
}
