/*
 * scr_post: one post in full: title, subreddit, labels in all three
 * schemes, the run's probabilities for every class, and its image (or why
 * there is none).
 */
#include "ui.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct post_screen {
	struct screen base;
	int64_t run;
	char *post_id;
	struct post_detail p;
	char *img_path;      /* <cache>/objects/ab/<sha256> when the images row has a hash */
	int img_present;
};

static int post_reload(struct app *app, struct screen *base)
{
	struct post_screen *s = (struct post_screen *)base;
	struct stat st;
	int rc;
	post_detail_release(&s->p);
	free(s->img_path);
	s->img_path = NULL;
	s->img_present = 0;
	rc = model_post(app->db, s->run, s->post_id, &s->p);
	if (rc == MODEL_GONE) {
		error("post '%s' no longer exists", s->post_id);
		return MODEL_GONE;
	}
	if (rc)
		return -1;
	if (s->p.img_sha256 && strlen(s->p.img_sha256) >= 2 && !strchr(s->p.img_sha256, '/')) {
		struct strbuf sb = STRBUF_INIT;
		sb_addf(&sb, "%s/objects/%.2s/%s", app->cache_dir, s->p.img_sha256, s->p.img_sha256);
		s->img_path = sb_detach(&sb);
		s->img_present = !stat(s->img_path, &st) && S_ISREG(st.st_mode);
	}
	return 0;
}

/* Why the post has no picture, or what the picture is. */
static void image_status(const struct post_screen *s, char *buf, size_t n)
{
	const struct post_detail *p = &s->p;
	if (!p->has_image_row) {
		snprintf(buf, n, "image: none (no images row: run 'mmdb images fetch' or 'import')");
	} else if (strcmp(p->img_status ? p->img_status : "", "ok")) {
		snprintf(buf, n, "image: %s%s%s", p->img_status ? p->img_status : "?",
			 p->img_reason ? " (" : "", p->img_reason ? p->img_reason : "");
		if (p->img_reason)
			strncat(buf, ")", n - strlen(buf) - 1);
	} else if (!s->img_present) {
		snprintf(buf, n, "image: ok in the database, but missing from the cache (%s)",
			 s->img_path ? s->img_path : "no sha256");
	} else {
		char dims[48] = "";
		if (p->img_width > 0 && p->img_height > 0)
			snprintf(dims, sizeof(dims), " %lldx%lld", (long long)p->img_width, (long long)p->img_height);
		snprintf(buf, n, "image: ok (%s%s) %s", p->img_format ? p->img_format : "?", dims, s->img_path);
	}
}

static void post_draw(struct app *app, struct screen *base)
{
	struct post_screen *s = (struct post_screen *)base;
	const struct post_detail *p = &s->p;
	static const char *const scheme[3] = { "2-way", "3-way", "6-way" };
	char buf[512], num[24];
	int y = 2, i, x;

	ui_title(app, "mmdb post %s  r/%s  %s split%s", p->id ? p->id : "", p->subreddit ? p->subreddit : "?",
		 p->split ? p->split : "?", s->run > 0 ? "" : "");
	ui_attr(0, A_BOLD);
	y += ui_text_wrap(y, 0, COLS, 3, p->title ? p->title : "(no title)");
	ui_attr_off();
	y++;
	ui_textf(y++, 0, COLS, "subreddit r/%s   author %s   domain %s   score %s   comments %s",
		 p->subreddit ? p->subreddit : "-", p->author ? p->author : "-", p->domain ? p->domain : "-",
		 p->score >= 0 ? fmt_num(buf, sizeof(buf), "%.0f", (double)p->score) : "-",
		 p->num_comments >= 0 ? fmt_num(num, sizeof(num), "%.0f", (double)p->num_comments) : "-");
	x = ui_text(y, 0, COLS, "labels:");
	for (i = 0; i < 3; i++) {
		if (p->label[i] >= 0)
			snprintf(buf, sizeof(buf), "  %s %d %s", scheme[i], p->label[i], p->label_name[i]);
		else
			snprintf(buf, sizeof(buf), "  %s -", scheme[i]);
		x += ui_text(y, x, COLS - x, buf);
	}
	y += 2;
	if (s->run > 0 && p->has_pred) {
		int wrong = p->pred != p->true_label;
		ui_attr(wrong ? PAIR_BAD : PAIR_GOOD, A_BOLD);
		ui_textf(y++, 0, COLS, "run %lld: predicted %d %s, true %d %s: %s", (long long)s->run, p->pred,
			 p->pred < p->cls.n ? p->cls.name[p->pred] : "?", p->true_label,
			 p->true_label >= 0 && p->true_label < p->cls.n ? p->cls.name[p->true_label] : "?",
			 wrong ? "wrong" : "correct");
		ui_attr_off();
		for (i = 0; i < p->nprobs && y < LINES - 3; i++, y++) {
			int mark = i == p->pred || i == p->true_label;
			ui_attr(0, mark ? A_BOLD : A_NORMAL);
			ui_textf(y, 2, 26, "%d %s%s", i, i < p->cls.n ? p->cls.name[i] : "?",
				 i == p->true_label ? " (true)" : "");
			ui_attr(i == p->pred ? PAIR_SERIES + 1 : PAIR_SERIES, A_BOLD);
			ui_bar(y, 30, 30, p->probs[i]);
			ui_attr_off();
			ui_text(y, 62, 8, fmt_num(num, sizeof(num), "%.4f", p->probs[i]));
		}
	} else if (s->run > 0) {
		ui_textf(y++, 0, COLS, "run %lld has no prediction for this post", (long long)s->run);
	}
	y++;
	image_status(s, buf, sizeof(buf));
	ui_text_wrap(y, 0, COLS, 2, buf);
	ui_hints(app, "q back  ? help");
}

static int post_key(struct app *app, struct screen *base, enum action a)
{
	(void)app; (void)base;
	return a == ACT_BACK ? K_BACK : K_NONE;
}

static void post_release(struct screen *base)
{
	struct post_screen *s = (struct post_screen *)base;
	post_detail_release(&s->p);
	free(s->img_path);
	free(s->post_id);
	free(s);
}

static const struct screen_ops post_ops = {
	SCR_POST, "post", post_reload, post_draw, post_key, post_release,
};

struct screen *post_screen_new(struct app *app, int64_t run, const char *post_id)
{
	struct post_screen *s = xcalloc(1, sizeof(*s));
	(void)app;
	s->base.ops = &post_ops;
	s->base.stale = 1;
	s->run = run;
	s->post_id = xstrdup(post_id);
	return &s->base;
}
