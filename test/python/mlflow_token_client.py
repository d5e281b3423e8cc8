"""Drives an authenticated Loom server with the real MLflow client, authenticated the MLflow way.

Usage: python mlflow_token_client.py <server uri> <token>
Without MLFLOW_TRACKING_TOKEN a call is refused; with a wrong one too; with the token the
client creates a model and moves an alias. Prints one JSON report of what the client saw.
"""
import json
import os
import sys

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def refusal(call):
    try:
        call()
    except MlflowException as error:
        return error.error_code
    raise AssertionError("expected the server to refuse the call")


def main(uri: str, token: str) -> None:
    os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    report = {"without_token": refusal(lambda: client.create_registered_model("flights"))}

    # The client reads the variable on every request and sends it as "Authorization: Bearer".
    os.environ["MLFLOW_TRACKING_TOKEN"] = "loom_pat_" + "x" * 43
    report["wrong_token"] = refusal(lambda: client.create_registered_model("flights"))

    os.environ["MLFLOW_TRACKING_TOKEN"] = token
    client.create_registered_model("flights")
    version = client.create_model_version("flights", "loom-artifact://sha256/aa")
    client.set_registered_model_alias("flights", "champion", version.version)
    report["champion"] = client.get_model_version_by_alias("flights", "champion").version
    experiment = client.create_experiment("delays")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "auc", 0.75)
    report["metric"] = client.get_run(run.info.run_id).data.metrics["auc"]
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
