"""Monitoring history and status: the drift figures `loom monitor drift --window requests:100` recorded
from a log of 300 predictions."""
import pandas as pd
import pytest

from loom_client import Client, LoomError


def test_drift_history_has_every_window_and_feature(loom: Client) -> None:
    drift = loom.drift_history("flights")
    assert set(drift.windowKind) == {"requests:100"} and set(drift.version) == {1}
    windows = drift.groupby("start")["rows"].first()
    assert list(windows) == [100, 100, 100]
    assert {"distance", "origin", "destination"} <= set(drift[drift.against == "training"].feature)
    assert drift.exceeded.dtype == bool
    assert drift.start.is_monotonic_increasing and isinstance(drift.start[0], pd.Timestamp)


def test_drift_history_is_what_loom_monitor_printed(loom: Client, monitor_report: dict) -> None:
    printed = sorted((r["start"], r["against"], r["feature"], r["measure"], r["value"], r["exceeded"]) for r in monitor_report["drift"])
    drift = loom.drift_history("flights")
    served = sorted(zip((drift.start.astype("int64") // 1_000_000).tolist(), drift.against, drift.feature, drift.measure, [None if pd.isna(v) else v for v in drift.value], drift.exceeded.tolist()))
    assert served == printed


def test_time_ranges_and_versions_filter_the_history(loom: Client) -> None:
    drift = loom.drift_history("flights")
    starts = sorted(set(drift.start))
    later = loom.drift_history("flights", since=starts[1])
    assert sorted(set(later.start)) == starts[1:]
    middle = loom.drift_history("flights", since=starts[1].isoformat(), until=starts[2])
    assert sorted(set(middle.start)) == [starts[1]]
    assert loom.drift_history("flights", version=2).empty
    assert list(loom.quality_history("flights").columns[:4]) == ["model", "version", "windowKind", "start"]


def test_status_is_the_latest_window(loom: Client) -> None:
    drift = loom.drift_history("flights")
    latest = drift[drift.start == drift.start.max()]
    status = loom.monitor_status("flights")
    assert (status["model"], status["version"], status["window"]["kind"], status["window"]["rows"]) == ("flights", 1, "requests:100", 100)
    assert pd.Timestamp(status["window"]["start"], unit="ms", tz="UTC") == drift.start.max()
    assert status["drifted"] == sorted(set(latest[latest.exceeded & (latest.against != "prediction")].feature))
    assert status["predictionDrift"] == bool(latest[latest.against == "prediction"].exceeded.any())


def test_refusals(loom: Client) -> None:
    with pytest.raises(LoomError) as unknown:
        loom.drift_history("nope")
    assert unknown.value.status == 404
    with pytest.raises(LoomError) as backwards:
        loom.drift_history("flights", since="2026-02-01", until="2026-01-01")
    assert (backwards.value.status, backwards.value.field) == (400, "since")
