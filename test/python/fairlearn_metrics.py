"""Reference values for src/evaluate/fairness.ts: Fairlearn's MetricFrame and disparity
functions on the same decisions. Reads JSON on stdin:
{"labels": [...], "decisions": [...], "sensitive": {feature: [...]}, "cases": [[feature, ...], ...]}."""
import json
import math
import sys

import pandas as pd
from fairlearn import metrics as flm
from sklearn.metrics import accuracy_score


def finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


def main():
    request = json.load(sys.stdin)
    y = pd.Series(request["labels"], dtype=int)
    d = pd.Series(request["decisions"], dtype=int)
    out = {}
    for features in request["cases"]:
        sensitive = pd.DataFrame({f: request["sensitive"][f] for f in features})
        frame = flm.MetricFrame(
            metrics={
                "selection_rate": flm.selection_rate,
                "true_positive_rate": flm.true_positive_rate,
                "false_positive_rate": flm.false_positive_rate,
                "accuracy": accuracy_score,
                "count": flm.count,
            },
            y_true=y,
            y_pred=d,
            sensitive_features=sensitive,
        )
        by_group = {}
        for key, row in frame.by_group.iterrows():
            name = ", ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
            by_group[name] = {metric: finite(value) for metric, value in row.items()}
        kwargs = {"sensitive_features": sensitive}
        out[" x ".join(features)] = {
            "by_group": by_group,
            "overall": {metric: finite(value) for metric, value in frame.overall.items()},
            "disparities": {
                "demographic_parity_difference": finite(flm.demographic_parity_difference(y, d, **kwargs)),
                "demographic_parity_ratio": finite(flm.demographic_parity_ratio(y, d, **kwargs)),
                "equalized_odds_difference": finite(flm.equalized_odds_difference(y, d, **kwargs)),
                "equalized_odds_ratio": finite(flm.equalized_odds_ratio(y, d, **kwargs)),
                "equal_opportunity_difference": finite(flm.equal_opportunity_difference(y, d, **kwargs)),
                "equal_opportunity_ratio": finite(flm.equal_opportunity_ratio(y, d, **kwargs)),
            },
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
