/*
 * mmdb env: versions of mmdb and the libraries it uses, CUDA devices, and
 * the CPU threads libtorch will use.
 */
#include "cmds.h"
#include "../db.h"
#include "../fetch.h"
#include "../image.h"
#include "../output.h"
#include "../tokenizer.h"
#include "../torch/mt.h"
#include "../util.h"
#include "../../ui/tui.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_env(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, fmt = FMT_TABLE, i, ndev = 0, torch;
	struct table *t;
	char name[256];
	struct strbuf sb = STRBUF_INIT;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("env: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h':
			printf("usage: mmdb env [--format table|csv|json]\n\nPrints versions of mmdb, "
			       "SQLite, libtorch, libcurl, libarchive, ncurses,\nthe image libraries; CUDA "
			       "availability and devices; the CPU threads libtorch uses.\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("env: unexpected argument '%s'", argv[optind]);

	/* without the libtorch wrapper the rest is still worth printing */
	torch = mt_load() == 0;
	if (!torch)
		error("env: %s", mt_last_error());
	if (torch && mt_cuda_available())
		ndev = mt_cuda_device_count();
	for (i = 0; i < ndev; i++) {
		if (mt_cuda_device_name(i, name, sizeof(name)))
			snprintf(name, sizeof(name), "?");
		sb_addf(&sb, "%s%d: %s", i ? "; " : "", i, name);
	}
	t = table_new(2);
	table_set_header(t, 0, "key");
	table_set_header(t, 1, "value");
#define ROW(k, v) do { table_add_row(t); table_cell_text(t, 0, k); table_cell_text(t, 1, v); } while (0)
	ROW("mmdb", MMDB_VERSION);
	ROW("sqlite", db_sqlite_version());
	ROW("schema", NULL);
	table_cell_int(t, 1, db_schema_version());
	ROW("libtorch", torch ? mt_torch_version() : "not loaded");
	ROW("ncurses", tui_curses_version());
	ROW("libcurl", fetch_lib_version());
	ROW("utf8proc", tok_utf8proc_version());
	ROW("unicode", tok_unicode_version());
	ROW("libjpeg-turbo", img_libjpeg_version());
	ROW("libpng", img_libpng_version());
	ROW("giflib", img_giflib_version());
	ROW("libwebp", img_libwebp_version());
	ROW("cuda", ndev ? "available" : "not available");
	ROW("cuda_devices", NULL);
	table_cell_int(t, 1, ndev);
	ROW("devices", sb.len ? sb.buf : "");
	ROW("cpu_threads", NULL);
	if (torch)
		table_cell_int(t, 1, mt_get_num_threads());
	ROW("database", ctx->db_path);
	ROW("cache", ctx->cache_dir);
#undef ROW
	if (fmt == FMT_JSON) {
		table_print_object(t, stdout);
	} else {
		table_print(t, stdout, fmt);
	}
	table_free(t);
	sb_release(&sb);
	return torch ? 0 : 1;
}
