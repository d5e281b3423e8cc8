"""`Client`: Loom's platform API (`loom server`) from Python, with pandas DataFrames for tables.

Usage::

    from loom_client import Client
    loom = Client("http://127.0.0.1:5000")            # token: Client(url, token=...) or LOOM_TOKEN
    versions = loom.dataset_versions()                 # DataFrame, newest first
    stats = loom.dataset_statistics(versions.version[0], split="train")
    run = loom.pipeline_run(loom.pipeline_runs().runId[0])
    lineage = loom.lineage("flights", "champion")
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Union
from urllib.parse import quote

import pandas as pd

from ._http import LoomError, Transport
from .frames import anomalies_frame, frame, statistics_frame

_LOOM = "/api/loom"
_MLFLOW = "/api/2.0/mlflow"
_FINISHED = ("COMPLETE", "FAILED", "CANCELED")

Time = Union[str, int, float, pd.Timestamp, None]


def _ms(value: Time) -> Optional[int]:
    """A time as epoch milliseconds: a timestamp, an ISO 8601 string, or epoch ms as given."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // 1_000_000)


def _stamp(ms: Optional[int]) -> Optional[pd.Timestamp]:
    return None if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC")


def _path(part: str) -> str:
    return quote(part, safe="")


@dataclass(frozen=True)
class PipelineRun:
    """One pipeline run: its summary (``run_id``, ``pipeline``, ``state``, times) and its steps as a DataFrame."""

    run_id: str
    pipeline: str
    state: str
    started_at: Optional[pd.Timestamp]
    ended_at: Optional[pd.Timestamp]
    steps: pd.DataFrame
    raw: Dict[str, Any]

    @property
    def finished(self) -> bool:
        """Whether the run has ended (complete, failed or canceled)."""
        return self.state in _FINISHED


@dataclass(frozen=True)
class DatasetVersion:
    """A dataset version (a content-hashed snapshot), its statistics per split and feature, and its anomalies."""

    version: str
    details: Dict[str, Any]
    statistics: pd.DataFrame
    anomalies: pd.DataFrame


class Client:
    """Reads and drives a Loom project through `loom server`.

    Args:
        url: the server's address as it printed it, e.g. ``http://127.0.0.1:5000``.
        token: an API token (``loom token create``); default the ``LOOM_TOKEN`` environment
            variable; sent as ``Authorization: Bearer``. Without one, the server must run open.
        timeout: seconds to wait for any one answer.
        retries: how many times a read refused by a busy server (429 or 503 with ``Retry-After``)
            is sent again after the wait it asks for, within ``timeout``; 0 raises the first refusal.

    Every method raises :class:`loom_client.LoomError` (code, message, fix) when the server refuses.
    """

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 60.0, retries: int = 3) -> None:
        self._http = Transport(url, token, timeout, retries)

    @property
    def url(self) -> str:
        return self._http.url

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _pages(self, path: str, key: str, params: Dict[str, Any], limit: Optional[int] = None) -> Iterator[Dict[str, Any]]:
        """Every item of a server-paged list (``max_results``/``page_token``), up to ``limit``."""
        token: Optional[str] = None
        seen = 0
        while True:
            size = 1000 if limit is None else max(1, min(1000, limit - seen))
            page = self._http.get(path, **params, max_results=size, page_token=token)
            for item in page.get(key, []):
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            token = page.get("next_page_token")
            if not token:
                return

    # Datasets -----------------------------------------------------------------------------

    def dataset_versions(self, source: Optional[str] = None) -> pd.DataFrame:
        """Dataset versions, newest first: ``version`` (content hash), ``span``, ``source``, row counts, the run that made it.

        ``source`` keeps the versions whose source path contains it.
        """
        items = list(self._pages(f"{_LOOM}/datasets", "versions", {"source": source}))
        return frame(items, ["version", "span", "source", "sourceKind", "rowCounts", "badRows", "timeRange", "createdAt", "madeBy"])

    def dataset_version(self, version: str) -> DatasetVersion:
        """One dataset version (a hash or a unique prefix of one, at least 4 characters) with its statistics and anomalies."""
        answer = self._http.get(f"{_LOOM}/datasets/{_path(version)}")
        statistics = answer.get("statistics") or {"splits": {}}
        return DatasetVersion(version=answer["version"]["version"], details=answer["version"], statistics=statistics_frame(statistics), anomalies=anomalies_frame(statistics))

    def dataset_statistics(self, version: str, split: Optional[str] = None) -> pd.DataFrame:
        """A dataset version's statistics: one row per split and feature (count, missing, mean, std, quantiles ``q01``..``q99``, unique, top values)."""
        answer = self._http.get(f"{_LOOM}/datasets/{_path(version)}")
        return statistics_frame(answer.get("statistics") or {"splits": {}}, split)

    # Pipeline runs ------------------------------------------------------------------------

    def pipeline_runs(self, pipeline: Optional[str] = None, state: Optional[str] = None, limit: Optional[int] = 100) -> pd.DataFrame:
        """Pipeline runs, newest first: ``runId``, ``pipeline``, ``state``, ``startedAt``, ``endedAt``; ``limit=None`` for all."""
        items = list(self._pages(f"{_LOOM}/pipeline-runs", "runs", {"pipeline": pipeline, "state": state}, limit))
        return frame(items, ["runId", "pipeline", "state", "startedAt", "endedAt", "codeVersion"])

    def pipeline_run(self, run_id: str) -> PipelineRun:
        """One pipeline run with a row per step (state, attempts, duration, parameters, inputs, outputs, error)."""
        return self._pipeline_run(run_id, retry=True)

    def _pipeline_run(self, run_id: str, *, retry: bool) -> PipelineRun:
        answer = self._http.request("GET", f"{_LOOM}/pipeline-runs/{_path(run_id)}", retry=retry)
        summary = answer["run"]
        steps = frame(answer.get("steps", []), ["step", "component", "state", "attempts", "durationMs", "executionId", "error", "reason", "parameters", "inputs", "outputs"])
        return PipelineRun(summary["runId"], summary["pipeline"], summary["state"], _stamp(summary.get("startedAt")), _stamp(summary.get("endedAt")), steps, answer)

    def rerun_pipeline(self, run_id: str) -> str:
        """Runs a recorded pipeline run's pipeline file again on the server, as the caller, and returns
        the new run's id at once; watch it with ``wait_for_pipeline_run``.

        Needs the editor or admin role (a viewer gets LoomError ``PERMISSION_DENIED``); the server
        records it in its audit log. Steps whose inputs and code are unchanged are cache hits.
        """
        answer = self._http.post(f"{_LOOM}/pipeline-runs/{_path(run_id)}/rerun", None)
        return str(answer["runId"])

    def wait_for_pipeline_run(self, run_id: str, *, timeout: float = 3600.0, poll: float = 1.0, on_change: Optional[Callable[[PipelineRun], None]] = None) -> PipelineRun:
        """Watches a run until it ends and returns it; ``on_change`` sees it whenever a step changes state.

        A server too busy to answer (503 or 429: the run itself may be what keeps it busy) is asked
        again at the next poll. Raises LoomError ``DEADLINE_EXCEEDED`` if the run is still going
        after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        last: Optional[List[Any]] = None
        while True:
            try:
                # Not retried inside: this loop asks again, and keeps to its own deadline.
                run = self._pipeline_run(run_id, retry=False)
            except LoomError as error:
                if error.status not in (429, 503):
                    raise
                if time.monotonic() >= deadline:
                    raise LoomError("DEADLINE_EXCEEDED", f"pipeline run {run_id} could not be read for {timeout:g} s: the server kept refusing ({error.message})", fix=error.fix, status=error.status) from error
                time.sleep(poll)
                continue
            states = [run.state, *run.steps.get("state", pd.Series(dtype=object)).tolist()]
            if on_change is not None and states != last:
                on_change(run)
            last = states
            if run.finished:
                return run
            if time.monotonic() >= deadline:
                raise LoomError("DEADLINE_EXCEEDED", f"pipeline run {run_id} is still {run.state} after {timeout:g} s", fix="wait longer (timeout=...) or look at it with `loom runs show`")
            time.sleep(poll)

    # Lineage and tracking -----------------------------------------------------------------

    def lineage(self, model: str, version: Union[str, int] = "champion", *, max_hops: int = 30) -> Dict[str, Any]:
        """Where a model version came from: ``model``, ``dataSnapshots``, ``codeVersions`` and every ``executions`` step, newest first."""
        return dict(self._http.get(f"{_LOOM}/models/{_path(model)}/lineage", version=str(version), max_hops=max_hops))

    def metric_history(self, run_id: str, key: str, *, max_points: int = 0) -> pd.DataFrame:
        """One metric of a tracking (MLflow) run: ``step``, ``timestamp``, ``value`` in step order; ``max_points`` > 0 downsamples on the server (min and max per bucket kept)."""
        answer = self._http.get(f"{_LOOM}/runs/{_path(run_id)}/metric-history", key=key, max_points=max_points)
        rows = [{"step": s, "timestamp": t, "value": v} for s, t, v in zip(answer.get("steps", []), answer.get("timestamps", []), answer.get("values", []))]
        return frame(rows, ["step", "timestamp", "value"])

    def runs(self, experiment: str, *, filter: Optional[str] = None, limit: Optional[int] = 1000) -> pd.DataFrame:
        """An experiment's tracking runs, newest first, as ``mlflow.search_runs`` shapes them: ``run_id``, ``run_name``,
        ``status``, ``start_time``, ``end_time`` and a ``metrics.<key>``, ``params.<key>``, ``tags.<key>`` column each.

        ``filter`` is an MLflow search filter (``"metrics.eval_accuracy > 0.7"``). Logging runs is MLflow's
        job: its unchanged client works against `loom server`.
        """
        found = self._http.get(f"{_MLFLOW}/experiments/get-by-name", experiment_name=experiment)["experiment"]
        rows: List[Dict[str, Any]] = []
        token: Optional[str] = None
        while limit is None or len(rows) < limit:
            body: Dict[str, Any] = {"experiment_ids": [found["experiment_id"]], "max_results": 1000 if limit is None else min(1000, limit - len(rows)), "order_by": ["attributes.start_time DESC"]}
            if filter:
                body["filter"] = filter
            if token:
                body["page_token"] = token
            page = self._http.post(f"{_MLFLOW}/runs/search", body)
            for run in page.get("runs", []):
                info, data = run["info"], run.get("data", {})
                rows.append({
                    **{k: info.get(k) for k in ("run_id", "run_name", "experiment_id", "status", "start_time", "end_time")},
                    **{f"metrics.{m['key']}": m["value"] for m in data.get("metrics", [])},
                    **{f"params.{p['key']}": p["value"] for p in data.get("params", [])},
                    **{f"tags.{t['key']}": t["value"] for t in data.get("tags", [])},
                })
            token = page.get("next_page_token")
            if not token:
                break
        return frame(rows, ["run_id", "run_name", "experiment_id", "status", "start_time", "end_time"])

    # Model registry (MLflow's registry REST, as `loom server` serves it) -------------------

    def models(self) -> pd.DataFrame:
        """Registered models: ``name``, ``description``, ``aliases`` (alias -> version), times."""
        items = list(self._pages(f"{_MLFLOW}/registered-models/search", "registered_models", {}))
        rows = [{**m, "aliases": {a["alias"]: int(a["version"]) for a in m.get("aliases", [])}} for m in items]
        return frame([{k: v for k, v in r.items() if k != "latest_versions"} for r in rows], ["name", "description", "aliases", "creation_timestamp", "last_updated_timestamp"])

    def model_versions(self, name: str) -> pd.DataFrame:
        """A model's versions, newest first: ``version``, ``aliases``, ``source``, ``run_id``, ``status``, times."""
        escaped = name.replace("'", "\\'")
        items = list(self._pages(f"{_MLFLOW}/model-versions/search", "model_versions", {"filter": f"name='{escaped}'"}))
        rows = [{**v, "version": int(v["version"])} for v in items]
        df = frame(rows, ["name", "version", "aliases", "source", "run_id", "status", "description", "creation_timestamp"])
        return df.sort_values("version", ascending=False, ignore_index=True) if len(df) else df

    def model_version(self, name: str, alias_or_version: Union[str, int]) -> Dict[str, Any]:
        """One model version, by number or by alias (``"champion"``), as MLflow's registry describes it."""
        if isinstance(alias_or_version, int) or str(alias_or_version).isdigit():
            return dict(self._http.get(f"{_MLFLOW}/model-versions/get", name=name, version=str(alias_or_version))["model_version"])
        return dict(self._http.get(f"{_MLFLOW}/registered-models/alias", name=name, alias=alias_or_version)["model_version"])

    def alias_history(self, name: str, alias: str) -> pd.DataFrame:
        """Every move of an alias, oldest first: ``version``, ``previousVersion``, ``kind``, ``actor``, ``reason``, ``movedAt``."""
        answer = self._http.get(f"{_LOOM}/models/{_path(name)}/aliases/{_path(alias)}/history")
        return frame(answer.get("moves", []), ["modelName", "alias", "version", "previousVersion", "kind", "actor", "reason", "movedAt"])

    # Monitoring ---------------------------------------------------------------------------

    def monitoring(self, model: str, version: Optional[int] = None, *, window: Optional[str] = None, since: Time = None, until: Time = None) -> Dict[str, Any]:
        """What ``loom monitor`` recorded for a model, as the server groups it: ``versions``, ``version``,
        ``windowKinds``, ``windowKind``, ``drift`` and ``quality`` series, and ``alerts`` with their actions.

        One version (default the newest recorded) and one window kind (``hourly``, ``daily``,
        ``requests:N``; default the first recorded) at a time; ``since``/``until`` bound the window starts.
        """
        return dict(self._http.get(f"{_LOOM}/monitoring/{_path(model)}", version=version, window=window, **{"from": _ms(since), "to": _ms(until)}))

    def drift_history(self, model: str, version: Optional[int] = None, *, window: Optional[str] = None, since: Time = None, until: Time = None) -> pd.DataFrame:
        """Recorded drift figures, one row per window, feature and comparison, in window order.

        Columns: ``start`` (the window's start), ``against`` (training, previous or prediction),
        ``feature``, ``measure``, ``value`` (NaN where inconclusive), ``threshold``, ``exceeded``;
        plus ``version`` and ``windowKind``. Arguments as for :meth:`monitoring`.
        """
        view = self.monitoring(model, version, window=window, since=since, until=until)
        rows = [
            {"version": view["version"], "windowKind": view["windowKind"], "start": start, "against": s["against"], "feature": s["feature"], "measure": s["measure"], "value": value, "threshold": s["threshold"], "exceeded": exceeded}
            for s in view.get("drift", [])
            for start, value, exceeded in zip(s["starts"], s["values"], s["exceeded"])
        ]
        df = frame(rows, ["version", "windowKind", "start", "against", "feature", "measure", "value", "threshold", "exceeded"])
        return df.sort_values(["start", "against", "feature"], ignore_index=True, kind="stable") if len(df) else df

    def quality_history(self, model: str, version: Optional[int] = None, *, window: Optional[str] = None, since: Time = None, until: Time = None) -> pd.DataFrame:
        """Recorded online quality (``loom monitor quality``), one row per window and metric: ``kind`` (estimated or measured), ``metric``, ``value``, ``labelled``."""
        view = self.monitoring(model, version, window=window, since=since, until=until)
        rows = [
            {"version": view["version"], "windowKind": view["windowKind"], "start": start, "kind": s["kind"], "metric": s["metric"], "value": value, "labelled": labelled}
            for s in view.get("quality", [])
            for start, value, labelled in zip(s["starts"], s["values"], s["labelled"])
        ]
        df = frame(rows, ["version", "windowKind", "start", "kind", "metric", "value", "labelled"])
        return df.sort_values(["start", "kind", "metric"], ignore_index=True, kind="stable") if len(df) else df

    def monitor_status(self, model: str, version: Optional[int] = None, *, window: Optional[str] = None) -> Dict[str, Any]:
        """The latest recorded window: ``{"model", "version", "windowKind", "start", "drifted", "predictionDrift", "quality", "alerts"}``.

        ``drifted`` lists the features whose drift against training or the previous window exceeded its
        threshold there; ``quality`` maps ``"<kind>.<metric>"`` to the window's value; ``alerts`` are the
        version's alerts, newest first. ``start`` is None when nothing was recorded.
        """
        view = self.monitoring(model, version, window=window)
        starts = [start for s in view.get("drift", []) + view.get("quality", []) for start in s["starts"]]
        status: Dict[str, Any] = {"model": model, "version": view.get("version"), "windowKind": view.get("windowKind"), "start": None, "drifted": [], "predictionDrift": False, "quality": {}, "alerts": view.get("alerts", [])}
        if not starts:
            return status
        latest = max(starts)

        def at(series: Dict[str, Any]) -> Optional[int]:
            return series["starts"].index(latest) if latest in series["starts"] else None

        drift = [(s, at(s)) for s in view.get("drift", [])]
        status["start"] = pd.Timestamp(latest, unit="ms", tz="UTC")
        status["drifted"] = sorted({s["feature"] for s, i in drift if i is not None and s["exceeded"][i] and s["against"] != "prediction"})
        status["predictionDrift"] = any(i is not None and s["exceeded"][i] for s, i in drift if s["against"] == "prediction")
        status["quality"] = {f"{s['kind']}.{s['metric']}": s["values"][i] for s in view.get("quality", []) for i in [at(s)] if i is not None}
        return status
