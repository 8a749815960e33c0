/*
 * metrics: classification metrics of a run's evaluation, as scikit-learn
 * computes them. Labels and predictions are accumulated into a C x C
 * confusion matrix; metrics_compute() derives accuracy, per-class
 * precision/recall/F1/support and their weighted and macro averages.
 *
 * Zero division is handled as scikit-learn's default (zero_division="warn",
 * which yields 0): a class never predicted has precision 0, a class never
 * true has recall 0, and F1 = 2 tp / (2 tp + fp + fn) is 0 when that is 0/0.
 * The macro and weighted averages run over the classes present in the true
 * labels or the predictions, as precision_recall_fscore_support(y_true,
 * y_pred, average=...) does without a labels argument.
 */
#ifndef MMDB_METRICS_H
#define MMDB_METRICS_H

#include <stdint.h>

#define METRICS_MAX_CLASSES 64

struct metrics {
	int num_classes;                    /* C */
	int64_t n;                          /* samples added */
	int64_t confusion[METRICS_MAX_CLASSES * METRICS_MAX_CLASSES]; /* [true * C + pred] */
	/* Filled by metrics_compute(). */
	double accuracy;
	double precision[METRICS_MAX_CLASSES], recall[METRICS_MAX_CLASSES], f1[METRICS_MAX_CLASSES];
	int64_t support[METRICS_MAX_CLASSES];   /* true count per class */
	int64_t predicted[METRICS_MAX_CLASSES]; /* predicted count per class */
	double precision_weighted, recall_weighted, f1_weighted;
	double precision_macro, recall_macro, f1_macro;
};

/* Empties m for C classes (1 <= C <= METRICS_MAX_CLASSES); returns 0 or error(). */
int metrics_init(struct metrics *m, int num_classes);
/* Counts one sample; labels outside [0, C) are an error (-1). */
int metrics_add(struct metrics *m, int label, int pred);
/* Computes every derived value from the confusion matrix (n = 0: all 0). */
void metrics_compute(struct metrics *m);

/* Index of the largest of p[0..C) (the first on ties). */
int metrics_argmax(const float *p, int num_classes);

#endif
