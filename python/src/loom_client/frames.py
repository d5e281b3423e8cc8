"""Loom's JSON answers as pandas DataFrames: one row per item, times as UTC timestamps."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

import pandas as pd

# Fields the servers send as epoch milliseconds (Loom's camelCase and MLflow's snake_case).
_TIME_FIELDS = {
    "startedAt", "endedAt", "createdAt", "movedAt", "recordedAt", "start", "end", "loggedAt",
    "creation_timestamp", "last_updated_timestamp", "start_time", "end_time", "timestamp",
}


def frame(items: Iterable[Mapping[str, Any]], columns: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """Rows from JSON objects, with epoch-millisecond fields turned into UTC timestamps.

    ``columns`` gives the columns of an empty answer (and their order when there are rows).
    """
    rows = list(items)
    df = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(columns or []))
    if columns and rows:
        df = df[[c for c in columns if c in df.columns] + [c for c in df.columns if c not in columns]]
    for name in df.columns:
        if name in _TIME_FIELDS and len(df) > 0:
            values = pd.to_numeric(df[name], errors="coerce")
            df[name] = pd.to_datetime(values, unit="ms", utc=True)
    return df


def statistics_frame(statistics: Mapping[str, Any], split: Optional[str] = None) -> pd.DataFrame:
    """One row per split and feature: counts, numeric moments and quantiles, string cardinality and top values."""
    rows = []
    for split_name, split_stats in statistics.get("splits", {}).items():
        if split is not None and split_name != split:
            continue
        for feature in split_stats.get("features", []):
            numeric = feature.get("numeric") or {}
            string = feature.get("string") or {}
            timestamp = feature.get("timestamp") or {}
            quantiles = {f"q{round(q['q'] * 100):02d}": q["value"] for q in numeric.get("quantiles", [])}
            rows.append({
                "split": split_name,
                "feature": feature["name"],
                "type": feature.get("type"),
                "count": feature.get("count"),
                "missing": feature.get("missing"),
                "rows": split_stats.get("rowCount"),
                "mean": numeric.get("mean"),
                "std": numeric.get("std"),
                "min": numeric.get("min", timestamp.get("min")),
                "max": numeric.get("max", timestamp.get("max")),
                "median": numeric.get("median"),
                "zeros": numeric.get("zeros"),
                **quantiles,
                "unique": string.get("unique"),
                "top_values": [(t["value"], t["count"]) for t in string.get("topValues", [])] if string else None,
                "histogram": [(h["low"], h["high"], h["count"]) for h in numeric.get("histogram", [])] if numeric else None,
            })
    if split is not None and not rows and split not in statistics.get("splits", {}):
        from ._http import LoomError

        raise LoomError("NOT_FOUND", f"the statistics have no split {split!r}", fix=f"use one of: {', '.join(statistics.get('splits', {}))}", field="split")
    return frame(rows, ["split", "feature", "type", "count", "missing", "rows"])


def anomalies_frame(statistics: Mapping[str, Any]) -> pd.DataFrame:
    """One row per anomaly the validate step found on the version, per split."""
    rows = []
    for report in statistics.get("anomalies") or []:
        for anomaly in report.get("anomalies", []):
            rows.append({"split": report.get("split"), "feature": anomaly.get("feature"), "type": anomaly.get("type"), "severity": anomaly.get("severity"), "description": anomaly.get("long") or anomaly.get("short")})
    return frame(rows, ["split", "feature", "type", "severity", "description"])
