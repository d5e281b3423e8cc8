"""NannyML's CBPE on the windows Loom estimated, for test/monitor/nannyml-cbpe.test.ts.

Reads JSON on stdin: {"reference": {"scores": [...], "labels": [...]}, "windows": [[scores...], ...],
"threshold": 0.5, "calibrate": true} and prints, per window, NannyML's estimated roc_auc,
accuracy, precision, recall and f1.

NannyML decides whether to calibrate with random stratified splits; Loom decides with
deterministic folds. The two can disagree on a borderline reference, so NannyML is told
Loom's decision: what is compared is the estimation, not the coin toss before it.
"""
import json
import sys

import numpy as np
import pandas as pd
import nannyml as nml
import nannyml.performance_estimation.confidence_based.cbpe as cbpe_module

request = json.load(sys.stdin)
threshold = request["threshold"]
cbpe_module.needs_calibration = lambda *args, **kwargs: bool(request["calibrate"])


def frame(scores, labels=None):
    scores = np.asarray(scores, dtype=np.float64)
    data = {"y_pred_proba": scores, "y_pred": (scores >= threshold).astype(np.int64)}
    if labels is not None:
        data["y_true"] = np.asarray(labels, dtype=np.int64)
    return pd.DataFrame(data)


METRICS = ["roc_auc", "accuracy", "precision", "recall", "f1"]
estimator = nml.CBPE(
    y_pred_proba="y_pred_proba",
    y_pred="y_pred",
    y_true="y_true",
    problem_type="classification_binary",
    metrics=METRICS,
    chunk_number=1,
)
estimator.fit(frame(request["reference"]["scores"], request["reference"]["labels"]))

results = []
for window in request["windows"]:
    estimated = estimator.estimate(frame(window)).filter(period="analysis").to_df()
    results.append({metric: float(estimated[(metric, "value")].iloc[0]) for metric in METRICS})
json.dump({"calibrated": bool(estimator.needs_calibration), "windows": results}, sys.stdout)
