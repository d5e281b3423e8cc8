"""Drives a Loom tracking server with the real MLflow client (mlflow-skinny, MLflow 3).

Experiments, runs, params, metrics and history, tags, artifacts, search with filters,
order and pages; log_input; the logged-model API; log_model (sklearn, and ONNX converted
with skl2onnx), register_model, aliases and pyfunc.load_model by alias.

Usage: python mlflow_tracking_client.py <tracking uri>
Asserts as it goes and prints one JSON report of what the client saw.
"""
import json
import os
import sys
import tempfile

import mlflow
import mlflow.onnx
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression


def main(uri: str) -> None:
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    experiment = mlflow.set_experiment("interop")
    experiment_id = experiment.experiment_id
    assert experiment.name == "interop"
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}", experiment.artifact_location
    # set_experiment again finds the same experiment by name.
    assert mlflow.set_experiment("interop").experiment_id == experiment_id

    with tempfile.TemporaryDirectory() as scratch:
        notes = os.path.join(scratch, "notes.txt")
        with open(notes, "w") as f:
            f.write("trained on flights\n")
        config = os.path.join(scratch, "config.json")
        with open(config, "w") as f:
            json.dump({"lr": 0.1}, f)

        with mlflow.start_run(run_name="parent") as parent:
            parent_id = parent.info.run_id
            mlflow.log_param("lr", 0.1)
            mlflow.log_params({"epochs": 3, "model": "logreg"})
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            mlflow.log_metrics({"auc": 0.81, "accuracy": 0.7})
            mlflow.set_tag("team", "ml")
            mlflow.log_artifact(notes)
            mlflow.log_artifact(config, artifact_path="configs")
            param_error = None
            try:
                mlflow.log_param("lr", 0.2)
            except MlflowException as error:
                param_error = error.error_code
            with mlflow.start_run(run_name="child", nested=True) as child:
                child_id = child.info.run_id
                mlflow.log_metric("auc", 0.6)
            with mlflow.start_run(run_name="failed-child", nested=True) as failed:
                failed_id = failed.info.run_id
            client.set_terminated(failed_id, status="FAILED")

        found = mlflow.search_runs(
            experiment_ids=[experiment_id],
            filter_string="metrics.auc > 0.7 and params.lr = '0.1' and attributes.status = 'FINISHED'",
        )
        assert list(found["run_id"]) == [parent_id], list(found["run_id"])
        children = mlflow.search_runs(
            experiment_ids=[experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{parent_id}'",
            order_by=["attributes.start_time ASC"],
        )
        assert list(children["run_id"]) == [child_id, failed_id], list(children["run_id"])
        ordered = client.search_runs([experiment_id], order_by=["metrics.auc DESC"], max_results=2)
        assert [r.info.run_id for r in ordered] == [parent_id, child_id]
        page = client.search_runs([experiment_id], order_by=["attributes.start_time ASC"], max_results=2)
        assert page.token, "two of three runs leave a next page"
        rest = client.search_runs([experiment_id], order_by=["attributes.start_time ASC"], max_results=2, page_token=page.token)
        assert [r.info.run_id for r in page] + [r.info.run_id for r in rest] == [parent_id, child_id, failed_id]

        history = client.get_metric_history(parent_id, "loss")
        assert [m.step for m in history] == [0, 1, 2, 3, 4]
        assert abs(history[-1].value - 0.2) < 1e-12

        run = client.get_run(parent_id)
        assert run.info.status == "FINISHED" and run.info.end_time is not None
        assert run.data.params == {"lr": "0.1", "epochs": "3", "model": "logreg"}, run.data.params
        assert run.data.metrics["auc"] == 0.81 and run.data.metrics["loss"] == 0.2
        assert run.data.tags["team"] == "ml"
        assert client.get_run(failed_id).info.status == "FAILED"

        top = sorted(f.path for f in client.list_artifacts(parent_id))
        nested = [f.path for f in client.list_artifacts(parent_id, "configs")]
        assert top == ["configs", "notes.txt"], top
        assert nested == ["configs/config.json"], nested
        downloaded = client.download_artifacts(parent_id, "notes.txt", scratch + "/down")
        with open(downloaded) as f:
            assert f.read() == "trained on flights\n"

    report = {**logged_models(client, experiment_id), **logged_and_served(client, experiment_id)}
    print(json.dumps({
        **report,
        "experiment_id": experiment_id,
        "parent_run_id": parent_id,
        "child_run_ids": [child_id, failed_id],
        "param_change_error": param_error,
        "loss_history": [[m.step, m.value] for m in history],
        "artifacts": top + nested,
        "mlflow_version": mlflow.__version__,
    }))


def logged_models(client: MlflowClient, experiment_id: str) -> dict:
    """The logged-model API as MlflowClient calls it: create, tags, params, search, finalize, delete."""
    made = client.create_logged_model(experiment_id, name="candidate", params={"C": "1.0"}, tags={"team": "ml"})
    assert made.status == LoggedModelStatus.PENDING and made.model_id.startswith("m-"), made
    client.set_logged_model_tags(made.model_id, {"stage": "dev", "team": "data"})
    client.delete_logged_model_tag(made.model_id, "stage")
    client.log_model_params(made.model_id, {"penalty": "l2"})
    ready = client.finalize_logged_model(made.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY, ready.status
    got = client.get_logged_model(made.model_id)
    assert got.tags.get("team") == "data" and "stage" not in got.tags, got.tags
    assert got.params == {"C": "1.0", "penalty": "l2"}, got.params
    other = client.create_logged_model(experiment_id, name="baseline")
    found = client.search_logged_models([experiment_id], filter_string="name = 'candidate'")
    assert [m.model_id for m in found] == [made.model_id], found
    first = client.search_logged_models([experiment_id], order_by=[{"field_name": "name", "ascending": True}], max_results=1)
    assert first.token, "a first page of one model has a next page"
    rest = client.search_logged_models([experiment_id], order_by=[{"field_name": "name", "ascending": True}], max_results=10, page_token=first.token)
    names = [m.name for m in first] + [m.name for m in rest]
    client.delete_logged_model(other.model_id)
    missing = None
    try:
        client.get_logged_model(other.model_id)
    except MlflowException as error:
        missing = error.error_code
    return {"logged_model_names": names, "deleted_logged_model": missing}


def logged_and_served(client: MlflowClient, experiment_id: str) -> dict:
    """log_input, log_model (sklearn and ONNX), register, alias and load by alias."""
    rng = np.random.default_rng(7)
    features = rng.normal(size=(60, 4)).astype(np.float32)
    labels = (features[:, 0] + 0.5 * features[:, 1] > 0).astype(np.int64)
    frame = pd.DataFrame(features, columns=["a", "b", "c", "d"]).assign(label=labels)
    classifier = LogisticRegression().fit(features, labels)
    graph = to_onnx(classifier, features[:1], options={id(classifier): {"zipmap": False}})

    with mlflow.start_run(run_name="fit", experiment_id=experiment_id) as run:
        mlflow.log_input(mlflow.data.from_pandas(frame, name="synthetic", targets="label"), context="training")
        # cloudpickle: the default (skops) needs a package mlflow-skinny does not bring. Naming the
        # requirements spares MLflow inferring them in a subprocess that loads each model.
        sk_info = mlflow.sklearn.log_model(
            classifier, name="sk-model", serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE, pip_requirements=["scikit-learn"]
        )
        onnx_info = mlflow.onnx.log_model(graph, name="onnx-model", signature=infer_signature(features), pip_requirements=["onnxruntime"])
    run_id = run.info.run_id
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.tags[0].value) for i in inputs] == [("synthetic", "training")], inputs
    outputs = {o.model_id for o in client.get_run(run_id).outputs.model_outputs}
    assert outputs == {sk_info.model_id, onnx_info.model_id}, outputs
    assert client.get_logged_model(onnx_info.model_id).status == LoggedModelStatus.READY
    listed = sorted(f.path for f in client.list_logged_model_artifacts(onnx_info.model_id))
    assert "MLmodel" in listed and "model.onnx" in listed, listed

    # MLflow 3 registers models:/<model id>; a runs:/ URI is resolved to the logged model by name.
    onnx_version = mlflow.register_model(onnx_info.model_uri, "synthetic-onnx")
    sk_version = mlflow.register_model(f"runs:/{run_id}/sk-model", "synthetic-sk")
    client.set_registered_model_alias("synthetic-onnx", "champion", onnx_version.version)
    client.set_registered_model_alias("synthetic-sk", "champion", sk_version.version)
    assert client.get_model_version("synthetic-onnx", onnx_version.version).source == onnx_info.model_uri

    rows = features[:5]
    sk_loaded = mlflow.pyfunc.load_model("models:/synthetic-sk@champion")
    assert list(sk_loaded.predict(rows)) == list(classifier.predict(rows))
    onnx_loaded = mlflow.pyfunc.load_model("models:/synthetic-onnx@champion")
    onnx_predicted = onnx_loaded.predict(rows)
    assert list(onnx_predicted["label"]) == list(classifier.predict(rows)), onnx_predicted
    return {
        "fit_run_id": run_id,
        "onnx_model_id": onnx_info.model_id,
        "rows": rows.tolist(),
        "labels": [int(v) for v in onnx_predicted["label"]],
        "probabilities": np.asarray(onnx_predicted["probabilities"].tolist()).tolist(),
    }


if __name__ == "__main__":
    main(sys.argv[1])
