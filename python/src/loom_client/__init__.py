"""Loom's Python client: the platform API (`loom server`) and the model server (`loom serve`).

- :class:`Client`: dataset versions and statistics, pipeline runs, lineage, the model registry,
  monitoring history, as pandas DataFrames.
- :class:`ModelServer`: predictions over KServe V2.
- :class:`LoomError`: every refusal, with the server's ``code``, ``message`` and ``fix``.

Logging runs, params, metrics and models is MLflow's job: the unchanged ``mlflow`` client works
against `loom server` (``MLFLOW_TRACKING_URI=<loom server url>``).
"""
from ._http import LoomError
from .client import Client, DatasetVersion, PipelineRun
from .serving import ModelServer

__all__ = ["Client", "DatasetVersion", "LoomError", "ModelServer", "PipelineRun"]
__version__ = "0.1.0"
