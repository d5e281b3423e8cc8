"""Drives a Loom server's model registry with the real MLflow client (mlflow-skinny).

Usage: python mlflow_registry_client.py <server uri>
Asserts as it goes and prints one JSON report of what the client saw.
"""
import json
import sys

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def error_code(call) -> str:
    try:
        call()
    except MlflowException as error:
        return error.error_code
    raise AssertionError("expected an MlflowException")


def main(uri: str) -> None:
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    model = client.create_registered_model("flights", tags={"team": "ml"}, description="arrival delays")
    assert model.name == "flights" and model.description == "arrival delays", model
    assert model.tags == {"team": "ml"}, model.tags
    client.create_registered_model("flights-eu")
    client.create_registered_model("taxi")
    assert error_code(lambda: client.create_registered_model("flights")) == "RESOURCE_ALREADY_EXISTS"

    v1 = client.create_model_version("flights", "loom-artifact://sha256/aa", run_id="run-1", tags={"data": "jan"}, description="first")
    v2 = client.create_model_version("flights", "loom-artifact://sha256/bb", run_id="run-2")
    assert (v1.version, v2.version) == ("1", "2"), (v1.version, v2.version)
    assert v1.status == "READY" and v1.current_stage == "None" and v1.run_id == "run-1", v1
    assert v1.tags == {"data": "jan"}, v1.tags

    client.set_registered_model_alias("flights", "champion", 2)
    client.set_registered_model_alias("flights", "challenger", "1")
    champion = client.get_model_version_by_alias("flights", "champion")
    assert champion.version == "2" and champion.aliases == ["champion"], champion
    got = client.get_registered_model("flights")
    assert got.aliases == {"champion": "2", "challenger": "1"}, got.aliases
    assert [v.version for v in got.latest_versions] == ["2"], got.latest_versions

    names = [m.name for m in client.search_registered_models(filter_string="name LIKE 'flights%'")]
    assert names == ["flights", "flights-eu"], names
    page = client.search_registered_models(max_results=1)
    assert [m.name for m in page] == ["flights"] and page.token, page.token
    rest = client.search_registered_models(max_results=5, page_token=page.token)
    assert [m.name for m in rest] == ["flights-eu", "taxi"], [m.name for m in rest]
    versions = client.search_model_versions("name='flights'")
    assert [v.version for v in versions] == ["2", "1"], [v.version for v in versions]

    client.set_registered_model_tag("flights", "owner", "ana")
    client.delete_registered_model_tag("flights", "team")
    client.set_model_version_tag("flights", "2", "validated", "yes")
    client.update_registered_model("flights", description="delays over 15 minutes")
    client.update_model_version("flights", "2", description="blessed")
    got = client.get_registered_model("flights")
    assert got.tags == {"owner": "ana"} and got.description == "delays over 15 minutes", got
    mv = client.get_model_version("flights", "2")
    assert mv.tags == {"validated": "yes"} and mv.description == "blessed", mv

    # Bad input: a clear MLflow error and nothing changed.
    missing_version = error_code(lambda: client.set_registered_model_alias("flights", "champion", 9))
    aliased_delete = error_code(lambda: client.delete_model_version("flights", "2"))
    assert client.get_model_version_by_alias("flights", "champion").version == "2"
    assert client.get_model_version("flights", "2").version == "2"

    client.delete_registered_model_alias("flights", "challenger")
    alias_gone = error_code(lambda: client.get_model_version_by_alias("flights", "challenger"))
    assert client.get_registered_model("flights").aliases == {"champion": "2"}
    client.delete_model_version("flights", "1")
    version_gone = error_code(lambda: client.get_model_version("flights", "1"))
    client.delete_registered_model("taxi")

    print(json.dumps({
        "missing_version": missing_version,
        "aliased_delete": aliased_delete,
        "alias_gone": alias_gone,
        "version_gone": version_gone,
        "models": [m.name for m in client.search_registered_models()],
    }))


if __name__ == "__main__":
    main(sys.argv[1])
