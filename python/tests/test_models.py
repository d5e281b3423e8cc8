"""The model registry, alias history and lineage of the model the pipeline pushed."""
import pytest

from loom_client import Client, LoomError


def test_models_versions_and_aliases(loom: Client, run_id: str) -> None:
    models = loom.models()
    assert list(models.name) == ["flights"]
    assert models.aliases[0] == {"champion": 1}
    versions = loom.model_versions("flights")
    assert list(versions.version) == [1]
    assert versions.run_id[0] == run_id and versions.aliases[0] == ["champion"]
    assert loom.model_version("flights", "champion") == loom.model_version("flights", 1)


def test_alias_history_records_the_push(loom: Client, run_id: str) -> None:
    moves = loom.alias_history("flights", "champion")
    assert len(moves) == 1
    move = moves.iloc[0]
    assert (move.version, move.kind) == (1, "set") and run_id in move.reason
    assert loom.alias_history("flights", "staging").empty


def test_lineage_reaches_the_dataset_version(loom: Client) -> None:
    lineage = loom.lineage("flights", "champion")
    assert lineage["model"]["version"] == 1
    assert [s["contentHash"] for s in lineage["dataSnapshots"]] == list(loom.dataset_versions().version)
    assert {"ingest", "transform", "train", "compose"} <= {e["step"] for e in lineage["executions"]}
    assert loom.lineage("flights", 1)["model"] == {**lineage["model"], "ref": "flights@1"}


def test_unknown_models_are_refused(loom: Client) -> None:
    for call in (lambda: loom.alias_history("nope", "champion"), lambda: loom.model_version("nope", "champion"), lambda: loom.lineage("nope")):
        with pytest.raises(LoomError) as error:
            call()
        assert error.value.status == 404 and error.value.code == "RESOURCE_DOES_NOT_EXIST"
