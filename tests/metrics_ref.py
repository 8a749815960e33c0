#!/usr/bin/env python3
"""Reference metrics from scikit-learn for tests/unit/test_metrics.c.

Prints one line per random case:
  C n y_true[n] y_pred[n] accuracy P_w R_w F_w P_macro R_macro F_macro
  P[C] R[C] F[C] support[C]
computed with sklearn.metrics.precision_recall_fscore_support (weighted and
macro averages with its default labels and zero_division; per-class values
with labels=range(C)). Cases include classes absent from the predictions,
absent from the truth, and a single-class prediction.
"""
import sys
import warnings

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

warnings.filterwarnings("ignore")


def case(rng, C, n, mode):
    y_true = rng.integers(0, C, n)
    y_pred = rng.integers(0, C, n)
    if mode == "skip_pred":      # some classes never predicted
        y_pred = np.where(y_pred < C // 2, y_pred, 0)
    elif mode == "skip_true":    # some classes never true
        y_true = np.where(y_true % 2 == 0, y_true, 0)
    elif mode == "one_pred":     # a degenerate model
        y_pred = np.full(n, C - 1)
    elif mode == "mostly_right":
        keep = rng.random(n) < 0.8
        y_pred = np.where(keep, y_true, y_pred)
    acc = accuracy_score(y_true, y_pred)
    w = precision_recall_fscore_support(y_true, y_pred, average="weighted")
    m = precision_recall_fscore_support(y_true, y_pred, average="macro")
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(range(C)),
                                                 average=None)
    vals = [C, n] + list(y_true) + list(y_pred)
    vals += ["%.17g" % v for v in (acc, w[0], w[1], w[2], m[0], m[1], m[2])]
    vals += ["%.17g" % v for v in list(p) + list(r) + list(f)] + list(s)
    print(" ".join(str(v) for v in vals))


def main():
    rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    for mode in ("random", "skip_pred", "skip_true", "one_pred", "mostly_right"):
        for C in (2, 3, 6):
            for n in (1, 7, 50, 333):
                case(rng, C, n, mode)


if __name__ == "__main__":
    main()
