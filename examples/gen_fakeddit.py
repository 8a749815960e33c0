#!/usr/bin/env python3
"""Synthetic Fakeddit-shaped dataset for mmdb's demo and tests.

Writes <out>/multimodal_train.tsv, multimodal_validate.tsv and
multimodal_test_public.tsv (the 16 Fakeddit columns, tab-separated, with a
header) and <out>/images/<id>.jpg, one JPEG per post.

The 6-way label depends on the title AND the image together:
    label_6way = 2 * topic + tint
where topic (0..2) is what the title talks about (a few topic words mixed
with neutral filler) and tint (0..1) is the colour of the large shape in the
image (warm or cool, drawn over a noisy background with distractor shapes).
A title alone tells the topic but not the tint, an image alone the tint but
not the topic: with balanced classes a text-only model can reach at most
about 1/2 and an image-only model about 1/3 of the posts, a model that sees
both nearly all of them. A small share of labels is flipped at random
(--noise) so no model is perfect.

The subreddit column is derived from the label, as in the real data (where
labels were assigned per subreddit); mmdb never uses it as a feature.

Usage: gen_fakeddit.py --out DIR [--train N] [--validate N] [--test N]
                       [--seed S] [--image-px P | --image-width W] [--noise P]
                       [--jobs N]
The output depends only on the arguments (not on --jobs).
"""
import argparse
import multiprocessing
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

COLUMNS = ["author", "clean_title", "created_utc", "domain", "hasImage", "id",
           "image_url", "linked_submission_id", "num_comments", "score",
           "subreddit", "title", "upvote_ratio", "2_way_label", "3_way_label",
           "6_way_label"]

TOPICS = [
    ["senator", "election", "congress", "vote", "president", "ballot", "policy", "mayor"],
    ["puppy", "kitten", "zoo", "dolphin", "parrot", "tiger", "horse", "owl"],
    ["rocket", "planet", "robot", "laser", "satellite", "asteroid", "telescope", "galaxy"],
]
FILLER = ["the", "a", "new", "local", "man", "woman", "says", "after", "this", "old",
          "found", "in", "city", "photo", "today", "first", "big", "small", "my",
          "our", "finally", "shows", "near", "park", "street", "week", "every", "still",
          "looks", "like", "when", "you", "see", "what", "happened", "here", "just"]
SUBREDDITS = ["photoshopbattles", "theonion", "mildlyinteresting", "fakealbumcovers",
              "psbattle_artwork", "propagandaposters"]
WARM = [(200, 40, 30), (230, 120, 20), (210, 60, 120)]
COOL = [(30, 60, 200), (20, 150, 160), (60, 160, 60)]
# 6-way -> 3-way: true; fake with true text; fake with false text.
THREE = {0: 0, 1: 2, 2: 1, 3: 2, 4: 1, 5: 2}
ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def make_title(rng, topic):
    words = list(rng.choice(FILLER, size=rng.integers(4, 9)))
    for _ in range(rng.integers(1, 3)):
        words.insert(rng.integers(0, len(words) + 1), rng.choice(TOPICS[topic]))
    return " ".join(words)


def make_image(rng, tint, w, h):
    px = min(w, h)
    bg = rng.integers(90, 170, size=(h, w, 3), dtype=np.int16)
    bg += rng.integers(-40, 40, size=(h, w, 1), dtype=np.int16)
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 4)):  # grey distractors
        x, y = rng.integers(0, w), rng.integers(0, h)
        r = int(rng.integers(px // 16, px // 6))
        g = int(rng.integers(40, 220))
        draw.rectangle([x - r, y - r, x + r, y + r], fill=(g, g, g))
    colour = (WARM if tint == 0 else COOL)[rng.integers(0, 3)]
    colour = tuple(int(np.clip(c + rng.integers(-25, 26), 0, 255)) for c in colour)
    r = int(rng.integers(px // 5, px // 3))
    x, y = rng.integers(r, w - r), rng.integers(r, h - r)
    if rng.random() < 0.5:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    else:
        draw.rectangle([x - r, y - r, x + r, y + r], fill=colour)
    return img


def render(job):
    """Writes one image; job = (path, tint, seed, w, h)."""
    path, tint, seed, w, h = job
    make_image(np.random.default_rng(seed), tint, w, h).save(path, quality=90)


def write_split(args, rng, name, split, n, used, t0, jobs):
    path = os.path.join(args.out, name)
    imgdir = os.path.join(args.out, "images")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\t".join(COLUMNS) + "\n")
        for i in range(n):
            while True:
                pid = "".join(rng.choice(list(ID_CHARS), size=6))
                if pid not in used:
                    used.add(pid)
                    break
            topic, tint = int(rng.integers(0, 3)), int(rng.integers(0, 2))
            label = 2 * topic + tint
            if rng.random() < args.noise:
                label = int(rng.integers(0, 6))
            title = make_title(rng, topic)
            jobs.append((os.path.join(imgdir, pid + ".jpg"), tint, int(rng.integers(0, 2**63)),
                         args.width, args.height))
            row = [
                "user%d" % rng.integers(0, 500) if rng.random() > 0.05 else "",
                title,
                "%.1f" % (t0 + int(rng.integers(0, 3e7))),
                "i.redd.it",
                "True",
                pid,
                "https://i.redd.it/%s.jpg" % pid,
                "",
                "%.1f" % rng.integers(0, 60),
                str(int(rng.integers(1, 500))),
                SUBREDDITS[label],
                title.capitalize(),
                "%.2f" % rng.uniform(0.5, 1.0),
                "1" if label == 0 else "0",
                str(THREE[label]),
                str(label),
            ]
            f.write("\t".join(row) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--train", type=int, default=1200)
    ap.add_argument("--validate", type=int, default=300)
    ap.add_argument("--test", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--image-px", type=int, default=64, help="square images of P x P")
    ap.add_argument("--image-width", type=int, help="images W wide and 3/4 W high")
    ap.add_argument("--noise", type=float, default=0.03)
    ap.add_argument("--jobs", type=int, default=1, help="processes writing images")
    args = ap.parse_args()
    if args.image_width:
        args.width, args.height = args.image_width, max(16, round(args.image_width * 3 / 4))
    else:
        args.width = args.height = args.image_px
    if min(args.train, args.validate, args.test) < 0 or min(args.width, args.height) < 16:
        sys.exit("gen_fakeddit.py: counts must be >= 0 and images at least 16 px")
    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    rng = np.random.default_rng(args.seed)
    used = set()
    t0 = 1.5e9
    jobs = []
    for name, split, n in (("multimodal_train.tsv", "train", args.train),
                           ("multimodal_validate.tsv", "validate", args.validate),
                           ("multimodal_test_public.tsv", "test", args.test)):
        write_split(args, rng, name, split, n, used, t0, jobs)
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            pool.map(render, jobs, chunksize=64)
    else:
        for job in jobs:
            render(job)
    print("wrote %d posts and their images to %s" %
          (args.train + args.validate + args.test, args.out))


if __name__ == "__main__":
    main()
