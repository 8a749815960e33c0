-- Example queries over an mmdb database: ./mmdb sql < examples/queries.sql
-- (each statement prints its own table).

-- Every run, its settings and key metrics.
SELECT id, name, status, modalities, fusion, text_model, image_model, lr, epochs_done,
       best_epoch, round(best_val_accuracy, 4) AS val_acc, round(test_accuracy, 4) AS test_acc,
       round(test_f1, 4) AS test_f1, round(train_samples_per_s, 1) AS samples_per_s
FROM run_summary ORDER BY id;

-- Learning curves: validation accuracy per epoch and run.
SELECT name, epoch, round(loss, 4) AS val_loss, round(accuracy, 4) AS val_acc, lr
FROM epoch_settings WHERE split = 'validate' ORDER BY run_id, epoch;

-- Any hyperparameter is queryable from the JSON config.
SELECT id, name, json_extract(config, '$.warmup') AS warmup,
       json_extract(config, '$.class_weights') AS class_weights
FROM runs ORDER BY id;

-- Per-class F1 on test at the best epoch, with class names.
SELECT r.name, n.name AS class, round(c.f1, 4) AS f1, c.support
FROM class_metrics c JOIN runs r ON r.id = c.run_id
JOIN label_names n ON n.scheme = r.label AND n.label = c.label
WHERE c.split = 'test' AND c.epoch = r.best_epoch ORDER BY r.id, c.label;

-- The most confident mistakes of the latest run.
SELECT post_id, label_name, pred_name, round(prob_pred, 3) AS prob, title
FROM prediction_posts
WHERE run_id = (SELECT max(id) FROM runs) AND split = 'test' AND NOT correct
ORDER BY prob_pred DESC LIMIT 10;

-- Which confusions dominate (test, latest run)?
SELECT label_name, pred_name, count(*) AS n FROM prediction_posts
WHERE run_id = (SELECT max(id) FROM runs) AND split = 'test' AND NOT correct
GROUP BY 1, 2 ORDER BY n DESC LIMIT 10;
