/*
 * metrics: confusion matrix and the scikit-learn metrics derived from it.
 */
#include "metrics.h"
#include "util.h"

#include <string.h>

int metrics_init(struct metrics *m, int num_classes)
{
	memset(m, 0, sizeof(*m));
	if (num_classes < 1 || num_classes > METRICS_MAX_CLASSES)
		return error("metrics: %d classes (1 to %d)", num_classes, METRICS_MAX_CLASSES);
	m->num_classes = num_classes;
	return 0;
}

int metrics_add(struct metrics *m, int label, int pred)
{
	int C = m->num_classes;
	if (label < 0 || label >= C || pred < 0 || pred >= C)
		return error("metrics: label %d or prediction %d outside 0..%d", label, pred, C - 1);
	m->confusion[label * C + pred]++;
	m->n++;
	return 0;
}

static double ratio(double num, double den)
{
	return den > 0 ? num / den : 0.0; /* scikit-learn's zero_division default */
}

void metrics_compute(struct metrics *m)
{
	int C = m->num_classes, k, j, present = 0;
	int64_t correct = 0, total_support = 0;

	for (k = 0; k < C; k++) {
		m->support[k] = m->predicted[k] = 0;
		for (j = 0; j < C; j++) {
			m->support[k] += m->confusion[k * C + j];
			m->predicted[k] += m->confusion[j * C + k];
		}
		correct += m->confusion[k * C + k];
	}
	m->accuracy = ratio((double)correct, (double)m->n);
	m->precision_weighted = m->recall_weighted = m->f1_weighted = 0;
	m->precision_macro = m->recall_macro = m->f1_macro = 0;
	for (k = 0; k < C; k++) {
		double tp = (double)m->confusion[k * C + k];
		double fp = (double)m->predicted[k] - tp, fn = (double)m->support[k] - tp;
		m->precision[k] = ratio(tp, tp + fp);
		m->recall[k] = ratio(tp, tp + fn);
		m->f1[k] = ratio(2 * tp, 2 * tp + fp + fn);
		if (!m->support[k] && !m->predicted[k])
			continue; /* absent from both: not one of sklearn's labels */
		present++;
		total_support += m->support[k];
		m->precision_macro += m->precision[k];
		m->recall_macro += m->recall[k];
		m->f1_macro += m->f1[k];
		m->precision_weighted += m->precision[k] * (double)m->support[k];
		m->recall_weighted += m->recall[k] * (double)m->support[k];
		m->f1_weighted += m->f1[k] * (double)m->support[k];
	}
	if (present) {
		m->precision_macro /= present;
		m->recall_macro /= present;
		m->f1_macro /= present;
	}
	m->precision_weighted = ratio(m->precision_weighted, (double)total_support);
	m->recall_weighted = ratio(m->recall_weighted, (double)total_support);
	m->f1_weighted = ratio(m->f1_weighted, (double)total_support);
}

int metrics_argmax(const float *p, int num_classes)
{
	int k, best = 0;
	for (k = 1; k < num_classes; k++)
		if (p[k] > p[best])
			best = k;
	return best;
}
