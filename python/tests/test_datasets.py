"""Dataset versions and their statistics, checked against the CSV the pipeline read."""
import pandas as pd
import pytest

from loom_client import Client, LoomError


def test_dataset_versions_list_the_ingested_snapshot(loom: Client, run_id: str) -> None:
    versions = loom.dataset_versions()
    assert len(versions) == 1
    row = versions.iloc[0]
    assert len(row.version) == 64 and row.span == 1
    assert row.madeBy["runId"] == run_id and row.madeBy["step"] == "ingest"
    assert isinstance(row.createdAt, pd.Timestamp) and row.createdAt.tzinfo is not None
    assert loom.dataset_versions(source="no-such-file").empty


def test_statistics_match_pandas_on_the_training_month(loom: Client, flights: pd.DataFrame) -> None:
    version = loom.dataset_versions().version[0]
    stats = loom.dataset_statistics(version, split="train").set_index("feature")
    # The pipeline trains on January and evaluates on February (a time split); March is filtered out.
    january = flights[(flights.date >= "2001-01-01") & (flights.date < "2001-02-01")]
    assert set(stats.index) == {"date", "distance", "origin", "destination", "delayed"}
    assert stats.loc["distance", "count"] == len(january) == stats.loc["distance", "rows"]
    assert stats.loc["distance", "mean"] == pytest.approx(january.distance.mean())
    assert stats.loc["distance", "std"] == pytest.approx(january.distance.std(ddof=0), rel=1e-9)  # population std
    assert (stats.loc["distance", "min"], stats.loc["distance", "max"]) == (january.distance.min(), january.distance.max())
    assert stats.loc["delayed", "mean"] == pytest.approx((january.delay > 15).mean())
    assert stats.loc["origin", "unique"] == january.origin.nunique()
    top_airport, top_count = stats.loc["origin", "top_values"][0]
    assert (top_airport, top_count) == (january.origin.value_counts().index[0], january.origin.value_counts().iloc[0])


def test_a_version_by_prefix_has_both_splits_and_its_anomalies(loom: Client) -> None:
    full = loom.dataset_versions().version[0]
    version = loom.dataset_version(full[:10])
    assert version.version == full
    assert set(version.statistics.split) == {"train", "eval"}
    assert list(version.anomalies.columns[:4]) == ["split", "feature", "type", "severity"]
    assert version.details["rowCounts"]["train"] == version.statistics.query("split == 'train'")["rows"].iloc[0]


def test_bad_and_unknown_versions_are_refused_with_a_fix(loom: Client) -> None:
    with pytest.raises(LoomError) as bad:
        loom.dataset_version("not-a-hash")
    assert (bad.value.code, bad.value.status, bad.value.field) == ("INVALID_PARAMETER_VALUE", 400, "version")
    with pytest.raises(LoomError) as missing:
        loom.dataset_version("ffffffff")
    assert missing.value.status == 404 and missing.value.fix
    with pytest.raises(LoomError) as split:
        loom.dataset_statistics(loom.dataset_versions().version[0], split="test")
    assert split.value.code == "NOT_FOUND" and "train" in (split.value.fix or "")
