"""Drives a Loom tracking server with the real MLflow client (mlflow-skinny).

Usage: python mlflow_tracking_client.py <tracking uri>
Asserts as it goes and prints one JSON report of what the client saw.
"""
import json
import os
import sys
import tempfile

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


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

    print(json.dumps({
        "experiment_id": experiment_id,
        "parent_run_id": parent_id,
        "child_run_ids": [child_id, failed_id],
        "param_change_error": param_error,
        "loss_history": [[m.step, m.value] for m in history],
        "artifacts": top + nested,
        "mlflow_version": mlflow.__version__,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
