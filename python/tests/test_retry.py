"""Refusals of a busy server (503 or 429 with Retry-After) against a real local HTTP server that
answers a scripted sequence: reads are sent again after the wait, writes never, long waits not
waited out, and a watched pipeline run is polled through them. These need no Loom server."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List, Optional, Tuple

import pytest

from loom_client import Client, LoomError, ModelServer

# (status, Retry-After or None, JSON body)
Answer = Tuple[int, Optional[str], dict]
BUSY: Answer = (503, "0", {"error_code": "UNAVAILABLE", "message": "the server is overloaded", "fix": "retry after 0 s"})


class Scripted:
    """A real HTTP server on loopback that answers each request with the next scripted answer (the last one repeats)."""

    def __init__(self) -> None:
        self.answers: List[Answer] = []
        self.seen: List[Tuple[str, str]] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                script.seen.append((self.command, self.path))
                status, retry_after, body = script.answers.pop(0) if len(script.answers) > 1 else script.answers[0]
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    yield server
    server.close()


def _run(state: str) -> dict:
    return {"run": {"runId": "r1", "pipeline": "flights", "state": state, "startedAt": 1796637600000}, "steps": []}


def test_a_read_refused_by_a_busy_server_is_sent_again_after_the_wait(scripted: Scripted) -> None:
    scripted.answers = [BUSY, (429, "0", {"error_code": "RESOURCE_EXHAUSTED", "message": "rate limited"}), (200, None, _run("COMPLETE"))]
    with Client(scripted.url) as client:
        assert client.pipeline_run("r1").state == "COMPLETE"
    assert len(scripted.seen) == 3


def test_reads_give_up_after_retries_and_raise_the_servers_refusal(scripted: Scripted) -> None:
    scripted.answers = [BUSY]
    with Client(scripted.url, retries=2) as client, pytest.raises(LoomError) as refused:
        client.pipeline_run("r1")
    assert (refused.value.code, refused.value.status) == ("UNAVAILABLE", 503)
    assert len(scripted.seen) == 3
    with Client(scripted.url, retries=0) as client, pytest.raises(LoomError):
        client.pipeline_run("r1")
    assert len(scripted.seen) == 4


def test_a_write_is_never_sent_twice(scripted: Scripted) -> None:
    scripted.answers = [BUSY, (202, None, {"runId": "r2"})]
    with Client(scripted.url) as client, pytest.raises(LoomError) as refused:
        client.rerun_pipeline("r1")
    assert refused.value.status == 503
    assert scripted.seen == [("POST", "/api/loom/pipeline-runs/r1/rerun")]


def test_a_refusal_without_retry_after_or_with_a_long_one_is_raised_at_once(scripted: Scripted) -> None:
    scripted.answers = [(503, None, BUSY[2]), (200, None, _run("COMPLETE"))]
    with Client(scripted.url) as client, pytest.raises(LoomError):
        client.pipeline_run("r1")
    scripted.answers = [(503, "3600", BUSY[2]), (200, None, _run("COMPLETE"))]
    with Client(scripted.url) as client, pytest.raises(LoomError):
        client.pipeline_run("r1")
    assert len(scripted.seen) == 2


def test_a_readiness_probe_reports_a_busy_server_at_once(scripted: Scripted) -> None:
    scripted.answers = [BUSY, (200, None, {"ready": True})]
    server = ModelServer(scripted.url)
    try:
        assert server.ready() is False
        assert server.ready() is True
    finally:
        server.close()
    assert len(scripted.seen) == 2


def test_a_watched_run_is_polled_through_refusals_until_it_ends(scripted: Scripted) -> None:
    scripted.answers = [(200, None, _run("RUNNING")), BUSY, BUSY, (200, None, _run("COMPLETE"))]
    states: List[str] = []
    with Client(scripted.url, retries=0) as client:
        run = client.wait_for_pipeline_run("r1", timeout=30, poll=0.01, on_change=lambda r: states.append(r.state))
    assert run.state == "COMPLETE" and states == ["RUNNING", "COMPLETE"]
    assert len(scripted.seen) == 4


def test_a_watch_still_raises_what_is_not_a_busy_server(scripted: Scripted) -> None:
    scripted.answers = [(404, None, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no pipeline run r1"})]
    with Client(scripted.url) as client, pytest.raises(LoomError) as missing:
        client.wait_for_pipeline_run("r1", timeout=30, poll=0.01)
    assert missing.value.status == 404 and len(scripted.seen) == 1


def test_retries_keep_within_the_clients_timeout(scripted: Scripted) -> None:
    scripted.answers = [(503, "2", BUSY[2])]
    with Client(scripted.url, timeout=1.0) as client, pytest.raises(LoomError) as refused:
        client.pipeline_run("r1")
    assert refused.value.status == 503 and len(scripted.seen) == 1, "a 2 s wait does not fit in a 1 s timeout: raised at once"


def test_a_watch_refused_past_its_timeout_says_so(scripted: Scripted) -> None:
    scripted.answers = [(503, "2", BUSY[2])]
    with Client(scripted.url) as client, pytest.raises(LoomError) as late:
        client.wait_for_pipeline_run("r1", timeout=0.3, poll=0.05)
    assert (late.value.code, late.value.status) == ("DEADLINE_EXCEEDED", 503)
    assert "kept refusing" in late.value.message and len(scripted.seen) >= 2
