/*
 * model fetch: downloads pretrained files (BERT vocab and weights, ResNet
 * weights in safetensors form) into <cache>/models/NAME/ so that `mmdb run`
 * can load them. Every file has a known size and sha256: a download goes to
 * FILE.part (resumed with a Range request after an interruption, through
 * fetch_file()), is checked and only then renamed to FILE; a file already
 * there and verified is not downloaded again. --manifest adds or replaces
 * entries (mirrors, other files); --base-url replaces the origin.
 */
#include "model_fetch.h"
#include "../fetch.h"
#include "../hfmodel.h"
#include "../output.h"
#include "../util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORIGIN "https://huggingface.co"

/*
 * The real files. Sizes and sha256 are those of the Hugging Face LFS
 * objects (bert-base-uncased's vocab.txt is a plain git file: its size and
 * hash are of the file itself). The ResNets are timm's copies of
 * torchvision's IMAGENET1K_V1 weights, with torchvision's tensor names.
 */
static const struct builtin {
	const char *name, *source;
	int64_t size;
	const char *sha256;
} builtins[] = {
	{ "bert-base-uncased", "/bert-base-uncased/resolve/main/vocab.txt", 231508,
	  "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3" },
	{ "bert-base-uncased", "/bert-base-uncased/resolve/main/model.safetensors", 440449768,
	  "68d45e234eb4a928074dfd868cead0219ab85354cc53d20e772753c6bb9169d3" },
	{ "resnet18", "/timm/resnet18.tv_in1k/resolve/main/model.safetensors", 46807446,
	  "694f673df6520a3158624e8a89af086f59923ee4cd7436fe5bc3bc71d295ad81" },
	{ "resnet34", "/timm/resnet34.tv_in1k/resolve/main/model.safetensors", 87278522,
	  "0bb82595a564991a9d424708b33f5d843f5aaed7f6c0886ff10849ff97022235" },
	{ "resnet50", "/timm/resnet50.tv_in1k/resolve/main/model.safetensors", 102469840,
	  "5d061a3c593d795bfe682d9b152bafbcf550579873492def3515b46db1189888" },
};

/* Which mmdb preset a model's weights fit, for the `mmdb run` flags. */
static const struct known {
	const char *name, *alias, *preset;
	int text;
} knowns[] = {
	{ "bert-base-uncased", "bert-base", "bert-base", 1 },
	{ "resnet18", NULL, "resnet18", 0 },
	{ "resnet34", NULL, "resnet34", 0 },
	{ "resnet50", NULL, "resnet50", 0 },
};

struct entry {
	char *name;   /* the model: the directory under <cache>/models */
	char *source; /* a path on the origin, or an http(s) URL */
	char *file;   /* the file name it is stored under */
	int64_t size;
	char sha256[65];
	char git_sha1[41]; /* instead of sha256: a hub repository's plain git file */
	int done; /* verified in the cache by this command */
};

struct entries {
	struct entry *v;
	size_t n, alloc;
};

void model_fetch_usage(FILE *f)
{
	fprintf(f,
		"       mmdb model fetch NAME[/FILE]... [--base-url URL] [--manifest FILE]\n"
		"       mmdb model fetch hf:ORG/NAME[@REVISION]... [--base-url URL]\n"
		"       mmdb model fetch --list [--manifest FILE] [--format table|csv|json]\n");
}

static void fetch_help(FILE *f)
{
	fputs("usage: mmdb model fetch NAME[/FILE]... [--base-url URL] [--manifest FILE]\n"
	      "       mmdb model fetch hf:ORG/NAME[@REVISION]... [--base-url URL]\n"
	      "       mmdb model fetch --list [--manifest FILE] [--format table|csv|json]\n"
	      "\n"
	      "Downloads pretrained files into <cache>/models/NAME/ and prints the\n"
	      "`mmdb run` flags that use them. Built in: bert-base-uncased (vocab.txt,\n"
	      "model.safetensors), resnet18, resnet34, resnet50 (torchvision's\n"
	      "IMAGENET1K_V1 weights, as timm's safetensors). Each file is checked\n"
	      "against its size and sha256; an interrupted download resumes where it\n"
	      "stopped; a file already fetched is not downloaded again. NAME/FILE\n"
	      "fetches one file, e.g. bert-base-uncased/vocab.txt alone.\n"
	      "\n"
	      "hf:ORG/NAME[@REVISION] fetches a Hugging Face BERT folder (config.json,\n"
	      "tokenizer_config.json, vocab.txt, model.safetensors) of that repository\n"
	      "and revision (main) into <cache>/models/ORG--NAME[@REVISION]/, for\n"
	      "`mmdb run --text-model DIR`: sizes and hashes come from the hub's file\n"
	      "listing (/api/models/ORG/NAME/tree/REVISION): the weights' sha256 (LFS),\n"
	      "the other files' git blob ids; the files from /ORG/NAME/resolve/REVISION/.\n"
	      "\n"
	      "  --base-url URL   fetch from URL instead of " ORIGIN " (a mirror):\n"
	      "                   URL replaces the scheme and host of each file's address\n"
	      "  --manifest FILE  more files, one a line: NAME SOURCE SIZE SHA256, where\n"
	      "                   SOURCE is a URL or a path under the base URL; a NAME\n"
	      "                   given there replaces the built-in files of that name\n"
	      "  --list           the files known, their sizes and hashes, and whether\n"
	      "                   they are in the cache\n",
	      f);
}

static void add_entry(struct entries *es, const char *name, const char *source, int64_t size,
		      const char *sha256)
{
	ALLOC_GROW(es->v, es->n + 1, es->alloc);
	struct entry *e = &es->v[es->n++];
	const char *q = source + strcspn(source, "?#"), *slash = q;
	while (slash > source && slash[-1] != '/')
		slash--;
	e->name = xstrdup(name);
	e->source = xstrdup(source);
	e->file = xstrndup(slash, (size_t)(q - slash));
	e->size = size;
	e->done = 0;
	e->git_sha1[0] = 0;
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha256);
	for (char *p = e->sha256; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static void free_entries(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		free(es->v[i].name);
		free(es->v[i].source);
		free(es->v[i].file);
	}
	free(es->v);
}

static int is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* A model name is also a directory name: letters, digits, '.', '_', '-'. */
static int good_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 128)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

static int good_sha256(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]))
			return 0;
	return n == 64;
}

/* Reads FILE's lines (NAME SOURCE SIZE SHA256) into es. 0 or error(). */
static int read_manifest(const char *path, struct entries *es)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int lineno = 0, ret = 0;
	if (!f)
		return error("cannot open '%s': %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *field[5], *save = NULL, what[PATH_MAX + 64];
		int n = 0;
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			ret = error("%s:%d: line too long", path, lineno);
			break;
		}
		for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 5; t = strtok_r(NULL, " \t\r\n", &save))
			field[n++] = t;
		if (!n || field[0][0] == '#')
			continue;
		if (n != 4) {
			ret = error("%s:%d: want 4 fields (NAME SOURCE SIZE SHA256), found %d%s", path,
				    lineno, n, n > 4 ? " or more" : "");
			break;
		}
		long size;
		snprintf(what, sizeof(what), "%s:%d: size", path, lineno);
		if (!good_name(field[0])) {
			ret = error("%s:%d: bad name '%s' (letters, digits, '.', '_', '-')", path, lineno,
				    field[0]);
			break;
		}
		if (parse_long(field[2], 0, LONG_MAX, what, &size)) {
			ret = -1;
			break;
		}
		if (!good_sha256(field[3])) {
			ret = error("%s:%d: sha256 '%s' is not 64 hex digits", path, lineno, field[3]);
			break;
		}
		add_entry(es, field[0], field[1], size, field[3]);
		if (!good_name(es->v[es->n - 1].file)) {
			ret = error("%s:%d: '%s' does not end in a usable file name", path, lineno, field[1]);
			break;
		}
	}
	if (!ret && ferror(f))
		ret = error("cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	return ret;
}

/* The built-in entries, less the names the manifest gives, then the manifest's. */
static int load_entries(const char *manifest, struct entries *es)
{
	struct entries m = {0};
	int ret = 0;
	if (manifest && read_manifest(manifest, &m)) {
		ret = -1;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++) {
		int replaced = 0;
		for (size_t j = 0; j < m.n && !replaced; j++)
			replaced = !strcmp(m.v[j].name, builtins[i].name);
		if (!replaced)
			add_entry(es, builtins[i].name, builtins[i].source, builtins[i].size, builtins[i].sha256);
	}
	for (size_t j = 0; j < m.n; j++) {
		for (size_t k = 0; k < es->n; k++)
			if (!strcmp(es->v[k].name, m.v[j].name) && !strcmp(es->v[k].file, m.v[j].file)) {
				ret = error("%s: two files named '%s' for '%s'", manifest, m.v[j].file,
					    m.v[j].name);
				goto out;
			}
		add_entry(es, m.v[j].name, m.v[j].source, m.v[j].size, m.v[j].sha256);
	}
out:
	free_entries(&m);
	return ret;
}

/* base (or ORIGIN) + the source's path; a URL without --base-url as it is. */
static void make_url(const char *base, const char *source, struct strbuf *url)
{
	const char *path = source;
	if (is_url(source)) {
		if (!base) {
			sb_adds(url, source);
			return;
		}
		path = strchr(strstr(source, "://") + 3, '/');
		if (!path)
			path = "/";
	}
	if (!base)
		base = ORIGIN;
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	sb_add(url, base, n);
	if (*path != '/')
		sb_addc(url, '/');
	sb_adds(url, path);
}

static void dest_path(const char *cache, const struct entry *e, struct strbuf *sb, int dir_only)
{
	sb_addf(sb, "%s/models/%s", cache, e->name);
	if (!dir_only)
		sb_addf(sb, "/%s", e->file);
}

static int64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : (int64_t)st.st_size;
}

/* 1 when the file at path is e's (size, then sha256 or git blob id); 0 when not; -1 on error. */
static int is_expected(const char *path, const struct entry *e, char *got, size_t got_n)
{
	char hex[65];
	if (file_size(path) != e->size) {
		snprintf(got, got_n, "%lld bytes", (long long)file_size(path));
		return 0;
	}
	if (e->git_sha1[0] ? git_blob_sha1_file(path, hex) : sha256_file(path, hex, NULL))
		return -1;
	snprintf(got, got_n, "%s %s", e->git_sha1[0] ? "git blob id" : "sha256", hex);
	return !strcmp(hex, e->git_sha1[0] ? e->git_sha1 : e->sha256);
}

/*
 * Makes <cache>/models/NAME/FILE the verified file: kept when it is already
 * there and right, else downloaded (resuming FILE.part). *state says which.
 * A file checked by its git blob id is downloaded as FILE.download (its
 * .part resumed the same way) and renamed once checked.
 */
static int fetch_entry(const char *cache, const struct entry *e, const char *base, int quiet,
		       const char **state)
{
	struct strbuf dir = STRBUF_INIT, dest = STRBUF_INIT, part = STRBUF_INIT, url = STRBUF_INIT,
		      dl = STRBUF_INIT;
	struct fetch_opts o;
	char got[128];
	int64_t have;
	int ret = 0, r;

	dest_path(cache, e, &dir, 1);
	dest_path(cache, e, &dest, 0);
	sb_addf(&dl, "%s%s", dest.buf, e->git_sha1[0] ? ".download" : "");
	sb_addf(&part, "%s.part", dl.buf);
	make_url(base, e->source, &url);
	if (mkdir_p(dir.buf, 0755)) {
		ret = -1;
		goto out;
	}
	have = file_size(dest.buf);
	if (have >= 0) {
		if ((r = is_expected(dest.buf, e, got, sizeof(got))) < 0) {
			ret = -1;
			goto out;
		}
		if (r) {
			*state = "up to date";
			goto out;
		}
		if (!quiet)
			fprintf(stderr, "mmdb: '%s' is not the expected file: fetching it again\n", dest.buf);
		if (unlink(dest.buf)) {
			ret = error("cannot remove '%s': %s", dest.buf, strerror(errno));
			goto out;
		}
	}
	have = file_size(part.buf);
	if (have > e->size && unlink(part.buf)) {
		ret = error("cannot remove '%s': %s", part.buf, strerror(errno));
		goto out;
	}
	if (have > 0 && have <= e->size && !quiet)
		fprintf(stderr, "mmdb: resuming '%s' at byte %lld of %lld\n", dest.buf, (long long)have,
			(long long)e->size);
	fetch_opts_init(&o);
	o.timeout = 0; /* large files: the stall limit ends a dead transfer */
	o.max_bytes = e->size;
	if (fetch_file(url.buf, dl.buf, e->git_sha1[0] ? NULL : e->sha256, &o, quiet)) {
		/* Nothing worth resuming from: an overlong .part. */
		if (file_size(part.buf) >= e->size)
			unlink(part.buf);
		ret = -1;
		goto out;
	}
	if (e->git_sha1[0]) {
		if ((r = is_expected(dl.buf, e, got, sizeof(got))) <= 0) {
			unlink(dl.buf);
			ret = r < 0 ? -1 : error("'%s' has %s, expected %lld bytes, git blob id %s (removed)",
						 url.buf, got, (long long)e->size, e->git_sha1);
			goto out;
		}
		if (rename(dl.buf, dest.buf)) {
			ret = error("cannot rename '%s' to '%s': %s", dl.buf, dest.buf, strerror(errno));
			goto out;
		}
	}
	if ((have = file_size(dest.buf)) != e->size) {
		unlink(dest.buf);
		ret = error("'%s' has %lld bytes, expected %lld (removed)", url.buf, (long long)have,
			    (long long)e->size);
		goto out;
	}
	*state = "fetched";
out:
	sb_release(&dir);
	sb_release(&dest);
	sb_release(&part);
	sb_release(&url);
	sb_release(&dl);
	return ret;
}

/* Appends s to sb quoted for a POSIX shell where it needs it. */
static void add_shell_word(struct strbuf *sb, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+:@=,-") ==
		      strlen(s)) {
		sb_adds(sb, s);
		return;
	}
	sb_addc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_adds(sb, "'\\''");
		else
			sb_addc(sb, *s);
	}
	sb_addc(sb, '\'');
}

static const struct known *find_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(knowns); i++)
		if (!strcmp(knowns[i].name, name))
			return &knowns[i];
	return NULL;
}

/* The `mmdb run` flags that use NAME's files, printed on stdout. */
static void print_run_flags(const char *cache, const struct entries *es, const char *name)
{
	const struct known *k = find_known(name);
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
	int any = 0;
	if (!k)
		return;
	sb_addf(&sb, "%s: mmdb run %s %s", name, k->text ? "--text-model" : "--image-model", k->preset);
	for (size_t i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i];
		const char *flag = NULL;
		size_t fl = strlen(e->file);
		if (strcmp(e->name, name) || !e->done)
			continue;
		if (!strcmp(e->file, "vocab.txt") && k->text)
			flag = "--vocab";
		else if (fl > 12 && !strcmp(e->file + fl - 12, ".safetensors"))
			flag = k->text ? "--text-weights" : "--image-weights";
		if (!flag)
			continue;
		sb_reset(&path);
		dest_path(cache, e, &path, 0);
		char *abs = realpath(path.buf, NULL);
		sb_addf(&sb, " %s ", flag);
		add_shell_word(&sb, abs ? abs : path.buf);
		free(abs);
		any = 1;
	}
	if (any)
		printf("%s\n", sb.buf);
	sb_release(&sb);
	sb_release(&path);
}

static int list_entries(const char *cache, const struct entries *es, int fmt)
{
	struct table *t = table_new(5);
	struct strbuf path = STRBUF_INIT;
	table_set_header(t, 0, "name");
	table_set_header(t, 1, "file");
	table_set_header(t, 2, "bytes");
	table_set_header(t, 3, "sha256");
	table_set_header(t, 4, "cache");
	for (size_t i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i];
		int64_t have, part;
		sb_reset(&path);
		dest_path(cache, e, &path, 0);
		have = file_size(path.buf);
		sb_adds(&path, ".part");
		part = file_size(path.buf);
		table_add_row(t);
		table_cell_text(t, 0, e->name);
		table_cell_text(t, 1, e->file);
		table_cell_int(t, 2, e->size);
		table_cell_text(t, 3, e->sha256);
		/* by size only: hashing every file would take seconds */
		table_cell_text(t, 4, have == e->size ? "present" : have >= 0 ? "differs" :
				      part >= 0 ? "partial" : "absent");
	}
	table_print(t, stdout, fmt);
	table_free(t);
	sb_release(&path);
	return 0;
}

/* NAME as the entries spell it (an alias such as bert-base resolved), or NULL. */
static const char *resolve_name(const struct entries *es, const char *name)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < es->n; i++)
			if (!strcmp(es->v[i].name, name))
				return es->v[i].name;
		for (size_t i = 0; i < ARRAY_SIZE(knowns) && !pass; i++)
			if (knowns[i].alias && !strcmp(knowns[i].alias, name)) {
				name = knowns[i].name;
				break;
			}
	}
	return NULL;
}

/* A repository or revision name part: letters, digits, '.', '_', '-' (not leading '.'). */
static int good_part(const char *s, size_t n)
{
	if (!n || n > 96 || *s == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/*
 * hf:ORG/NAME[@REV]: the hub's listing of the repository at REV gives each
 * file's size and hash; the four files of a BERT folder are then fetched
 * and checked as the named models' are, and the folder read as `mmdb run`
 * will read it.
 */
static int fetch_hf(const char *cache, const char *spec, const char *base, int quiet)
{
	const char *p = spec + 3, *slash = strchr(p, '/'), *at = strchr(p, '@');
	struct strbuf name = STRBUF_INIT, what = STRBUF_INIT, url = STRBUF_INIT, listing = STRBUF_INIT,
		      src = STRBUF_INIT, dir = STRBUF_INIT;
	struct hf_hub_file files[4];
	struct entries es = {0};
	struct fetch_opts o;
	struct hf_model *hf = NULL;
	char org[100], repo[100], rev[100];
	int ret = -1;

	if (!at)
		at = p + strlen(p);
	if (!slash || slash > at || !good_part(p, (size_t)(slash - p)) ||
	    !good_part(slash + 1, (size_t)(at - slash - 1)) || (*at && !good_part(at + 1, strlen(at + 1))))
		return usage_error("model fetch: '%s' is not hf:ORG/NAME[@REVISION] (letters, digits, "
				   "'.', '_', '-')", spec);
	snprintf(org, sizeof org, "%.*s", (int)(slash - p), p);
	snprintf(repo, sizeof repo, "%.*s", (int)(at - slash - 1), slash + 1);
	snprintf(rev, sizeof rev, "%s", *at ? at + 1 : "main");
	sb_addf(&name, "%s--%s", org, repo);
	if (strcmp(rev, "main"))
		sb_addf(&name, "@%s", rev);
	sb_addf(&what, "'hf:%s/%s@%s'", org, repo, rev);
	sb_addf(&dir, "%s/models/%s", cache, name.buf);
	if (mkdir_p(dir.buf, 0755))
		goto out;
	/* the listing, fetched afresh each time */
	sb_addf(&src, "/api/models/%s/%s/tree/%s", org, repo, rev);
	make_url(base, src.buf, &url);
	sb_addf(&listing, "%s/.listing.json.part", dir.buf);
	unlink(listing.buf); /* never resumed: the listing may have changed */
	listing.buf[listing.len -= 5] = 0;
	unlink(listing.buf);
	fetch_opts_init(&o);
	o.max_bytes = 8 << 20;
	if (fetch_file(url.buf, listing.buf, NULL, &o, 1))
		goto out;
	int bad = hf_hub_tree_read(listing.buf, what.buf, hf_model_files, 4, files);
	unlink(listing.buf);
	if (bad)
		goto out;
	for (size_t i = 0; i < 4; i++) {
		sb_reset(&src);
		sb_addf(&src, "/%s/%s/resolve/%s/%s", org, repo, rev, hf_model_files[i]);
		add_entry(&es, name.buf, src.buf, files[i].size, files[i].sha256);
		snprintf(es.v[i].git_sha1, sizeof es.v[i].git_sha1, "%s", files[i].git_sha1);
	}
	for (size_t i = 0; i < es.n; i++) {
		const struct entry *e = &es.v[i];
		const char *state = "";
		if (fetch_entry(cache, e, base, quiet, &state))
			goto out;
		printf("%s/%s: %s (%lld bytes, %s %.12s...)\n", e->name, e->file, state, (long long)e->size,
		       e->git_sha1[0] ? "git blob" : "sha256", e->git_sha1[0] ? e->git_sha1 : e->sha256);
	}
	if (hf_model_open(dir.buf, &hf))
		goto out;
	char *abs = realpath(dir.buf, NULL);
	sb_reset(&src);
	add_shell_word(&src, abs ? abs : dir.buf);
	free(abs);
	printf("%s: mmdb run --text-model %s\n", spec, src.buf);
	ret = 0;
out:
	hf_model_free(hf);
	free_entries(&es);
	sb_release(&name);
	sb_release(&what);
	sb_release(&url);
	sb_release(&listing);
	sb_release(&src);
	sb_release(&dir);
	return ret < 0 ? 1 : ret;
}

int model_fetch(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "base-url", required_argument, NULL, 'b' },
		{ "manifest", required_argument, NULL, 'm' },
		{ "list", no_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *base = NULL, *manifest = NULL;
	int c, list = 0, fmt = FMT_TABLE, ret = 0;
	struct entries es = {0};
	const char **names = NULL;
	size_t n_names = 0;

	optind = 0; /* a fresh getopt: options may follow the names */
	while ((c = getopt_long(argc, argv, "b:m:lf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': base = optarg; break;
		case 'm': manifest = optarg; break;
		case 'l': list = 1; break;
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("model fetch: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h': fetch_help(stdout); return 0;
		default: fetch_help(stderr); return 2;
		}
	}
	if (base && !is_url(base))
		return usage_error("model fetch: --base-url '%s' is not an http:// or https:// URL", base);
	if (!list && optind == argc)
		return usage_error("model fetch: name a model (bert-base-uncased, resnet18, resnet34, "
				   "resnet50) or give --list");
	if (list && optind < argc)
		return usage_error("model fetch: --list takes no names");
	/* hf:ORG/NAME[@REV] names: each fetched on its own, first */
	for (int i = optind; i < argc; i++) {
		if (strncmp(argv[i], "hf:", 3))
			continue;
		if ((ret = fetch_hf(ctx->cache_dir, argv[i], base, ctx->quiet)))
			goto out;
		memmove(argv + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof(*argv));
		argc--;
		i--;
	}
	if (!list && optind == argc)
		goto out;
	if (load_entries(manifest, &es)) {
		ret = 1;
		goto out;
	}
	if (list) {
		ret = list_entries(ctx->cache_dir, &es, fmt) ? 1 : 0;
		goto out;
	}
	names = xcalloc((size_t)(argc - optind), sizeof(*names));
	for (int i = optind; i < argc; i++) {
		char *arg = xstrdup(argv[i]), *file = strchr(arg, '/');
		const char *name;
		size_t k, matched = 0;
		if (file)
			*file++ = 0;
		/* which files: all of NAME's, or the one named */
		name = resolve_name(&es, arg);
		for (k = 0; name && k < es.n; k++)
			if (!strcmp(es.v[k].name, name) && (!file || !strcmp(es.v[k].file, file))) {
				es.v[k].done = -1;
				matched++;
			}
		if (!matched)
			ret = usage_error("model fetch: unknown %s '%s' (see mmdb model fetch --list)",
					  file ? "file" : "model", argv[i]);
		free(arg);
		if (ret)
			goto out;
		for (k = 0; k < n_names && strcmp(names[k], name); k++)
			;
		if (k == n_names)
			names[n_names++] = name;
	}
	for (size_t j = 0; j < es.n; j++) {
		struct entry *e = &es.v[j];
		const char *state = "";
		if (e->done != -1)
			continue;
		e->done = 0;
		if (fetch_entry(ctx->cache_dir, e, base, ctx->quiet, &state)) {
			ret = 1;
			goto out;
		}
		e->done = 1;
		printf("%s/%s: %s (%lld bytes, sha256 %.12s...)\n", e->name, e->file, state,
		       (long long)e->size, e->sha256);
	}
	for (size_t i = 0; i < n_names; i++)
		print_run_flags(ctx->cache_dir, &es, names[i]);
out:
	free(names);
	free_entries(&es);
	return ret;
}
