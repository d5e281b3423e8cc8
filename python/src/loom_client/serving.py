"""`ModelServer`: predictions from `loom serve` over KServe's Open Inference Protocol V2 (JSON).

Inputs are typed from the model's own metadata (``GET /v2/models/<name>``), so a DataFrame whose
columns are the model's raw features is all a caller needs to send.

Usage::

    from loom_client import ModelServer
    server = ModelServer("http://127.0.0.1:8080")
    scores = server.predict("flights", frame)            # DataFrame, one column per output
    arrays = server.predict_arrays("flights", frame)     # {"probability": ndarray}
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union
from urllib.parse import quote

import numpy as np
import pandas as pd

from ._http import LoomError, Transport

Features = Union[pd.DataFrame, Mapping[str, Union[Sequence[Any], np.ndarray, pd.Series]]]

# How a V2 datatype's values travel in JSON.
_NUMPY = {
    "BOOL": np.bool_, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
}


def _as_json_values(values: "pd.Series[Any]", datatype: str, name: str) -> List[Any]:
    if datatype == "BYTES":
        if pd.api.types.is_datetime64_any_dtype(values):
            # Timestamps travel as ISO 8601 text, as the model's datetime analyzer reads them.
            return [None if pd.isna(v) else v.isoformat() for v in values]
        return [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
    if datatype not in _NUMPY:
        raise LoomError("INVALID_ARGUMENT", f"input {name!r} has datatype {datatype}, which this client cannot send as JSON", field=name)
    try:
        return values.to_numpy().astype(_NUMPY[datatype]).tolist()
    except (TypeError, ValueError) as error:
        raise LoomError("INVALID_ARGUMENT", f"input {name!r} cannot be converted to {datatype}: {error}", field=name, fix="give the column the type the model's metadata names") from error


class ModelServer:
    """A `loom serve` (or any KServe V2 server) at ``url``; ``token`` as for :class:`loom_client.Client`."""

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 60.0, retries: int = 3) -> None:
        self._http = Transport(url, token, timeout, retries)
        self._metadata: Dict[str, Dict[str, Any]] = {}

    def close(self) -> None:
        self._http.close()

    def ready(self) -> bool:
        """Whether the server answers ready (every model it serves is loaded)."""
        try:
            return bool(self._http.request("GET", "/v2/health/ready", retry=False).get("ready", True))
        except LoomError:
            return False

    def model_metadata(self, model: str, version: Optional[Union[str, int]] = None) -> Dict[str, Any]:
        """The model's V2 metadata: ``name``, ``versions``, ``inputs`` and ``outputs`` with datatypes and shapes."""
        path = f"/v2/models/{quote(model, safe='')}" + (f"/versions/{quote(str(version), safe='')}" if version is not None else "")
        if path not in self._metadata:
            self._metadata[path] = dict(self._http.get(path))
        return self._metadata[path]

    def infer(self, model: str, body: Mapping[str, Any], version: Optional[Union[str, int]] = None) -> Dict[str, Any]:
        """Sends a V2 inference request body as given and returns the V2 response body."""
        path = f"/v2/models/{quote(model, safe='')}" + (f"/versions/{quote(str(version), safe='')}" if version is not None else "") + "/infer"
        return dict(self._http.post(path, dict(body)))

    def predict_arrays(self, model: str, features: Features, version: Optional[Union[str, int]] = None) -> Dict[str, np.ndarray]:
        """Scores rows of raw features; returns each output as an array shaped as the server answered."""
        table = features if isinstance(features, pd.DataFrame) else pd.DataFrame({k: list(v) for k, v in features.items()})
        metadata = self.model_metadata(model, version)
        inputs = []
        for spec in metadata.get("inputs", []):
            name = spec["name"]
            if name not in table.columns:
                raise LoomError("INVALID_ARGUMENT", f"the features have no column {name!r}", field=name, fix=f"give every input of the model: {', '.join(i['name'] for i in metadata['inputs'])}")
            inputs.append({"name": name, "datatype": spec["datatype"], "shape": [len(table), 1], "data": _as_json_values(table[name], spec["datatype"], name)})
        answer = self.infer(model, {"inputs": inputs}, version)
        return {o["name"]: np.asarray(o["data"], dtype=_NUMPY.get(o.get("datatype", ""), object)).reshape(o["shape"]) for o in answer.get("outputs", [])}

    def predict(self, model: str, features: Features, version: Optional[Union[str, int]] = None) -> pd.DataFrame:
        """Scores rows of raw features; one column per output (``name_0``, ``name_1``... for a multi-column output), indexed like the input."""
        arrays = self.predict_arrays(model, features, version)
        index = features.index if isinstance(features, pd.DataFrame) else None
        columns: Dict[str, np.ndarray] = {}
        for name, array in arrays.items():
            flat = array.reshape(array.shape[0], -1) if array.ndim > 0 else array.reshape(1, 1)
            if flat.shape[1] == 1:
                columns[name] = flat[:, 0]
            else:
                for j in range(flat.shape[1]):
                    columns[f"{name}_{j}"] = flat[:, j]
        return pd.DataFrame(columns, index=index)
