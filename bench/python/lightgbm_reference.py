"""LightGBM on the same matrices Loom's GBDT trains on, for bench/gbdt.ts.

Usage: python lightgbm_reference.py <dir> <trees> <leaves> <learning rate>
<dir> holds train.f32 / train.labels.f32 / eval.f32 / eval.labels.f32 and meta.json {"width": N}.
Prints JSON: seconds (Dataset construction + training), AUC on eval, threads.
"""
import json
import os
import sys
import time

import lightgbm as lgb
import numpy as np
from sklearn.metrics import roc_auc_score


def load(directory, split, width):
    features = np.fromfile(os.path.join(directory, f"{split}.f32"), dtype=np.float32).reshape(-1, width)
    labels = np.fromfile(os.path.join(directory, f"{split}.labels.f32"), dtype=np.float32)
    return features, labels


def main():
    directory, trees, leaves, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    width = json.load(open(os.path.join(directory, "meta.json")))["width"]
    train_x, train_y = load(directory, "train", width)
    eval_x, eval_y = load(directory, "eval", width)
    params = {
        "objective": "binary",
        "num_leaves": leaves,
        "learning_rate": rate,
        "max_bin": 255,
        "min_data_in_leaf": 20,
        "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": 0.0,
        "verbose": -1,
        "deterministic": True,
        "seed": 42,
    }
    start = time.perf_counter()
    dataset = lgb.Dataset(train_x, label=train_y, params={"max_bin": 255, "verbose": -1})
    booster = lgb.train(params, dataset, num_boost_round=trees)
    seconds = time.perf_counter() - start
    auc = roc_auc_score(eval_y, booster.predict(eval_x))
    print(json.dumps({"seconds": seconds, "auc": auc, "threads": os.cpu_count()}))


main()
