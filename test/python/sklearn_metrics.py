"""Reference values for src/evaluate/metrics.ts: scikit-learn (and numpy) on the same
predictions Loom scored. Reads {"cases": [...]} as JSON on stdin, prints the metrics."""
import json
import math
import sys

import numpy as np
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve


def finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


def listed(values):
    return [finite(v) for v in np.asarray(values, dtype=float).tolist()]


def binary(case):
    y = np.asarray(case["labels"], dtype=float)
    p = np.asarray(case["scores"], dtype=float)
    w = np.asarray(case["weights"], dtype=float) if case.get("weights") is not None else None
    t = case.get("threshold", 0.5)
    pred = (p >= t).astype(float)
    fpr, tpr, roc_thresholds = skm.roc_curve(y, p, sample_weight=w)
    precision, recall, pr_thresholds = skm.precision_recall_curve(y, p, sample_weight=w)
    out = {
        "auc": skm.roc_auc_score(y, p, sample_weight=w),
        "auc_pr": skm.average_precision_score(y, p, sample_weight=w),
        "log_loss": skm.log_loss(y, p, sample_weight=w, labels=[0, 1]),
        "accuracy": skm.accuracy_score(y, pred, sample_weight=w),
        "precision": skm.precision_score(y, pred, sample_weight=w, zero_division=0),
        "recall": skm.recall_score(y, pred, sample_weight=w, zero_division=0),
        "f1": skm.f1_score(y, pred, sample_weight=w, zero_division=0),
        "brier_score": skm.brier_score_loss(y, p, sample_weight=w),
    }
    out = {k: finite(v) for k, v in out.items()}
    out["confusion"] = skm.confusion_matrix(y, pred, sample_weight=w, labels=[0, 1]).astype(float).tolist()
    out["roc"] = {"fpr": listed(fpr), "tpr": listed(tpr), "thresholds": listed(roc_thresholds)}
    out["pr"] = {"precision": listed(precision), "recall": listed(recall), "thresholds": listed(pr_thresholds)}
    if w is None:
        prob_true, prob_pred = calibration_curve(y, p, n_bins=case.get("bins", 10))
        out["calibration"] = {"fraction_positive": listed(prob_true), "mean_prediction": listed(prob_pred)}
    return out


def multiclass(case):
    k = case["classes"]
    y = np.asarray(case["labels"], dtype=int)
    p = np.asarray(case["scores"], dtype=float).reshape(-1, k)
    w = np.asarray(case["weights"], dtype=float) if case.get("weights") is not None else None
    pred = p.argmax(axis=1)
    return {
        "accuracy": finite(skm.accuracy_score(y, pred, sample_weight=w)),
        "macro_f1": finite(skm.f1_score(y, pred, average="macro", sample_weight=w, zero_division=0)),
        "micro_f1": finite(skm.f1_score(y, pred, average="micro", sample_weight=w, zero_division=0)),
        "log_loss": finite(skm.log_loss(y, p, sample_weight=w, labels=list(range(k)))),
        "confusion": skm.confusion_matrix(y, pred, sample_weight=w, labels=list(range(k))).astype(float).tolist(),
    }


def regression(case):
    y = np.asarray(case["labels"], dtype=float)
    p = np.asarray(case["scores"], dtype=float)
    w = np.asarray(case["weights"], dtype=float) if case.get("weights") is not None else None
    counts, edges = np.histogram(y - p, bins=case.get("bins", 10))
    return {
        "rmse": finite(skm.root_mean_squared_error(y, p, sample_weight=w)),
        "mae": finite(skm.mean_absolute_error(y, p, sample_weight=w)),
        "r2": finite(skm.r2_score(y, p, sample_weight=w)),
        "mape": finite(skm.mean_absolute_percentage_error(y, p, sample_weight=w)),
        "residuals": {"counts": counts.astype(float).tolist(), "edges": listed(edges)},
    }


def main():
    request = json.load(sys.stdin)
    handlers = {"binary": binary, "multiclass": multiclass, "regression": regression}
    json.dump({case["name"]: handlers[case["task"]](case) for case in request["cases"]}, sys.stdout)


if __name__ == "__main__":
    main()
