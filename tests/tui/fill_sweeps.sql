-- fill_sweeps.sql: sweeps with their trials and runs, for the dashboard's
-- sweeps tests; run after fill.sql (schema 0008). Three sweeps:
--   lr-grid         grid over lr (4 values, 1e-5..1e-2) x fusion (max, concat),
--                   best_val_f1, ASHA: completed, pruned, failed, running and
--                   pending trials; the metric peaks at lr 1e-4
--   dropout-random  random over dropout and batch-size, best_val_accuracy,
--                   median rule: every trial completed
--   queued          grid, three trials no worker has claimed
-- Each claimed trial has a run (runs.sweep_id, runs.trial_id) with train
-- and validate epoch rows, as a worker writes them; a finished trial's
-- metric is its run's best validation value. Plus one text-only run outside
-- any sweep. Run ids follow the ones already there.

INSERT INTO sweeps(id, name, method, metric, goal, prune, seed, trials, spec, run_args, created_at)
VALUES
 (1, 'lr-grid', 'grid', 'best_val_f1', 'max', 'asha', NULL, 8,
  '{"lr": [1e-05, 0.0001, 0.001, 0.01], "fusion": ["max", "concat"]}',
  '["--epochs", "4", "--text-model", "bert-tiny"]', '2026-02-01T10:00:00Z'),
 (2, 'dropout-random', 'random', 'best_val_accuracy', 'max', 'median', 7, 5,
  '{"dropout": "0.0:0.5", "batch-size": [16, 32]}',
  '["--epochs", "3"]', '2026-02-02T10:00:00Z'),
 (3, 'queued', 'grid', 'best_val_f1', 'max', 'none', NULL, 3,
  '{"weight-decay": [0, 0.01, 0.1]}', '[]', '2026-02-03T10:00:00Z');

-- Trials: (sweep, idx, params, status, reason, epochs its run trained).
CREATE TEMP TABLE st(sweep_id, idx, params, status, reason, ep, lr, fusion, dropout, bs);
INSERT INTO st VALUES
 (1, 1, '{"lr": 1e-05, "fusion": "max"}', 'completed', NULL, 4, 1e-5, 'max', 0.1, 32),
 (1, 2, '{"lr": 1e-05, "fusion": "concat"}', 'completed', NULL, 4, 1e-5, 'concat', 0.1, 32),
 (1, 3, '{"lr": 0.0001, "fusion": "max"}', 'completed', NULL, 4, 1e-4, 'max', 0.1, 32),
 (1, 4, '{"lr": 0.0001, "fusion": "concat"}', 'completed', NULL, 4, 1e-4, 'concat', 0.1, 32),
 (1, 5, '{"lr": 0.001, "fusion": "max"}', 'pruned', 'asha: rung 1 (epoch 1), below the top third', 1, 1e-3, 'max', 0.1, 32),
 (1, 6, '{"lr": 0.001, "fusion": "concat"}', 'running', NULL, 2, 1e-3, 'concat', 0.1, 32),
 (1, 7, '{"lr": 0.01, "fusion": "max"}', 'failed', 'loss is NaN at epoch 1 step 3', 0, 1e-2, 'max', 0.1, 32),
 (1, 8, '{"lr": 0.01, "fusion": "concat"}', 'pending', NULL, NULL, 1e-2, 'concat', 0.1, 32),
 (2, 1, '{"dropout": 0.05, "batch-size": 16}', 'completed', NULL, 3, 3e-5, 'max', 0.05, 16),
 (2, 2, '{"dropout": 0.42, "batch-size": 32}', 'completed', NULL, 3, 3e-5, 'max', 0.42, 32),
 (2, 3, '{"dropout": 0.21, "batch-size": 32}', 'completed', NULL, 3, 3e-5, 'max', 0.21, 32),
 (2, 4, '{"dropout": 0.33, "batch-size": 16}', 'completed', NULL, 3, 3e-5, 'max', 0.33, 16),
 (2, 5, '{"dropout": 0.12, "batch-size": 16}', 'completed', NULL, 3, 3e-5, 'max', 0.12, 16),
 (3, 1, '{"weight-decay": 0}', 'pending', NULL, NULL, 3e-5, 'max', 0.1, 32),
 (3, 2, '{"weight-decay": 0.01}', 'pending', NULL, NULL, 3e-5, 'max', 0.1, 32),
 (3, 3, '{"weight-decay": 0.1}', 'pending', NULL, NULL, 3e-5, 'max', 0.1, 32);

INSERT INTO sweep_trials(sweep_id, idx, params, status, reason, worker, claimed_at, finished_at)
SELECT sweep_id, idx, params, status, reason,
       CASE WHEN status <> 'pending' THEN printf('gpu-box:%d', 4000 + sweep_id * 10 + idx % 2) END,
       CASE WHEN status = 'running' THEN CAST(strftime('%s', 'now') AS REAL) - 95
            WHEN status <> 'pending' THEN 1769940000.0 + sweep_id * 86400 + idx * 600 END,
       CASE WHEN status NOT IN ('pending', 'running') THEN 1769940000.0 + sweep_id * 86400 + idx * 600 + 540 END
FROM st ORDER BY sweep_id, idx;

-- A run per claimed trial, ids after the existing ones.
CREATE TEMP TABLE base AS SELECT coalesce(max(id), 0) AS b FROM runs;
INSERT INTO runs(id, name, status, reason, label, modalities, fusion, text_model, image_model, lr,
                 batch_size, epochs, optimizer, weight_decay, scheduler, dropout, max_len,
                 image_size, seed, device, amp, config, dataset_id, epochs_done, best_epoch,
                 created_at, started_at, finished_at, heartbeat_at, progress, seconds,
                 mmdb_version, sweep_id, trial_id)
SELECT (SELECT b FROM base) + t.id,
       printf('%s-%d', w.name, st.idx), st.status, st.reason, '6way', 'text,image', st.fusion,
       'bert-tiny', 'resnet-small', st.lr, st.bs, CASE st.sweep_id WHEN 1 THEN 4 ELSE 3 END,
       'adamw', 0.01, 'plateau', st.dropout, 80, 224, 0, 'cuda:' || (st.idx % 2), 1,
       json_object('lr', st.lr, 'fusion', st.fusion, 'batch_size', st.bs, 'dropout', st.dropout,
                   'epochs', CASE st.sweep_id WHEN 1 THEN 4 ELSE 3 END, 'optimizer', 'adamw',
                   'plateau_patience', 1, 'warmup', 0, 'sweep', w.name, 'trial', st.idx),
       1, st.ep, CASE WHEN st.ep > 0 THEN max(1, st.ep - (st.idx % 2)) END,
       strftime('%Y-%m-%dT%H:%M:%SZ', t.claimed_at, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%SZ', t.claimed_at, 'unixepoch'),
       CASE WHEN t.finished_at IS NOT NULL THEN strftime('%Y-%m-%dT%H:%M:%SZ', t.finished_at, 'unixepoch') END,
       -- a running trial's trainer is alive: its heartbeat is now
       CASE WHEN st.status = 'running' THEN CAST(strftime('%s', 'now') AS REAL) ELSE t.claimed_at + 500 END,
       CASE WHEN st.status = 'running' THEN 0.6 ELSE 1.0 END,
       CASE WHEN t.finished_at IS NOT NULL THEN t.finished_at - t.claimed_at END, '0.1.0',
       st.sweep_id, t.id
FROM st JOIN sweeps w ON w.id = st.sweep_id
JOIN sweep_trials t ON t.sweep_id = st.sweep_id AND t.idx = st.idx
WHERE st.status <> 'pending';

UPDATE sweep_trials SET run_id = (SELECT r.id FROM runs r WHERE r.trial_id = sweep_trials.id);

-- Epoch rows: quality q peaks at lr 1e-4 (|log10 lr + 4|), rises with
-- batch size 32 and falls with dropout's distance from 0.2.
INSERT INTO epochs(run_id, epoch, split, loss, accuracy, precision, recall, f1, f1_macro, lr,
                   seconds, samples_per_s, loader_wait, samples)
WITH RECURSIVE e(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM e WHERE k < 4),
x AS (SELECT r.id, e.k, r.lr,
             0.9 - 0.12 * abs(log(r.lr) / log(10) + 4) - 0.3 * abs(r.dropout - 0.2)
             + 0.02 * (r.batch_size = 32) + 0.01 * (r.fusion = 'concat') AS q
      FROM runs r JOIN e ON e.k <= r.epochs_done WHERE r.sweep_id IS NOT NULL),
m AS (SELECT id, k, lr, 'train' AS split, 1.4 * exp(-k * 0.4 * q) + 0.15 AS loss,
             0.40 + 0.5 * (1 - exp(-k * 0.6)) * q AS acc FROM x
      UNION ALL
      SELECT id, k, lr, 'validate', 1.4 * exp(-k * 0.3 * q) + 0.3, 0.35 + 0.45 * (1 - exp(-k * 0.5)) * q FROM x)
SELECT id, k, split, loss, acc, acc + 0.01, acc, acc - 0.01, acc - 0.04, lr, 30 + k, 800, 0.03, 1000
FROM m;

-- A finished trial's metric: its run's best validation value.
UPDATE sweep_trials SET metric = (
  SELECT CASE s.metric WHEN 'best_val_accuracy' THEN e.accuracy ELSE e.f1 END
  FROM runs r JOIN sweeps s ON s.id = sweep_trials.sweep_id
  JOIN epochs e ON e.run_id = r.id AND e.epoch = r.best_epoch AND e.split = 'validate'
  WHERE r.id = sweep_trials.run_id)
WHERE status IN ('completed', 'early_stopped', 'pruned');

-- A text-only run outside any sweep: nothing to fuse (config says max, as mmdb run writes it).
INSERT INTO runs(id, name, status, label, modalities, fusion, text_model, lr, batch_size, epochs,
                 optimizer, dropout, max_len, seed, device, amp, config, dataset_id, epochs_done,
                 best_epoch, created_at, finished_at, progress, seconds, mmdb_version)
SELECT (SELECT max(id) FROM runs) + 1, 'text-only', 'completed', '6way', 'text', NULL, 'bert-tiny',
       2e-5, 32, 2, 'adamw', 0.1, 80, 1, 'cpu', 0,
       json_object('modalities', 'text', 'fusion', 'max', 'text_model', 'bert-tiny', 'lr', 2e-5,
                   'epochs', 2, 'dropout', 0.1, 'warmup', 10),
       1, 2, 2, '2026-02-04T10:00:00Z', '2026-02-04T10:05:00Z', 1.0, 300, '0.1.0';
INSERT INTO epochs(run_id, epoch, split, loss, accuracy, f1, lr, seconds, samples)
SELECT (SELECT max(id) FROM runs), k, split, 1.0 / k, 0.5 + 0.1 * k, 0.45 + 0.1 * k, 2e-5, 40, 1000
FROM (SELECT 1 AS k UNION ALL SELECT 2), (SELECT 'train' AS split UNION ALL SELECT 'validate');

DROP TABLE st;
DROP TABLE base;
