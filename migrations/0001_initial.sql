-- 0001: datasets, ingests, posts, comments, images, vocabularies, runs and
-- their metrics, predictions, and the views SQL users read.

CREATE TABLE datasets (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

-- One row per file given to `mmdb ingest`.
CREATE TABLE ingests (
  id                 INTEGER PRIMARY KEY,
  dataset_id         INTEGER NOT NULL REFERENCES datasets(id),
  path               TEXT NOT NULL,
  kind               TEXT NOT NULL DEFAULT 'posts' CHECK (kind IN ('posts','comments')),
  split              TEXT CHECK (split IN ('train','validate','test')),
  size               INTEGER,
  sha256             TEXT,
  status             TEXT NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running','completed','failed')),
  records_ok         INTEGER NOT NULL DEFAULT 0,
  records_bad        INTEGER NOT NULL DEFAULT 0,
  records_unchanged  INTEGER NOT NULL DEFAULT 0,
  records_updated    INTEGER NOT NULL DEFAULT 0,
  started_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  finished_at        TEXT,
  seconds            REAL,
  mmdb_version       TEXT NOT NULL
);

-- Fakeddit posts: every column typed, labels NULL where the file lacks them.
CREATE TABLE posts (
  id                    TEXT PRIMARY KEY,
  dataset_id            INTEGER NOT NULL REFERENCES datasets(id),
  split                 TEXT NOT NULL CHECK (split IN ('train','validate','test')),
  author                TEXT,
  clean_title           TEXT,
  title                 TEXT,
  created_utc           INTEGER,
  domain                TEXT,
  has_image             INTEGER,
  image_url             TEXT,
  linked_submission_id  TEXT,
  num_comments          INTEGER,
  score                 INTEGER,
  subreddit             TEXT,
  upvote_ratio          REAL,
  label_2way            INTEGER CHECK (label_2way BETWEEN 0 AND 1),
  label_3way            INTEGER CHECK (label_3way BETWEEN 0 AND 2),
  label_6way            INTEGER CHECK (label_6way BETWEEN 0 AND 5),
  ingest_id             INTEGER REFERENCES ingests(id),
  line                  INTEGER
);
CREATE INDEX posts_split ON posts(split, label_6way);

-- Records that could not be ingested, with where and why.
CREATE TABLE ingest_errors (
  id         INTEGER PRIMARY KEY,
  ingest_id  INTEGER NOT NULL REFERENCES ingests(id) ON DELETE CASCADE,
  file       TEXT NOT NULL,
  line       INTEGER,
  column     TEXT,
  reason     TEXT NOT NULL,
  record     TEXT
);
CREATE INDEX ingest_errors_ingest ON ingest_errors(ingest_id);

CREATE TABLE comments (
  id             TEXT PRIMARY KEY,
  submission_id  TEXT,
  parent_id      TEXT,
  author         TEXT,
  body           TEXT,
  ups            INTEGER,
  is_top_level   INTEGER,
  created_utc    INTEGER,
  ingest_id      INTEGER REFERENCES ingests(id)
);
CREATE INDEX comments_submission ON comments(submission_id);

-- Label names per scheme, for readable SQL.
CREATE TABLE label_names (
  scheme  TEXT NOT NULL CHECK (scheme IN ('2way','3way','6way')),
  label   INTEGER NOT NULL,
  name    TEXT NOT NULL,
  PRIMARY KEY (scheme, label)
) WITHOUT ROWID;
INSERT INTO label_names VALUES
  ('2way',0,'fake'),('2way',1,'true'),
  ('3way',0,'true'),('3way',1,'fake with true text'),('3way',2,'fake with false text'),
  ('6way',0,'true'),('6way',1,'satire/parody'),('6way',2,'false connection'),
  ('6way',3,'imposter content'),('6way',4,'manipulated content'),('6way',5,'misleading content');

-- The fate of each post's image; bytes live in <cache>/objects/ab/<sha256>.
CREATE TABLE images (
  post_id          TEXT PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
  url              TEXT,
  status           TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('ok','pending','removed','not_image','http_error',
                                     'timeout','too_large','corrupt','failed')),
  reason           TEXT,
  http_status      INTEGER,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  REAL,
  source           TEXT CHECK (source IN ('fetch','import')),
  sha256           TEXT,
  bytes            INTEGER,
  format           TEXT CHECK (format IN ('jpeg','png','gif','webp')),
  width            INTEGER,
  height           INTEGER,
  updated_at       TEXT
);
CREATE INDEX images_status ON images(status);
CREATE INDEX images_sha256 ON images(sha256);

-- WordPiece vocabularies runs used (built from titles or given as files).
CREATE TABLE vocabs (
  id          INTEGER PRIMARY KEY,
  path        TEXT NOT NULL,
  sha256      TEXT NOT NULL,
  size        INTEGER NOT NULL,
  source      TEXT NOT NULL CHECK (source IN ('built','file')),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  UNIQUE (path, sha256)
);

-- One row per training run: common hyperparameters typed, all of them in config.
CREATE TABLE runs (
  id               INTEGER PRIMARY KEY,
  name             TEXT,
  status           TEXT NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running','completed','early_stopped','failed',
                                     'interrupted','crashed')),
  reason           TEXT,
  notes            TEXT,
  preset           TEXT,
  label            TEXT NOT NULL DEFAULT '6way' CHECK (label IN ('2way','3way','6way')),
  modalities       TEXT NOT NULL DEFAULT 'text,image',
  fusion           TEXT,
  text_model       TEXT,
  image_model      TEXT,
  lr               REAL,
  batch_size       INTEGER,
  epochs           INTEGER,
  optimizer        TEXT,
  weight_decay     REAL,
  scheduler        TEXT,
  dropout          REAL,
  max_len          INTEGER,
  image_size       INTEGER,
  class_weights    TEXT,
  seed             INTEGER,
  device           TEXT,
  amp              INTEGER,
  config           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
  dataset_id       INTEGER REFERENCES datasets(id),
  vocab_id         INTEGER REFERENCES vocabs(id),
  train_posts      INTEGER,
  validate_posts   INTEGER,
  test_posts       INTEGER,
  epochs_done      INTEGER NOT NULL DEFAULT 0,
  best_epoch       INTEGER,
  checkpoint_best  TEXT,
  checkpoint_last  TEXT,
  created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  started_at       TEXT,
  finished_at      TEXT,
  heartbeat_at     REAL,
  pid              INTEGER,
  host             TEXT,
  progress         REAL,
  seconds          REAL,
  mmdb_version     TEXT,
  torch_version    TEXT
);
CREATE INDEX runs_status ON runs(status);

CREATE TABLE run_tags (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag     TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX run_tags_tag ON run_tags(tag);

-- One row per (run, epoch, split). Test rows carry the best epoch's number.
CREATE TABLE epochs (
  run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch            INTEGER NOT NULL,
  split            TEXT NOT NULL CHECK (split IN ('train','validate','test')),
  loss             REAL,
  accuracy         REAL,
  precision        REAL,     -- weighted by support, as scikit-learn's average='weighted'
  recall           REAL,
  f1               REAL,
  precision_macro  REAL,
  recall_macro     REAL,
  f1_macro         REAL,
  lr               REAL,
  seconds          REAL,
  samples_per_s    REAL,
  loader_wait      REAL,     -- share of step time spent waiting on the loader
  samples          INTEGER,
  created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  PRIMARY KEY (run_id, epoch, split)
) WITHOUT ROWID;

CREATE TABLE class_metrics (
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch      INTEGER NOT NULL,
  split      TEXT NOT NULL,
  label      INTEGER NOT NULL,
  precision  REAL,
  recall     REAL,
  f1         REAL,
  support    INTEGER,
  PRIMARY KEY (run_id, epoch, split, label)
) WITHOUT ROWID;

CREATE TABLE confusion (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch   INTEGER NOT NULL,
  split   TEXT NOT NULL,
  label   INTEGER NOT NULL,   -- true class (row)
  pred    INTEGER NOT NULL,   -- predicted class (column)
  count   INTEGER NOT NULL,
  PRIMARY KEY (run_id, epoch, split, label, pred)
) WITHOUT ROWID;

-- The final model's prediction for every validation and test post.
CREATE TABLE predictions (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  post_id     TEXT NOT NULL,
  split       TEXT NOT NULL CHECK (split IN ('validate','test')),
  label       INTEGER NOT NULL,
  pred        INTEGER NOT NULL,
  prob_pred   REAL NOT NULL,   -- probability of the predicted class
  prob_label  REAL NOT NULL,   -- probability of the true class
  probs       TEXT NOT NULL,   -- JSON array, one probability per class
  PRIMARY KEY (run_id, post_id)
) WITHOUT ROWID;
CREATE INDEX predictions_cell ON predictions(run_id, split, label, pred);
CREATE INDEX predictions_wrong ON predictions(run_id, split, prob_pred);

-- Views for SQL users.
CREATE VIEW run_summary AS
SELECT r.id, r.name, r.status, r.label, r.modalities, r.fusion, r.text_model,
       r.image_model, r.lr, r.batch_size, r.epochs, r.epochs_done, r.best_epoch,
       bv.accuracy AS best_val_accuracy, bv.f1 AS best_val_f1,
       bv.f1_macro AS best_val_f1_macro, bv.loss AS best_val_loss,
       t.accuracy AS test_accuracy, t.precision AS test_precision,
       t.recall AS test_recall, t.f1 AS test_f1, t.f1_macro AS test_f1_macro,
       (SELECT avg(e.samples_per_s) FROM epochs e
         WHERE e.run_id = r.id AND e.split = 'train') AS train_samples_per_s,
       r.seconds, r.created_at, r.finished_at, r.notes,
       (SELECT group_concat(tag, ',') FROM run_tags g WHERE g.run_id = r.id) AS tags
FROM runs r
LEFT JOIN epochs bv ON bv.run_id = r.id AND bv.epoch = r.best_epoch AND bv.split = 'validate'
LEFT JOIN epochs t ON t.run_id = r.id AND t.split = 'test';

CREATE VIEW epoch_settings AS
SELECT e.*, r.name, r.label AS label_scheme, r.modalities, r.fusion, r.text_model,
       r.image_model, r.lr AS base_lr, r.batch_size, r.optimizer, r.dropout, r.seed
FROM epochs e JOIN runs r ON r.id = e.run_id;

CREATE VIEW prediction_posts AS
SELECT p.run_id, p.split, p.post_id, p.label, ln.name AS label_name, p.pred,
       pn.name AS pred_name, p.pred = p.label AS correct, p.prob_pred, p.prob_label,
       p.probs, s.title, s.subreddit, s.label_2way, s.label_3way, s.label_6way,
       i.status AS image_status, i.sha256 AS image_sha256
FROM predictions p
JOIN runs r ON r.id = p.run_id
JOIN posts s ON s.id = p.post_id
LEFT JOIN label_names ln ON ln.scheme = r.label AND ln.label = p.label
LEFT JOIN label_names pn ON pn.scheme = r.label AND pn.label = p.pred
LEFT JOIN images i ON i.post_id = p.post_id;
