/*
 * scr_post: one post in full: title, subreddit, labels in all three
 * schemes, the run's probabilities for every class, and its image (or why
 * there is none).
 */
#include "ui.h"
#include "text.h"
#include "thumb.h"

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
	int full;            /* the image alone on the screen */
	struct thumb thumb;  /* decoded for the current window size */
	int tried;           /* thumb_load ran (thumb.why says why it failed) */
};

/* Where the picture goes: the whole window, or right of the details when wide. */
static int image_box(const struct post_screen *s, int *y, int *x, int *w, int *h)
{
	if (s->full) {
		*y = 1; *x = 0; *w = COLS; *h = LINES - 3;
		return 1;
	}
	if (COLS < 100)
		return 0;
	*y = 2; *x = 72; *w = COLS - 73; *h = LINES - 4;
	return *w >= 8 && *h >= 4;
}

static int post_reload(struct app *app, struct screen *base)
{
	struct post_screen *s = (struct post_screen *)base;
	struct stat st;
	int rc;
	int by, bx, bw, bh;
	post_detail_release(&s->p);
	thumb_release(&s->thumb);
	s->tried = 0;
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
	if (s->img_present && image_box(s, &by, &bx, &bw, &bh)) {
		thumb_load(&s->thumb, s->img_path, bw, bh);
		s->tried = 1;
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
		snprintf(buf, n, "image: ok (%s%s)", p->img_format ? p->img_format : "?", dims);
		if (s->tried && !s->thumb.rgb) {
			snprintf(buf + strlen(buf), n - strlen(buf), " %s: %s", s->img_path, s->thumb.why);
		} else if (!s->tried) {
			strncat(buf, "  (i: draw it)", n - strlen(buf) - 1);
		} else {
			snprintf(buf + strlen(buf), n - strlen(buf), "  drawn at %dx%d of %dx%d pixels",
				 s->thumb.w, s->thumb.h, s->thumb.src_w, s->thumb.src_h);
		}
	}
}

static void post_draw(struct app *app, struct screen *base)
{
	struct post_screen *s = (struct post_screen *)base;
	const struct post_detail *p = &s->p;
	static const char *const scheme[3] = { "2-way", "3-way", "6-way" };
	char buf[512], num[24];
	int y = 2, i, x, tw = COLS, by, bx, bw, bh;

	ui_title(app, "mmdb post %s  r/%s  %s split", p->id ? p->id : "", p->subreddit ? p->subreddit : "?",
		 p->split ? p->split : "?");
	if (s->full) {
		image_status(s, buf, sizeof(buf));
		if (s->thumb.rgb && image_box(s, &by, &bx, &bw, &bh))
			ui_image(app, by, bx + (bw - s->thumb.w) / 2, s->thumb.rgb, s->thumb.w, s->thumb.h);
		ui_text(LINES - 2, 0, COLS, buf);
		ui_hints(app, "i details  q back  ? help");
		return;
	}
	/* Text keeps left of an inline picture. */
	if (s->thumb.rgb && image_box(s, &by, &bx, &bw, &bh))
		tw = bx - 1;
	ui_attr(0, A_BOLD);
	y += ui_text_wrap(y, 0, tw, 3, p->title ? p->title : "(no title)");
	ui_attr_off();
	y++;
	ui_textf(y++, 0, tw, "subreddit r/%s   author %s   domain %s   score %s   comments %s",
		 p->subreddit ? p->subreddit : "-", p->author ? p->author : "-", p->domain ? p->domain : "-",
		 p->score >= 0 ? fmt_num(buf, sizeof(buf), "%.0f", (double)p->score) : "-",
		 p->num_comments >= 0 ? fmt_num(num, sizeof(num), "%.0f", (double)p->num_comments) : "-");
	x = ui_text(y, 0, tw, "labels:");
	for (i = 0; i < 3; i++) {
		if (p->label[i] >= 0)
			snprintf(buf, sizeof(buf), "  %s %d %s", scheme[i], p->label[i], p->label_name[i]);
		else
			snprintf(buf, sizeof(buf), "  %s -", scheme[i]);
		x += ui_text(y, x, tw - x, buf);
	}
	y += 2;
	if (s->run > 0 && p->has_pred) {
		int wrong = p->pred != p->true_label;
		ui_attr(wrong ? PAIR_BAD : PAIR_GOOD, A_BOLD);
		ui_textf(y++, 0, tw, "run %lld: predicted %d %s, true %d %s: %s", (long long)s->run, p->pred,
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
		ui_textf(y++, 0, tw, "run %lld has no prediction for this post", (long long)s->run);
	}
	y++;
	image_status(s, buf, sizeof(buf));
	ui_text_wrap(y, 0, tw, 3, buf);
	if (s->thumb.rgb && image_box(s, &by, &bx, &bw, &bh))
		ui_image(app, by, bx, s->thumb.rgb, s->thumb.w, s->thumb.h);
	ui_hints(app, "i image  q back  ? help");
}

static int post_key(struct app *app, struct screen *base, enum action a)
{
	struct post_screen *s = (struct post_screen *)base;
	(void)app;
	if (a == ACT_IMAGE) {
		s->full = !s->full;
		return K_RELOAD; /* the picture is scaled to its new box */
	}
	if (a == ACT_BACK && s->full) {
		s->full = 0;
		return K_RELOAD;
	}
	return a == ACT_BACK ? K_BACK : K_NONE;
}

static void post_release(struct screen *base)
{
	struct post_screen *s = (struct post_screen *)base;
	post_detail_release(&s->p);
	thumb_release(&s->thumb);
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
