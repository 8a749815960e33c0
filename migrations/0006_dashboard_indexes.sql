-- 0006: indexes the dashboard (mmdb tui) needs to stay fast on large
-- databases: a run's rows of one split in epoch order (live epoch, test row),
-- and a run's predictions of one split in post order and by the probability
-- of the true label (likely label errors first).

CREATE INDEX IF NOT EXISTS epochs_run_split ON epochs(run_id, split, epoch);
CREATE INDEX IF NOT EXISTS predictions_post ON predictions(run_id, split, post_id);
CREATE INDEX IF NOT EXISTS predictions_label_prob ON predictions(run_id, split, prob_label);
