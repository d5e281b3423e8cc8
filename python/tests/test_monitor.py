"""Monitoring: the drift figures `loom monitor drift --window requests:100` recorded from a log of
300 predictions, read back through the Loom API."""
import pandas as pd
import pytest

from loom_client import Client, LoomError


def _ms(stamp: pd.Timestamp) -> int:
    return int(stamp.value // 1_000_000)


def test_drift_history_is_what_loom_monitor_printed(loom: Client, monitor_report: dict) -> None:
    printed = sorted((r["start"], r["against"], r["feature"], r["measure"], r["value"], r["exceeded"]) for r in monitor_report["drift"])
    drift = loom.drift_history("flights")
    served = sorted(zip(drift.start.map(_ms), drift.against, drift.feature, drift.measure, [None if pd.isna(v) else v for v in drift.value], drift.exceeded))
    assert served == printed
    assert set(drift.windowKind) == {"requests:100"} and set(drift.version) == {1}
    assert drift.start.nunique() == 3 and isinstance(drift.start[0], pd.Timestamp)
    assert {"distance", "origin", "destination"} <= set(drift[drift.against == "training"].feature)


def test_the_whole_view_names_versions_and_window_kinds(loom: Client) -> None:
    view = loom.monitoring("flights")
    assert (view["versions"], view["version"], view["windowKinds"], view["windowKind"]) == ([1], 1, ["requests:100"], "requests:100")
    assert view["quality"] == [] and view["alerts"] == []


def test_time_ranges_versions_and_window_kinds_filter_the_history(loom: Client) -> None:
    starts = sorted(set(loom.drift_history("flights").start))
    later = loom.drift_history("flights", since=starts[1])
    assert sorted(set(later.start)) == starts[1:]
    middle = loom.drift_history("flights", since=starts[1].isoformat(), until=starts[2])
    assert sorted(set(middle.start)) == [starts[1]]
    assert loom.drift_history("flights", version=2).empty
    assert loom.drift_history("flights", window="daily").empty
    assert loom.quality_history("flights").empty


def test_status_is_the_latest_window(loom: Client) -> None:
    drift = loom.drift_history("flights")
    latest = drift[drift.start == drift.start.max()]
    status = loom.monitor_status("flights")
    assert (status["model"], status["version"], status["windowKind"], status["start"]) == ("flights", 1, "requests:100", drift.start.max())
    assert status["drifted"] == sorted(set(latest[latest.exceeded & (latest.against != "prediction")].feature))
    assert status["predictionDrift"] == bool(latest[latest.against == "prediction"].exceeded.any())
    assert loom.monitor_status("flights", version=2)["start"] is None


def test_refusals(loom: Client) -> None:
    with pytest.raises(LoomError) as unknown:
        loom.drift_history("nope")
    assert unknown.value.status == 404
    with pytest.raises(LoomError) as backwards:
        loom.drift_history("flights", since="2026-02-01", until="2026-01-01")
    assert (backwards.value.status, backwards.value.field) == (400, "from")
    with pytest.raises(LoomError) as window:
        loom.drift_history("flights", window="weekly")
    assert window.value.field == "window"
