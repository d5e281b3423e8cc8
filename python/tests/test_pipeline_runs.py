"""Pipeline runs, their steps, watching a run, and the tracking runs its train step logged."""
import pytest

from loom_client import Client, LoomError, PipelineRun

STEPS = ["ingest", "statistics", "schema", "validate", "transform", "train", "compose", "evaluate", "push"]


def test_runs_list_and_filter(loom: Client, run_id: str) -> None:
    runs = loom.pipeline_runs()
    assert list(runs.runId) == [run_id]
    assert (runs.pipeline[0], runs.state[0]) == ("flights", "COMPLETE")
    assert runs.endedAt[0] >= runs.startedAt[0]
    assert loom.pipeline_runs(state="FAILED").empty
    assert len(loom.pipeline_runs(pipeline="flights", limit=1)) == 1


def test_one_run_has_every_step_complete(loom: Client, run_id: str) -> None:
    run = loom.pipeline_run(run_id)
    assert (run.run_id, run.state, run.finished) == (run_id, "COMPLETE", True)
    assert sorted(run.steps.step) == sorted(STEPS)
    assert set(run.steps.state) == {"COMPLETE"}
    assert (run.steps.durationMs >= 0).all()
    push = run.steps.set_index("step").loc["push"]
    assert push.parameters["modelName"] == "flights"


def test_watching_a_finished_run_returns_it_at_once(loom: Client, run_id: str) -> None:
    seen: list[PipelineRun] = []
    run = loom.wait_for_pipeline_run(run_id, timeout=10, poll=0.1, on_change=seen.append)
    assert run.state == "COMPLETE" and len(seen) == 1


def test_an_unknown_run_is_refused(loom: Client) -> None:
    with pytest.raises(LoomError) as error:
        loom.pipeline_run("no-such-run")
    assert (error.value.code, error.value.status) == ("RESOURCE_DOES_NOT_EXIST", 404)
    assert "loom runs" in (error.value.fix or "")


def test_tracking_runs_and_metric_history(loom: Client, run_id: str) -> None:
    runs = loom.runs("flights")
    assert len(runs) == 1
    train = runs.iloc[0]
    assert train["tags.loom.pipeline_run"] == run_id and train["params.epochs"] == "1"
    assert 0.5 < train["metrics.eval_accuracy"] <= 1
    history = loom.metric_history(train.run_id, "eval_accuracy")
    assert list(history.columns) == ["step", "timestamp", "value"]
    assert history.step.is_monotonic_increasing and history.value.iloc[-1] == pytest.approx(train["metrics.eval_accuracy"])
    assert loom.runs("flights", filter="metrics.eval_accuracy > 1").empty
    with pytest.raises(LoomError) as missing:
        loom.runs("no-such-experiment")
    assert missing.value.status == 404


def test_a_run_is_triggered_again_by_an_editor_and_watched_to_its_end(loom: Client, editor: Client, run_id: str) -> None:
    with pytest.raises(LoomError) as refused:
        loom.rerun_pipeline(run_id)
    assert (refused.value.code, refused.value.status) == ("PERMISSION_DENIED", 403)
    seen: list[str] = []
    new_id = editor.rerun_pipeline(run_id)
    assert new_id != run_id
    run = editor.wait_for_pipeline_run(new_id, timeout=300, poll=0.2, on_change=lambda r: seen.append(r.state))
    assert (run.run_id, run.pipeline, run.state) == (new_id, "flights", "COMPLETE")
    assert sorted(run.steps.step) == sorted(STEPS)
    assert seen, "the watch saw the run"

