-- 0008: sweeps (a queue of trials that workers drain), runs trained on
-- several processes, and text models read from a Hugging Face folder.
--

CREATE TABLE sweeps (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  method      TEXT NOT NULL CHECK (method IN ('grid','random')),
  metric      TEXT NOT NULL,      -- a run_summary column: best_val_f1, best_val_accuracy, ...
  goal        TEXT NOT NULL DEFAULT 'max' CHECK (goal IN ('max','min')),
  prune       TEXT NOT NULL DEFAULT 'none' CHECK (prune IN ('asha','median','none')),
  seed        INTEGER,
  trials      INTEGER NOT NULL DEFAULT 0,
  spec        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec)),      -- the swept parameters
  run_args    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(run_args)),  -- the fixed run flags
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE TABLE sweep_trials (
  id          INTEGER PRIMARY KEY,
  sweep_id    INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  idx         INTEGER NOT NULL,   -- 1, 2, ... in creation order
  params      TEXT NOT NULL CHECK (json_valid(params)),  -- {"lr": 1e-05, "batch-size": 32}
  status      TEXT NOT NULL DEFAULT 'pending'
              CHECK (status IN ('pending','running','completed','early_stopped','pruned',
                                'failed','crashed','interrupted')),
  run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  worker      TEXT,               -- host:pid of the worker that claimed it
  claimed_at  REAL,
  finished_at REAL,
  metric      REAL,               -- the sweep's metric for its run, when known
  reason      TEXT,
  UNIQUE (sweep_id, idx)
);
CREATE INDEX sweep_trials_status ON sweep_trials(sweep_id, status);

ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN trial_id INTEGER REFERENCES sweep_trials(id) ON DELETE SET NULL;
CREATE INDEX runs_sweep ON runs(sweep_id) WHERE sweep_id IS NOT NULL;

-- Distributed runs: how many processes trained it and over which backend
-- ('gloo', 'nccl'; NULL for one process).
ALTER TABLE runs ADD COLUMN world_size INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN backend TEXT;

-- A text model read from a Hugging Face folder: the folder, the sha256 of
-- its config.json and of the weights loaded into the text encoder.
ALTER TABLE runs ADD COLUMN text_model_dir TEXT;
ALTER TABLE runs ADD COLUMN text_config_sha256 TEXT;
ALTER TABLE runs ADD COLUMN text_weights_sha256 TEXT;

DROP VIEW run_summary;
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
       (SELECT group_concat(tag, ',') FROM run_tags g WHERE g.run_id = r.id) AS tags,
       r.sweep_id, (SELECT s.name FROM sweeps s WHERE s.id = r.sweep_id) AS sweep,
       r.trial_id, r.world_size, r.backend
FROM runs r
LEFT JOIN epochs bv ON bv.run_id = r.id AND bv.epoch = r.best_epoch AND bv.split = 'validate'
LEFT JOIN epochs t ON t.run_id = r.id AND t.split = 'test';

-- runs.status gains 'pruned' (a sweep's early pruning). SQLite cannot alter
-- a CHECK constraint, and rebuilding runs inside a migration's transaction
-- would cascade deletes into every child table (foreign_keys cannot be
-- turned off in a transaction); the constraint only widens, so its text is
-- edited in place, as SQLite's ALTER TABLE documentation describes. db.c
-- bumps schema_version after a migration that does this; the edit comes
-- last, after every ALTER TABLE of runs (they work from the parsed schema).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''interrupted'',''crashed'')', '''interrupted'',''crashed'',''pruned'')')
 WHERE type = 'table' AND name = 'runs';
PRAGMA writable_schema = OFF;
