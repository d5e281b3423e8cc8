"""A custom Loom trainer, as a user would write one: scikit-learn logistic regression on
Loom's transformed features, exported to ONNX with skl2onnx. Metrics go to the MLflow
tracking server Loom names in MLFLOW_TRACKING_URI, when it names one.

Loom runs it with LOOM_DATA_DIR, LOOM_PARAMS, LOOM_MODEL_PATH and LOOM_FEATURE_WIDTH set.
With params {"fail": true} it exits 3; with {"write_model": false} it writes nothing.
It prints the positive-class probabilities of the first eval rows as its last line (JSON).
"""
import json
import os
import sys

import numpy as np
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

data = os.environ["LOOM_DATA_DIR"]
width = int(os.environ["LOOM_FEATURE_WIDTH"])
params = json.load(open(os.environ["LOOM_PARAMS"]))
if params.get("fail"):
    print("custom trainer: asked to fail", file=sys.stderr)
    sys.exit(3)


def split(name):
    x = np.fromfile(os.path.join(data, name, "features.f32"), dtype=np.float32).reshape(-1, width)
    y = np.fromfile(os.path.join(data, name, "labels.f32"), dtype=np.float32)
    return x, y


train_x, train_y = split("train")
eval_x, eval_y = split("eval")
model = LogisticRegression(C=float(params.get("C", 1.0)), max_iter=500).fit(train_x, train_y)
auc = roc_auc_score(eval_y, model.predict_proba(eval_x)[:, 1])
print(f"custom trainer: eval AUC {auc:.4f}")

if os.environ.get("MLFLOW_TRACKING_URI"):
    import mlflow

    with mlflow.start_run(run_id=os.environ.get("MLFLOW_RUN_ID")):
        mlflow.log_param("C", params.get("C", 1.0))
        mlflow.log_metric("eval_auc", auc)

if params.get("write_model", True):
    onnx = to_onnx(model, initial_types=[("features", FloatTensorType([None, width]))], options={"zipmap": False}, target_opset={"": 17, "ai.onnx.ml": 3})
    with open(os.environ["LOOM_MODEL_PATH"], "wb") as out:
        out.write(onnx.SerializeToString())
print(json.dumps(model.predict_proba(eval_x[:20])[:, 1].tolist()))
