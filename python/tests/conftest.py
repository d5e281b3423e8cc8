"""Fixtures over the real servers `test/python-client.test.ts` starts: a `loom server` that requires a
token, a `loom serve` of the same project, the id of the flights pipeline run that built it, and the
CSV it read. Run through `npm test` (or set the LOOM_TEST_* variables by hand)."""
from __future__ import annotations

import json
import os
from typing import Iterator

import pandas as pd
import pytest

from loom_client import Client, ModelServer


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set: run these tests through `npm test` (test/python-client.test.ts)")
    return value


@pytest.fixture(scope="session")
def server_url() -> str:
    return _env("LOOM_TEST_SERVER_URL")


@pytest.fixture(scope="session")
def token() -> str:
    return _env("LOOM_TEST_TOKEN")


@pytest.fixture(scope="session")
def loom(server_url: str, token: str) -> Iterator[Client]:
    with Client(server_url, token=token) as client:
        yield client


@pytest.fixture(scope="session")
def editor(server_url: str) -> Iterator[Client]:
    """A client with an editor's token, for the changes a viewer may not make."""
    with Client(server_url, token=_env("LOOM_TEST_EDITOR_TOKEN")) as client:
        yield client


@pytest.fixture(scope="session")
def model_server() -> Iterator[ModelServer]:
    server = ModelServer(_env("LOOM_TEST_SERVE_URL"))
    yield server
    server.close()


@pytest.fixture(scope="session")
def run_id() -> str:
    return _env("LOOM_TEST_RUN_ID")


@pytest.fixture(scope="session")
def flights() -> pd.DataFrame:
    """The CSV the pipeline ingested (January to March 2001, a slice), read independently with pandas."""
    frame = pd.read_csv(_env("LOOM_TEST_SOURCE"), parse_dates=["date"])
    return frame.sort_values("date", ignore_index=True)


@pytest.fixture(scope="session")
def monitor_report() -> dict:
    """What `loom monitor drift flights@champion --window requests:100 --json` printed when it recorded the figures."""
    with open(_env("LOOM_TEST_MONITOR_JSON"), encoding="utf8") as file:
        return dict(json.load(file))
