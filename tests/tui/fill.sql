-- fill.sql: fills an mmdb database (schema 0001) with runs, tags, epochs,
-- class metrics, confusion cells, predictions, posts and images for the
-- dashboard's tests and benchmark. Sizes come from temp.fill_params
-- (nruns, nepochs, nposts, npred: runs with predictions); defaults below.
-- Everything is derived from ids, so the same sizes give the same rows.
-- Confusion cells and class metrics are computed from the predictions, so
-- the three agree the way a real run's do.

CREATE TEMP TABLE IF NOT EXISTS fill_params(nruns, nepochs, nposts, npred);
INSERT INTO fill_params SELECT 6, 8, 120, 6 WHERE NOT EXISTS (SELECT 1 FROM fill_params);

INSERT OR IGNORE INTO datasets(id, name) VALUES (1, 'fakeddit');

-- Posts: split by i % 10 (0-5 train, 6-7 validate, 8-9 test).
INSERT INTO posts(id, dataset_id, split, author, clean_title, title, created_utc, domain,
                  has_image, image_url, num_comments, score, subreddit, upvote_ratio,
                  label_2way, label_3way, label_6way)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < (SELECT nposts FROM fill_params)),
l AS (SELECT i, (i * 7 + i / 3) % 6 AS l6 FROM n)
SELECT printf('p%05d', i), 1,
       CASE WHEN i % 10 < 6 THEN 'train' WHEN i % 10 < 8 THEN 'validate' ELSE 'test' END,
       printf('user%d', i % 37), printf('post %d about topic %d', i, i % 13),
       printf('Post %d about topic %d', i, i % 13), 1500000000 + i * 3600,
       printf('site%d.com', i % 5), 1, printf('https://i.example.com/%d.jpg', i),
       i % 17, i * 3 % 101,
       CASE i % 4 WHEN 0 THEN 'photoshopbattles' WHEN 1 THEN 'nottheonion'
                  WHEN 2 THEN 'fakealbumcovers' ELSE 'savedyouaclick' END,
       0.5 + (i % 50) / 100.0,
       CASE WHEN l6 = 0 THEN 1 ELSE 0 END,
       CASE WHEN l6 = 0 THEN 0 WHEN l6 = 5 THEN 1 ELSE 2 END,
       l6
FROM l;

-- Images: i % 4 = 0 ok (with a hash), 1 removed, 2 http_error, 3 no row.
INSERT INTO images(post_id, url, status, reason, http_status, attempts, source, sha256, bytes,
                   format, width, height)
SELECT id, image_url,
       CASE rowid % 4 WHEN 0 THEN 'ok' WHEN 1 THEN 'removed' ELSE 'http_error' END,
       CASE rowid % 4 WHEN 1 THEN 'placeholder image: removed by host' WHEN 2 THEN 'HTTP 503' END,
       CASE rowid % 4 WHEN 0 THEN 200 WHEN 1 THEN 200 ELSE 503 END, 1, 'fetch',
       CASE rowid % 4 WHEN 0 THEN printf('%016x%016x%016x%016x', rowid, rowid * 3, rowid * 5, rowid * 7) END,
       CASE rowid % 4 WHEN 0 THEN 20000 + rowid END,
       CASE rowid % 4 WHEN 0 THEN 'jpeg' END,
       CASE rowid % 4 WHEN 0 THEN 640 END, CASE rowid % 4 WHEN 0 THEN 480 END
FROM posts WHERE rowid % 4 <> 3 AND id NOT IN (SELECT post_id FROM images);

-- Runs: settings and fate derived from the id.
INSERT INTO runs(id, name, status, reason, notes, preset, label, modalities, fusion, text_model,
                 image_model, lr, batch_size, epochs, optimizer, weight_decay, scheduler, dropout,
                 max_len, image_size, seed, device, amp, config, dataset_id, epochs_done,
                 best_epoch, created_at, started_at, finished_at, progress, seconds, mmdb_version)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < (SELECT nruns FROM fill_params)),
s AS (
  SELECT i,
    CASE i % 7 WHEN 3 THEN 'early_stopped' WHEN 4 THEN 'failed' ELSE 'completed' END AS status,
    CASE i % 5 WHEN 0 THEN 'max' WHEN 1 THEN 'sum' WHEN 2 THEN 'mean' WHEN 3 THEN 'concat' ELSE 'gated' END AS fusion,
    CASE i % 4 WHEN 0 THEN 1e-5 WHEN 1 THEN 3e-5 WHEN 2 THEN 5e-5 ELSE 1e-4 END AS lr,
    16 << (i % 3) AS bs,
    0.1 + 0.1 * (i % 3) AS dropout,
    (SELECT nepochs FROM fill_params) AS nep
  FROM n),
d AS (
  SELECT *, CASE status WHEN 'completed' THEN nep WHEN 'early_stopped' THEN max(2, nep - 2 - i % 2)
                        ELSE 1 END AS done
  FROM s)
SELECT i, printf('%s-lr%g-%d', fusion, lr, i), status,
       CASE status WHEN 'failed' THEN 'loss became NaN' WHEN 'early_stopped' THEN 'no improvement' END,
       CASE WHEN i % 3 = 0 THEN 'note for run ' || i END,
       CASE WHEN fusion = 'max' THEN 'paper' END,
       '6way', 'text,image', fusion, 'bert-tiny', 'resnet-small', lr, bs, nep, 'adamw', 0.01,
       'plateau', dropout, 80, 224, i % 3, 'cpu', 0,
       json_object('lr', lr, 'fusion', fusion, 'batch_size', bs, 'dropout', dropout,
                   'seed', i % 3, 'max_len', 80, 'optimizer', 'adamw'),
       1, done, CASE WHEN status = 'failed' THEN NULL ELSE max(1, done - 1 - i % 2) END,
       strftime('%Y-%m-%dT%H:%M:%SZ', '2026-01-01', printf('+%d minutes', i * 90)),
       strftime('%Y-%m-%dT%H:%M:%SZ', '2026-01-01', printf('+%d minutes', i * 90)),
       strftime('%Y-%m-%dT%H:%M:%SZ', '2026-01-01', printf('+%d minutes', i * 90),
                printf('+%d seconds', done * 60 + i % 50)),
       1.0, done * 60 + i % 50, '0.1.0'
FROM d;

INSERT INTO run_tags(run_id, tag)
SELECT id, 'sweep' FROM runs WHERE id % 2 = 0
UNION ALL SELECT id, 'baseline' FROM runs WHERE fusion = 'max'
UNION ALL SELECT id, 'lr' || printf('%g', lr) FROM runs WHERE id % 3 = 1;

-- Epochs: train and validate per epoch; quality q varies per run.
INSERT INTO epochs(run_id, epoch, split, loss, accuracy, precision, recall, f1, precision_macro,
                   recall_macro, f1_macro, lr, seconds, samples_per_s, loader_wait, samples)
WITH RECURSIVE e(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM e WHERE k < (SELECT nepochs FROM fill_params)),
x AS (SELECT r.id, k, 0.8 + (r.id % 10) / 50.0 AS q FROM runs r JOIN e ON e.k <= r.epochs_done),
m AS (SELECT id, k, 'train' AS split, 1.5 * exp(-k * 0.3 * q) + 0.2 AS loss,
             0.45 + 0.45 * (1 - exp(-k * 0.5)) * q AS acc FROM x
      UNION ALL
      SELECT id, k, 'validate', 1.5 * exp(-k * 0.3 * q) + 0.3 + 0.02 * k,
             0.40 + 0.40 * (1 - exp(-k * 0.4)) * q FROM x)
SELECT id, k, split, loss, acc, acc + 0.01, acc, acc - 0.01, acc, acc - 0.02, acc - 0.03,
       1e-5 * (1.0 / k), 60 + id % 50, 500 + id % 100, 0.05, 1000
FROM m;

-- The test row carries the best epoch's number.
INSERT INTO epochs(run_id, epoch, split, loss, accuracy, precision, recall, f1, f1_macro, samples)
SELECT e.run_id, e.epoch, 'test', e.loss + 0.01, e.accuracy - 0.02, e.precision - 0.01,
       e.recall - 0.01, e.f1 - 0.01, e.f1_macro - 0.01, 1000
FROM epochs e JOIN runs r ON r.id = e.run_id AND e.epoch = r.best_epoch AND e.split = 'validate'
WHERE r.status IN ('completed', 'early_stopped');

-- Predictions of the final model for validate and test posts of runs
-- 1..npred that finished. accpct decides how often the model is right.
INSERT INTO predictions(run_id, post_id, split, label, pred, prob_pred, prob_label, probs)
WITH pp AS (
  SELECT r.id AS run_id, p.id AS post_id, p.split, p.label_6way AS label,
         (r.id * 7919 + p.rowid * 104729) % 1000003 AS h,
         55 + r.id % 30 AS accpct
  FROM runs r JOIN posts p ON p.split IN ('validate', 'test')
  WHERE r.id <= (SELECT npred FROM fill_params) AND r.status IN ('completed', 'early_stopped')),
pr AS (
  SELECT *, CASE WHEN h % 100 < accpct THEN label ELSE (label + 1 + h % 5) % 6 END AS pred FROM pp),
w AS (
  SELECT *,
    1 + (h + 0) % 10 + CASE pred WHEN 0 THEN 20 + h % 30 ELSE 0 END AS w0,
    1 + (h + 37) % 10 + CASE pred WHEN 1 THEN 20 + h % 30 ELSE 0 END AS w1,
    1 + (h + 74) % 10 + CASE pred WHEN 2 THEN 20 + h % 30 ELSE 0 END AS w2,
    1 + (h + 111) % 10 + CASE pred WHEN 3 THEN 20 + h % 30 ELSE 0 END AS w3,
    1 + (h + 148) % 10 + CASE pred WHEN 4 THEN 20 + h % 30 ELSE 0 END AS w4,
    1 + (h + 185) % 10 + CASE pred WHEN 5 THEN 20 + h % 30 ELSE 0 END AS w5
  FROM pr),
t AS (SELECT *, 1.0 * (w0 + w1 + w2 + w3 + w4 + w5) AS tot FROM w)
SELECT run_id, post_id, split, label, pred,
       round((CASE pred WHEN 0 THEN w0 WHEN 1 THEN w1 WHEN 2 THEN w2 WHEN 3 THEN w3 WHEN 4 THEN w4 ELSE w5 END) / tot, 4),
       round((CASE label WHEN 0 THEN w0 WHEN 1 THEN w1 WHEN 2 THEN w2 WHEN 3 THEN w3 WHEN 4 THEN w4 ELSE w5 END) / tot, 4),
       printf('[%.4f,%.4f,%.4f,%.4f,%.4f,%.4f]', w0 / tot, w1 / tot, w2 / tot, w3 / tot, w4 / tot, w5 / tot)
FROM t;

-- Confusion cells from the predictions: test at the best epoch, and
-- validate at every epoch (the final model's counts; the last epoch's
-- cells are exactly the predictions').
INSERT INTO confusion(run_id, epoch, split, label, pred, count)
SELECT p.run_id, r.best_epoch, 'test', p.label, p.pred, count(*)
FROM predictions p JOIN runs r ON r.id = p.run_id
WHERE p.split = 'test' GROUP BY p.run_id, p.label, p.pred;

INSERT INTO confusion(run_id, epoch, split, label, pred, count)
SELECT c.run_id, e.epoch, 'validate', c.label, c.pred, c.n
FROM (SELECT run_id, label, pred, count(*) AS n FROM predictions WHERE split = 'validate'
      GROUP BY run_id, label, pred) c
JOIN epochs e ON e.run_id = c.run_id AND e.split = 'validate';

-- Class metrics from the confusion cells.
INSERT INTO class_metrics(run_id, epoch, split, label, precision, recall, f1, support)
WITH cl AS (
  SELECT run_id, epoch, split, label AS c,
         sum(CASE WHEN label = pred THEN count ELSE 0 END) AS tp, sum(count) AS support
  FROM confusion GROUP BY run_id, epoch, split, label),
pc AS (
  SELECT run_id, epoch, split, pred AS c, sum(count) AS predicted
  FROM confusion GROUP BY run_id, epoch, split, pred),
m AS (
  SELECT cl.run_id, cl.epoch, cl.split, cl.c, cl.support,
         CASE WHEN pc.predicted > 0 THEN 1.0 * cl.tp / pc.predicted ELSE 0 END AS p,
         CASE WHEN cl.support > 0 THEN 1.0 * cl.tp / cl.support ELSE 0 END AS r
  FROM cl LEFT JOIN pc USING (run_id, epoch, split, c))
SELECT run_id, epoch, split, c, p, r, CASE WHEN p + r > 0 THEN 2 * p * r / (p + r) ELSE 0 END, support
FROM m;
