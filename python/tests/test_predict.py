"""Predictions from `loom serve` over KServe V2, on real March flights the model never saw."""
import numpy as np
import pandas as pd
import pytest

from loom_client import LoomError, ModelServer

FEATURES = ["date", "distance", "origin", "destination"]


@pytest.fixture()
def march(flights: pd.DataFrame) -> pd.DataFrame:
    rows = flights[flights.date >= "2001-03-01"].head(50)[FEATURES]
    return rows.set_index(pd.Index(range(100, 100 + len(rows))))


def test_metadata_names_the_raw_features(model_server: ModelServer) -> None:
    assert model_server.ready()
    metadata = model_server.model_metadata("flights")
    assert [i["name"] for i in metadata["inputs"]] == FEATURES
    assert [o["name"] for o in metadata["outputs"]] == ["probability"]


def test_predict_returns_a_probability_per_row_in_order(model_server: ModelServer, march: pd.DataFrame) -> None:
    scores = model_server.predict("flights", march)
    assert list(scores.columns) == ["probability"] and list(scores.index) == list(march.index)
    assert ((scores.probability > 0) & (scores.probability < 1)).all()
    assert scores.probability.nunique() > 1
    # Row i's score is row i's: reversed rows give reversed scores, one row alone gives its own.
    reversed_scores = model_server.predict("flights", march.iloc[::-1])
    np.testing.assert_allclose(reversed_scores.probability.to_numpy()[::-1], scores.probability.to_numpy(), rtol=1e-6)
    single = model_server.predict("flights", march.iloc[[7]])
    assert single.probability.iloc[0] == pytest.approx(scores.probability.iloc[7], rel=1e-6)


def test_arrays_and_raw_v2_agree(model_server: ModelServer, march: pd.DataFrame) -> None:
    arrays = model_server.predict_arrays("flights", {name: list(march[name]) for name in FEATURES}, version=1)
    assert arrays["probability"].shape == (len(march), 1) and arrays["probability"].dtype == np.float32
    raw = model_server.infer("flights", {"inputs": [
        {"name": "date", "datatype": "BYTES", "shape": [1, 1], "data": [march.date.iloc[0].isoformat()]},
        {"name": "distance", "datatype": "INT64", "shape": [1, 1], "data": [int(march.distance.iloc[0])]},
        {"name": "origin", "datatype": "BYTES", "shape": [1, 1], "data": [march.origin.iloc[0]]},
        {"name": "destination", "datatype": "BYTES", "shape": [1, 1], "data": [march.destination.iloc[0]]},
    ]})
    assert raw["outputs"][0]["data"][0] == pytest.approx(float(arrays["probability"][0, 0]), rel=1e-6)


def test_refusals_carry_the_servers_fix(model_server: ModelServer, march: pd.DataFrame) -> None:
    with pytest.raises(LoomError) as missing_column:
        model_server.predict("flights", march.drop(columns=["origin"]))
    assert (missing_column.value.code, missing_column.value.field) == ("INVALID_ARGUMENT", "origin")
    with pytest.raises(LoomError) as unknown:
        model_server.predict("nope", march)
    assert (unknown.value.code, unknown.value.status) == ("NOT_FOUND", 404) and "loom models ls" in (unknown.value.fix or "")
    with pytest.raises(LoomError) as bad_body:
        model_server.infer("flights", {"inputs": []})
    assert bad_body.value.code == "INVALID_ARGUMENT" and bad_body.value.fix
