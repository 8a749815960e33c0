/*
 * mmdb run: parse every hyperparameter flag into a run_config and hand it to
 * train_run(). --resume RUN re-parses the command line stored in that run's
 * config, so a resumed run has exactly its original settings.
 */
#include "cmds.h"
#include "run_args.h"
#include "../db.h"
#include "../dist.h"
#include "../hfmodel.h"
#include "../torch/mt.h"
#include "../train.h"
#include "../util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: mmdb run [options]\n"
	"       mmdb run --resume RUN [--device D] [--workers N] [--threads N] [--nproc N]\n"
	"\n"
	"Trains a model on the ingested posts: 'train' trains, 'validate' drives the\n"
	"scheduler, early stopping and the best checkpoint, 'test' is evaluated once\n"
	"with the best checkpoint. Every epoch is recorded in the database.\n"
	"\n"
	"  --name NAME  --notes TEXT  --tag TAG (repeatable)\n"
	"  --preset seed            the original recipe (bert-base + resnet50, max fusion,\n"
	"                           Adam 1e-5, plateau 0.5/1/1e-6, early stop 5, 20 epochs)\n"
	"  --label 2way|3way|6way   label scheme (6way)\n"
	"  --modalities text,image|text|image     (text,image)\n"
	"  --fusion max|sum|mean|concat|gated     (max)\n"
	"  --text-model M|DIR       bert-base|bert-medium|bert-small|bert-mini|bert-tiny (bert-base),\n"
	"                           or a Hugging Face BERT folder (config.json, model.safetensors,\n"
	"                           vocab.txt, tokenizer_config.json): its shape, weights, vocab\n"
	"                           and casing (--text-weights and --vocab override its files)\n"
	"  --image-model M          resnet18|resnet34|resnet50|resnet-small (resnet50)\n"
	"  --vocab FILE             vocab.txt (default: the model folder's, else the latest built)\n"
	"  --text-weights FILE  --image-weights FILE   safetensors weights\n"
	"  --freeze text|image      do not train that encoder (repeatable)\n"
	"  --lr X (1e-5)  --epochs N (20)  --batch-size N (32)\n"
	"  --optimizer adam|adamw|sgd (adam)  --weight-decay X (0)  --momentum X (0.9)\n"
	"  --scheduler plateau|cosine|none (plateau)  --plateau-factor X (0.5)\n"
	"  --plateau-patience N (1)  --min-lr X (1e-6)  --warmup STEPS (0)\n"
	"  --early-stop N (5; 0 = off)  --early-stop-delta X (0)\n"
	"  --dropout X (0.3)  --max-len N (80)  --image-size N (224)  --resize squash|crop\n"
	"  --class-weights balanced|none (balanced)  --grad-clip X (0 = off)\n"
	"  --seed N (1)  --device auto|cpu|cuda[:N]  --amp  --threads N  --workers N (cores)\n"
	"  --missing-image skip|blank (skip)  --limit N (posts per split; 0 = all)\n"
	"  --prep-cache             keep decoded, resized pixels under <cache>/prep/ so\n"
	"                           later epochs and runs skip decoding (S*S*3 bytes a post)\n"
	"  --resume RUN             continue an interrupted or crashed run with its settings\n"
	"                           (only --device, --workers, --threads and --nproc may\n"
	"                           change; another --nproc goes on from the same epoch)\n"
	"  --loader-only            time the data loader alone over the train split (no\n"
	"                           model, nothing recorded): batches/s with --workers N\n"
	"  --text-dropout X         BERT's own attention and hidden dropout (0.1)\n"
	"\n"
	"Several processes (data-parallel, PyTorch's c10d: gloo on CPU, NCCL on CUDA):\n"
	"  --nproc N                start N ranks on this host (one per GPU on CUDA)\n"
	"  --sync-bn                BatchNorm over the global batch (default: per rank)\n"
	"Started by torchrun or srun, mmdb run joins their process group (RANK,\n"
	"WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; SLURM_PROCID, SLURM_NTASKS,\n"
	"SLURM_LOCALID). --batch-size is per rank; rank 0 records the run.\n";

enum {
	O_NAME = 256, O_NOTES, O_TAG, O_LABEL, O_MODALITIES, O_FUSION, O_TEXT_MODEL,
	O_IMAGE_MODEL, O_VOCAB, O_TEXT_WEIGHTS, O_IMAGE_WEIGHTS, O_FREEZE, O_LR, O_EPOCHS,
	O_BATCH, O_OPTIMIZER, O_WD, O_MOMENTUM, O_SCHED, O_PFACTOR, O_PPATIENCE, O_MINLR,
	O_WARMUP, O_ESTOP, O_EDELTA, O_DROPOUT, O_MAXLEN, O_IMGSIZE, O_RESIZE, O_CW,
	O_CLIP, O_SEED, O_DEVICE, O_AMP, O_THREADS, O_WORKERS, O_MISSING, O_LIMIT,
	O_PRESET, O_RESUME, O_NO_PREP, O_PREP, O_LOADER_ONLY, O_NPROC, O_SYNC_BN, O_TEXT_DROPOUT,
};

static const struct option opts[] = {
	{ "name", required_argument, NULL, O_NAME },
	{ "notes", required_argument, NULL, O_NOTES },
	{ "tag", required_argument, NULL, O_TAG },
	{ "label", required_argument, NULL, O_LABEL },
	{ "modalities", required_argument, NULL, O_MODALITIES },
	{ "fusion", required_argument, NULL, O_FUSION },
	{ "text-model", required_argument, NULL, O_TEXT_MODEL },
	{ "image-model", required_argument, NULL, O_IMAGE_MODEL },
	{ "vocab", required_argument, NULL, O_VOCAB },
	{ "text-weights", required_argument, NULL, O_TEXT_WEIGHTS },
	{ "image-weights", required_argument, NULL, O_IMAGE_WEIGHTS },
	{ "freeze", required_argument, NULL, O_FREEZE },
	{ "lr", required_argument, NULL, O_LR },
	{ "epochs", required_argument, NULL, O_EPOCHS },
	{ "batch-size", required_argument, NULL, O_BATCH },
	{ "optimizer", required_argument, NULL, O_OPTIMIZER },
	{ "weight-decay", required_argument, NULL, O_WD },
	{ "momentum", required_argument, NULL, O_MOMENTUM },
	{ "scheduler", required_argument, NULL, O_SCHED },
	{ "plateau-factor", required_argument, NULL, O_PFACTOR },
	{ "plateau-patience", required_argument, NULL, O_PPATIENCE },
	{ "min-lr", required_argument, NULL, O_MINLR },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "early-stop", required_argument, NULL, O_ESTOP },
	{ "early-stop-delta", required_argument, NULL, O_EDELTA },
	{ "dropout", required_argument, NULL, O_DROPOUT },
	{ "max-len", required_argument, NULL, O_MAXLEN },
	{ "image-size", required_argument, NULL, O_IMGSIZE },
	{ "resize", required_argument, NULL, O_RESIZE },
	{ "class-weights", required_argument, NULL, O_CW },
	{ "grad-clip", required_argument, NULL, O_CLIP },
	{ "seed", required_argument, NULL, O_SEED },
	{ "device", required_argument, NULL, O_DEVICE },
	{ "amp", no_argument, NULL, O_AMP },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "workers", required_argument, NULL, O_WORKERS },
	{ "missing-image", required_argument, NULL, O_MISSING },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "preset", required_argument, NULL, O_PRESET },
	{ "resume", required_argument, NULL, O_RESUME },
	{ "no-prep-cache", no_argument, NULL, O_NO_PREP },
	{ "prep-cache", no_argument, NULL, O_PREP },
	{ "loader-only", no_argument, NULL, O_LOADER_ONLY },
	{ "nproc", required_argument, NULL, O_NPROC },
	{ "sync-bn", no_argument, NULL, O_SYNC_BN },
	{ "text-dropout", required_argument, NULL, O_TEXT_DROPOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *const text_models[] = { "bert-base", "bert-medium", "bert-small", "bert-mini",
					   "bert-tiny", NULL };
static const char *const image_models[] = { "resnet18", "resnet34", "resnet50", "resnet-small",
					    NULL };
static const char *const fusions[] = { "max", "sum", "mean", "concat", "gated", NULL };
static const char *const optimizers[] = { "adam", "adamw", "sgd", NULL };
static const char *const schedulers[] = { "plateau", "cosine", "none", NULL };

static int is_dir(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* Index of s in the NULL-terminated list, or -1. */
static int pick(const char *const *list, const char *s)
{
	int i;
	for (i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return i;
	return -1;
}

static int bad_choice(const char *flag, const char *val, const char *const *list)
{
	struct strbuf sb = STRBUF_INIT;
	int i;
	for (i = 0; list[i]; i++)
		sb_addf(&sb, "%s%s", i ? ", " : "", list[i]);
	usage_error("run: %s: unknown value '%s' (%s)", flag, val, sb.buf);
	sb_release(&sb);
	return 2;
}

static int valid_device(const char *s)
{
	int n;
	if (!strcmp(s, "auto") || !strcmp(s, "cpu") || !strcmp(s, "cuda"))
		return 1;
	return !strncmp(s, "cuda:", 5) && !parse_int(s + 5, 0, 1024, "--device cuda:N", &n);
}

int run_option_kind(const char *name)
{
	const struct option *o;
	for (o = opts; o->name; o++)
		if (!strcmp(o->name, name))
			return o->has_arg == no_argument ? 0 : 1;
	return -1;
}

static int parse_args(int argc, char **argv, struct run_config *cfg, const char **resume)
{
	int c, i, v;
	long lv;
	const char **tags = NULL;
	size_t tags_alloc = 0;

	run_config_defaults(cfg);
	/* First pass: the preset, so that every other flag overrides it. */
	for (i = 1; i < argc; i++) {
		const char *p = NULL;
		if (!strcmp(argv[i], "--preset") && i + 1 < argc)
			p = argv[i + 1];
		else if (!strncmp(argv[i], "--preset=", 9))
			p = argv[i] + 9;
		if (p && run_config_preset(cfg, p))
			return usage_error("run: unknown preset '%s' (seed)", p);
	}
	optind = 0; /* afresh: see main.c */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage_text, stdout); return 3;
		case O_NAME: cfg->name = optarg; break;
		case O_NOTES: cfg->notes = optarg; break;
		case O_TAG:
			ALLOC_GROW(tags, (size_t)cfg->ntags + 1, tags_alloc);
			tags[cfg->ntags++] = optarg;
			cfg->tags = tags;
			break;
		case O_LABEL:
			if (!strcmp(optarg, "2way")) cfg->num_classes = 2;
			else if (!strcmp(optarg, "3way")) cfg->num_classes = 3;
			else if (!strcmp(optarg, "6way")) cfg->num_classes = 6;
			else return usage_error("run: --label: unknown scheme '%s' (2way, 3way, 6way)", optarg);
			cfg->label = optarg;
			break;
		case O_MODALITIES:
			if (!strcmp(optarg, "text,image") || !strcmp(optarg, "image,text"))
				cfg->modalities = MT_TEXT | MT_IMAGE;
			else if (!strcmp(optarg, "text")) cfg->modalities = MT_TEXT;
			else if (!strcmp(optarg, "image")) cfg->modalities = MT_IMAGE;
			else return usage_error("run: --modalities: '%s' (text,image, text or image)", optarg);
			break;
		case O_FUSION:
			if ((v = pick(fusions, optarg)) < 0) return bad_choice("--fusion", optarg, fusions);
			cfg->fusion = v;
			break;
		case O_TEXT_MODEL:
			if (pick(text_models, optarg) >= 0) {
				cfg->text_model = optarg;
				cfg->text_model_dir = NULL;
			} else if (hf_is_model_dir(optarg)) {
				cfg->text_model_dir = optarg;
			} else if (strchr(optarg, '/') || is_dir(optarg)) {
				return usage_error("run: --text-model '%s' is not a model folder (it has no config.json)", optarg);
			} else {
				return bad_choice("--text-model", optarg, text_models);
			}
			break;
		case O_IMAGE_MODEL:
			if (pick(image_models, optarg) < 0) return bad_choice("--image-model", optarg, image_models);
			cfg->image_model = optarg;
			break;
		case O_VOCAB: cfg->vocab = optarg; break;
		case O_TEXT_WEIGHTS: cfg->text_weights = optarg; break;
		case O_IMAGE_WEIGHTS: cfg->image_weights = optarg; break;
		case O_FREEZE:
			if (!strcmp(optarg, "text")) cfg->freeze |= MT_FREEZE_TEXT;
			else if (!strcmp(optarg, "image")) cfg->freeze |= MT_FREEZE_IMAGE;
			else return usage_error("run: --freeze: '%s' (text or image)", optarg);
			break;
		case O_LR: if (parse_double(optarg, 1e-12, 10, "--lr", &cfg->lr)) return 2; break;
		case O_EPOCHS: if (parse_int(optarg, 1, 100000, "--epochs", &cfg->epochs)) return 2; break;
		case O_BATCH: if (parse_int(optarg, 1, 65536, "--batch-size", &cfg->batch_size)) return 2; break;
		case O_OPTIMIZER:
			if ((v = pick(optimizers, optarg)) < 0) return bad_choice("--optimizer", optarg, optimizers);
			cfg->optimizer = v;
			break;
		case O_WD: if (parse_double(optarg, 0, 10, "--weight-decay", &cfg->weight_decay)) return 2; break;
		case O_MOMENTUM: if (parse_double(optarg, 0, 1, "--momentum", &cfg->momentum)) return 2; break;
		case O_SCHED:
			if ((v = pick(schedulers, optarg)) < 0) return bad_choice("--scheduler", optarg, schedulers);
			cfg->scheduler = v;
			break;
		case O_PFACTOR:
			if (parse_double(optarg, 1e-6, 0.999999, "--plateau-factor", &cfg->plateau_factor)) return 2;
			break;
		case O_PPATIENCE:
			if (parse_int(optarg, 0, 100000, "--plateau-patience", &cfg->plateau_patience)) return 2;
			break;
		case O_MINLR: if (parse_double(optarg, 0, 10, "--min-lr", &cfg->min_lr)) return 2; break;
		case O_WARMUP: if (parse_int(optarg, 0, 100000000, "--warmup", &cfg->warmup)) return 2; break;
		case O_ESTOP: if (parse_int(optarg, 0, 100000, "--early-stop", &cfg->early_stop)) return 2; break;
		case O_EDELTA:
			if (parse_double(optarg, 0, 1e9, "--early-stop-delta", &cfg->early_stop_delta)) return 2;
			break;
		case O_DROPOUT: if (parse_double(optarg, 0, 0.99, "--dropout", &cfg->dropout)) return 2; break;
		case O_MAXLEN: if (parse_int(optarg, 2, 512, "--max-len", &cfg->max_len)) return 2; break;
		case O_IMGSIZE: if (parse_int(optarg, 8, 1024, "--image-size", &cfg->image_size)) return 2; break;
		case O_RESIZE:
			if (!strcmp(optarg, "squash")) cfg->resize = RESIZE_SQUASH;
			else if (!strcmp(optarg, "crop")) cfg->resize = RESIZE_CROP;
			else return usage_error("run: --resize: '%s' (squash or crop)", optarg);
			break;
		case O_CW:
			if (!strcmp(optarg, "balanced")) cfg->class_weights_balanced = 1;
			else if (!strcmp(optarg, "none")) cfg->class_weights_balanced = 0;
			else return usage_error("run: --class-weights: '%s' (balanced or none)", optarg);
			break;
		case O_CLIP: if (parse_double(optarg, 0, 1e9, "--grad-clip", &cfg->grad_clip)) return 2; break;
		case O_SEED:
			if (parse_long(optarg, 0, 0x7fffffffffffffffL, "--seed", &lv)) return 2;
			cfg->seed = (uint64_t)lv;
			break;
		case O_DEVICE:
			if (!valid_device(optarg))
				return usage_error("run: --device: '%s' (auto, cpu, cuda or cuda:N)", optarg);
			cfg->device = optarg;
			break;
		case O_AMP: cfg->amp = 1; break;
		case O_THREADS: if (parse_int(optarg, 0, 1024, "--threads", &cfg->threads)) return 2; break;
		case O_WORKERS: if (parse_int(optarg, 1, 256, "--workers", &cfg->workers)) return 2; break;
		case O_MISSING:
			if (!strcmp(optarg, "skip")) cfg->missing_image = MISSING_SKIP;
			else if (!strcmp(optarg, "blank")) cfg->missing_image = MISSING_BLANK;
			else return usage_error("run: --missing-image: '%s' (skip or blank)", optarg);
			break;
		case O_LIMIT: if (parse_int(optarg, 0, 1000000000, "--limit", &cfg->limit)) return 2; break;
		case O_PRESET: cfg->preset = optarg; break;
		case O_RESUME:
			if (resume)
				*resume = optarg;
			break;
		case O_NO_PREP: cfg->prep_cache = 0; break;
		case O_PREP: cfg->prep_cache = 1; break;
		case O_LOADER_ONLY: cfg->loader_only = 1; break;
		case O_NPROC: if (parse_int(optarg, 1, 1024, "--nproc", &cfg->nproc)) return 2; break;
		case O_SYNC_BN: cfg->sync_bn = 1; break;
		case O_TEXT_DROPOUT:
			if (parse_double(optarg, 0, 0.99, "--text-dropout", &cfg->text_dropout)) return 2;
			cfg->text_dropout_set = 1;
			break;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("run: unexpected argument '%s'", argv[optind]);
	if (cfg->min_lr > cfg->lr)
		return usage_error("run: --min-lr %g is above --lr %g", cfg->min_lr, cfg->lr);
	return 0;
}

int run_parse_args(int argc, char **argv, struct run_config *cfg, const char **resume)
{
	int rc = parse_args(argc, argv, cfg, resume);
	if (rc) {
		free((void *)cfg->tags);
		cfg->tags = NULL;
		cfg->ntags = 0;
	}
	return rc;
}

char *run_argv_json(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	int i;
	sb_addc(&sb, '[');
	for (i = 0; i < argc; i++) {
		if (i)
			sb_adds(&sb, ", ");
		sb_add_json_str(&sb, argv[i]);
	}
	sb_addc(&sb, ']');
	return sb_detach(&sb);
}

void run_argv_free(int argc, char **argv)
{
	int i;
	if (!argv)
		return;
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

int run_stored_argv(struct db *db, int64_t id, int *argc, char ***argv)
{
	struct db_stmt *st = NULL;
	char **v = NULL;
	size_t alloc = 0;
	int n = 0, rc, ret = -1;

	if (db_prepare(db, &st, "SELECT value FROM runs, json_each(runs.config, '$.argv') "
			       "WHERE runs.id = ?1 ORDER BY json_each.key"))
		return -1;
	db_bind_int(st, 1, id);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *s = db_column_text(st, 0);
		ALLOC_GROW(v, (size_t)n + 2, alloc);
		v[n++] = xstrdup(s ? s : "");
	}
	if (rc < 0)
		goto out;
	if (!n) {
		error("run %lld has no stored command line to resume from", (long long)id);
		goto out;
	}
	v[n] = NULL;
	*argc = n;
	*argv = v;
	v = NULL;
	ret = 0;
out:
	if (v) {
		while (n--)
			free(v[n]);
		free(v);
	}
	db_finalize(st);
	return ret;
}

int run_train(struct mmdb_ctx *ctx, struct run_config *cfg, int argc, char **argv,
	      int64_t resume_id, int64_t *run_id)
{
	char *aj = run_argv_json(argc, argv);
	const char *s;
	long nproc;
	int rc;

	cfg->quiet = ctx->quiet;
	if (!cfg->workers) {
		nproc = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->workers = nproc > 0 ? (int)(nproc > 64 ? 64 : nproc) : 2;
	}
	s = getenv("MMDB_TEST_STOP_AFTER_STEPS");
	if (s && *s && parse_long(s, 1, 1L << 40, "MMDB_TEST_STOP_AFTER_STEPS", &cfg->stop_after_steps))
		cfg->stop_after_steps = 0;
	rc = train_run(ctx->db, ctx->cache_dir, cfg, aj, resume_id, run_id);
	free(aj);
	return rc;
}

/* argv without --nproc N (the ranks' command line). Caller frees the array. */
static char **without_nproc(int argc, char **argv, int *out_argc)
{
	char **v = xcalloc((size_t)argc + 1, sizeof(char *));
	int i, n = 0;
	for (i = 0; i < argc; i++) {
		if (i > 0 && !strcmp(argv[i], "--nproc")) {
			i++;
			continue;
		}
		if (i > 0 && !strncmp(argv[i], "--nproc=", 8))
			continue;
		v[n++] = argv[i];
	}
	*out_argc = n;
	return v;
}

/*
 * Joins the process group of a launcher's ranks (dist.h): the backend
 * follows the device (NCCL on CUDA unless $MMDB_DIST_BACKEND says gloo),
 * and every rank learns every other's pid and host (to name a rank whose
 * process dies). Fills cfg's dist fields.
 */
static int join_group(const struct dist_env *de, struct run_config *cfg)
{
	struct mt_dist_opts o;
	struct dist_peer me;
	const char *backend = getenv("MMDB_DIST_BACKEND");
	char device[32] = "cpu";
	int cuda;

	if (mt_load() < 0)
		return error("%s", mt_last_error());
	/* A peer's socket that closes must be an error of the collective (EPIPE)
	 * naming that peer, not this rank's death: c10d and gloo count on it
	 * (Python, their usual host, ignores SIGPIPE from the start). */
	signal(SIGPIPE, SIG_IGN);
	cuda = !strncmp(cfg->device, "cuda", 4) || (!strcmp(cfg->device, "auto") && mt_cuda_available());
	if (cuda)
		snprintf(device, sizeof(device), "cuda:%d", de->local_rank);
	if (!backend || !*backend)
		backend = cuda ? "nccl" : "gloo";
	memset(&o, 0, sizeof(o));
	o.rank = de->rank;
	o.world_size = de->world_size;
	o.master_addr = de->master_addr;
	o.master_port = de->master_port;
	o.listen_fd = de->listen_fd;
	o.agent_store = de->agent_store;
	o.backend = backend;
	o.device = device;
	o.timeout = de->timeout;
	if (mt_dist_new(&o, &cfg->dist))
		return error("rank %d of %d: cannot join the process group at %s:%d (%s): %s", de->rank,
			     de->world_size, de->master_addr, de->master_port, de->launcher,
			     mt_last_error());
	cfg->rank = de->rank;
	cfg->world_size = de->world_size;
	cfg->local_rank = de->local_rank;
	cfg->peers = xcalloc((size_t)de->world_size, sizeof(*cfg->peers));
	cfg->lost = xcalloc((size_t)de->world_size, 1);
	cfg->dist_timeout = de->timeout;
	cfg->dist_agent_store = de->agent_store;
	dist_peer_self(&me);
	if (mt_dist_allgather(cfg->dist, &me, sizeof(me), cfg->peers))
		return error("rank %d: cannot learn the other ranks' processes: %s", de->rank,
			     mt_last_error());
	return 0;
}

int cmd_run(int argc, char **argv, struct mmdb_ctx *ctx)
{
	struct run_config cfg;
	struct dist_env de;
	const char *resume = NULL;
	char **sargv = NULL;
	int sargc = 0, rc, i;
	int64_t resume_id = 0, run_id = 0;

	rc = run_parse_args(argc, argv, &cfg, &resume);
	if (rc)
		return rc == 3 ? 0 : rc;
	if (dist_env_read(&de)) {
		free((void *)cfg.tags);
		return 1;
	}
	if (cfg.nproc > 1) {
		char **rargv;
		int rargc;
		free((void *)cfg.tags);
		if (de.world_size > 1)
			return usage_error("run: --nproc in a rank that %s started (WORLD_SIZE %d)",
					   de.launcher, de.world_size);
		rargv = without_nproc(argc, argv, &rargc);
		rc = dist_launch(cfg.nproc, ctx->db_path, ctx->cache_dir, ctx->quiet, rargc, rargv,
				 de.timeout + dist_rollcall_wait(de.timeout) + 15);
		free(rargv);
		return rc;
	}
	if (resume) {
		/* The run keeps its settings; where it runs may change. */
		const char *device = NULL;
		int workers = 0, threads = -1;
		for (i = 1; i < argc; i++) {
			if (!strcmp(argv[i], "--resume") || !strcmp(argv[i], "--device") ||
			    !strcmp(argv[i], "--workers") || !strcmp(argv[i], "--threads") ||
			    !strcmp(argv[i], "--nproc")) {
				i++;
				continue;
			}
			if (!strncmp(argv[i], "--resume=", 9) || !strncmp(argv[i], "--device=", 9) ||
			    !strncmp(argv[i], "--workers=", 10) || !strncmp(argv[i], "--threads=", 10) ||
			    !strncmp(argv[i], "--nproc=", 8))
				continue;
			free((void *)cfg.tags);
			return usage_error("run: with --resume only --device, --workers, --threads and "
					   "--nproc may be given ('%s'): the run keeps its settings", argv[i]);
		}
		if (strcmp(cfg.device, "auto"))
			device = cfg.device;
		workers = cfg.workers;
		threads = cfg.threads;
		free((void *)cfg.tags);
		cfg.tags = NULL;
		if (run_lookup(ctx->db, resume, &resume_id))
			return 1;
		if (run_stored_argv(ctx->db, resume_id, &sargc, &sargv))
			return 1;
		if (run_parse_args(sargc, sargv, &cfg, NULL)) {
			rc = 1;
			goto out;
		}
		if (device)
			cfg.device = device;
		if (workers)
			cfg.workers = workers;
		if (threads > 0)
			cfg.threads = threads;
	}
	if (de.world_size > 1 && join_group(&de, &cfg)) {
		rc = 1;
		goto out;
	}
	rc = run_train(ctx, &cfg, resume ? sargc : argc, resume ? sargv : argv, resume_id, &run_id);
	/* 0 finished (or pruned: a sweep's decision), 1 interrupted, -1 failed. */
	rc = rc == 0 || rc == 2 ? 0 : rc == 1 ? 130 : 1;
out:
	mt_dist_free(cfg.dist);
	free(cfg.peers);
	free(cfg.lost);
	free((void *)cfg.tags);
	run_argv_free(sargc, sargv);
	return rc;
}
