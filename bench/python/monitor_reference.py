"""The Python references of bench/monitor-window.ts: one monitoring window analysed by
Evidently, NannyML or TFDV, on the same files Loom reads.

The window is the prediction log itself (the writer's columnar Parquet files: features and
outputs as STRUCT columns), flattened by pyarrow; the reference is the training month with
the model's score and the label (reference.parquet, the rows of Loom's train.parquet plus
`probability` and `label`). Each tool does what its documentation shows for monitoring:

- evidently: `Report([DataDriftPreset()]).run(window, reference)` over the four features;
- nannyml: `UnivariateDriftCalculator` (Jensen-Shannon for numbers, L-infinity for strings,
  the measures of Loom's inferred schema) fitted on the reference and calculated on the
  window, and `CBPE` (ROC AUC, accuracy, precision, recall, F1) fitted on the reference's
  scores and labels and estimated on the window's scores; one chunk per data set (the
  window is one window);
- tfdv: `generate_statistics_from_dataframe` of reference and window, `infer_schema` with
  skew comparators (Jensen-Shannon 0.1 for numbers, L-infinity 0.1 for strings, as Loom's
  schema), `validate_statistics` of the training statistics against the serving window's.

Prints one JSON object: milliseconds for import (not counted), read (Parquet into pandas),
compute and total (read + compute, as Loom's figure includes its read), the phases of the
compute (`reference`: what a tool fits or computes once per reference; `window`: what it
does for each window), `windowMs` (the window's read plus its phase: a later window's cost
once the reference side is kept, as Loom keeps its fits), and a few results so a run that
did nothing shows.

Usage: python monitor_reference.py --tool nannyml --log DIR --reference FILE [--threshold 0.5]
"""
import argparse
import json
import time

FEATURES = ["delay", "distance", "origin", "destination"]
NUMERIC = ["delay", "distance"]
CATEGORICAL = ["origin", "destination"]


def ms(start):
    return (time.perf_counter() - start) * 1000


def read_window(log_dir):
    import pyarrow.parquet as pq

    import glob
    import os

    # The log's files only (Loom's profiles, *.profile, lie beside them); the STRUCT columns
    # become features.delay, ..., outputs.probability.
    files = sorted(glob.glob(os.path.join(log_dir, "*.parquet")))
    flat = pq.read_table(files, columns=["features", "outputs"]).flatten()
    return flat.rename_columns([name.split(".", 1)[1] for name in flat.column_names]).to_pandas()


def read_reference(reference_path):
    import pyarrow.parquet as pq

    return pq.read_table(reference_path).to_pandas()


def evidently(reference, window, _threshold):
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    start = time.perf_counter()
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    baseline = Dataset.from_pandas(reference[FEATURES], data_definition=definition)
    reference_ms = ms(start)
    start = time.perf_counter()
    # Evidently has no fitted state: each report computes the reference's side again.
    current = Dataset.from_pandas(window[FEATURES], data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(current, baseline)
    metrics = snapshot.dict()["metrics"]
    window_ms = ms(start)
    drifted = next(m["value"] for m in metrics if m["metric_name"].startswith("DriftedColumnsCount"))
    return {
        "phases": {"reference": reference_ms, "window": window_ms},
        "drifted_columns": drifted["count"],
        "drift": {m["config"]["column"]: [m["config"]["method"], m["value"]] for m in metrics if "column" in m["config"]},
    }


def nannyml(reference, window, threshold):
    import nannyml as nml

    # Fitted once on the reference (NannyML's way), then calculated per window: timed apart.
    start = time.perf_counter()
    drift = nml.UnivariateDriftCalculator(
        column_names=FEATURES,
        treat_as_categorical=CATEGORICAL,
        continuous_methods=["jensen_shannon"],
        categorical_methods=["l_infinity"],
        chunk_number=1,
    )
    drift.fit(reference[FEATURES])
    # CBPE takes the predicted class as a column: the score at or above the threshold.
    reference = reference.assign(prediction=(reference["probability"] >= threshold).astype("int64"))
    metrics = ["roc_auc", "accuracy", "precision", "recall", "f1"]
    cbpe = nml.CBPE(
        y_pred_proba="probability",
        y_pred="prediction",
        y_true="label",
        problem_type="classification_binary",
        metrics=metrics,
        chunk_number=1,
    )
    cbpe.fit(reference[["probability", "prediction", "label"]])
    reference_ms = ms(start)

    start = time.perf_counter()
    drifts = drift.calculate(window[FEATURES]).filter(period="analysis").to_df()
    window = window.assign(prediction=(window["probability"] >= threshold).astype("int64"))
    estimated = cbpe.estimate(window[["probability", "prediction"]]).filter(period="analysis").to_df()
    return {
        "phases": {"reference": reference_ms, "window": ms(start)},
        "jensen_shannon_distance": float(drifts[("distance", "jensen_shannon", "value")].iloc[0]),
        "estimated": {m: float(estimated[(m, "value")].iloc[0]) for m in metrics},
    }


def tfdv(reference, window, _threshold):
    import tensorflow_data_validation as tfdv

    # The training statistics and schema are made once (TFX's StatisticsGen and SchemaGen); each window then needs its statistics and the validation.
    start = time.perf_counter()
    training = tfdv.generate_statistics_from_dataframe(reference[FEATURES])
    schema = tfdv.infer_schema(training)
    for name in NUMERIC:
        tfdv.get_feature(schema, name).skew_comparator.jensen_shannon_divergence.threshold = 0.1
    for name in CATEGORICAL:
        tfdv.get_feature(schema, name).skew_comparator.infinity_norm.threshold = 0.1
    reference_ms = ms(start)
    start = time.perf_counter()
    serving = tfdv.generate_statistics_from_dataframe(window[FEATURES])
    anomalies = tfdv.validate_statistics(training, schema, serving_statistics=serving)
    return {"phases": {"reference": reference_ms, "window": ms(start)}, "anomalies": sorted(anomalies.anomaly_info.keys())}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", choices=["evidently", "nannyml", "tfdv"], required=True)
    parser.add_argument("--log", required=True, help="the prediction log's directory (columnar Parquet files)")
    parser.add_argument("--reference", required=True, help="reference.parquet: features, probability, label")
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()

    start = time.perf_counter()
    import importlib.metadata

    tool = {"evidently": evidently, "nannyml": nannyml, "tfdv": tfdv}[args.tool]
    package = {"evidently": "evidently", "nannyml": "nannyml", "tfdv": "tensorflow-data-validation"}[args.tool]
    # Imported before the clock starts: Loom's modules are loaded before its figure too.
    __import__({"evidently": "evidently.presets", "nannyml": "nannyml", "tfdv": "tensorflow_data_validation"}[args.tool])
    import_ms = ms(start)

    start = time.perf_counter()
    reference = read_reference(args.reference)
    reference_read_ms = ms(start)
    start = time.perf_counter()
    window = read_window(args.log)
    window_read_ms = ms(start)
    read_ms = reference_read_ms + window_read_ms
    start = time.perf_counter()
    result = tool(reference, window, args.threshold)
    compute_ms = ms(start)
    print(json.dumps({
        "tool": args.tool,
        "version": importlib.metadata.version(package),
        "rows": len(window),
        "referenceRows": len(reference),
        "importMs": import_ms,
        "readMs": read_ms,
        "computeMs": compute_ms,
        "totalMs": read_ms + compute_ms,
        # A later window's work once the reference side is fitted and kept: its read and its phase.
        "windowMs": window_read_ms + result["phases"]["window"],
        **result,
    }))


if __name__ == "__main__":
    main()
