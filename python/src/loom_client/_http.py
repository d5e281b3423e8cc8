"""The one HTTP transport of the client: base URL, bearer token, timeouts, and Loom's errors.

Both servers answer a refusal with a JSON body that names a code, a message and usually a fix
(`loom server` in MLflow's shape, ``{"error_code", "message", "fix"}``; `loom serve` in KServe's,
``{"error", "error_code", "fix"}``). Every such answer becomes a :class:`LoomError`, so a caller
handles one exception type and can show the server's own fix.
"""
from __future__ import annotations

import os
import time
from email.utils import parsedate_to_datetime
from typing import Any, Mapping, Optional

import requests


class LoomError(Exception):
    """A request that Loom refused or could not answer.

    Attributes:
        code: Loom's error code (``NOT_FOUND``, ``INVALID_ARGUMENT``, ``UNAUTHENTICATED``,
            ``PERMISSION_DENIED``...; MLflow-shaped codes such as ``RESOURCE_DOES_NOT_EXIST`` from
            `loom server`; ``UNAVAILABLE`` when the server could not be reached).
        message: what went wrong, as the server said it.
        fix: what to do about it, when the server said.
        field: the request field at fault, when the server named one.
        status: the HTTP status (``None`` when no answer came).
    """

    def __init__(self, code: str, message: str, *, fix: Optional[str] = None, field: Optional[str] = None, status: Optional[int] = None) -> None:
        super().__init__(f"{code}: {message}" + (f" (fix: {fix})" if fix else ""))
        self.code = code
        self.message = message
        self.fix = fix
        self.field = field
        self.status = status


def _error_of(response: requests.Response) -> LoomError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("error_code") or body.get("code") or f"HTTP_{response.status_code}"
        message = body.get("message") or body.get("error") or response.reason
        return LoomError(str(code), str(message), fix=body.get("fix"), field=body.get("field"), status=response.status_code)
    return LoomError(f"HTTP_{response.status_code}", response.text.strip()[:500] or response.reason, status=response.status_code)


# Refusals a server makes before doing any of the work, with the wait it asks for (Retry-After):
# load shedding (503) and rate limits (429). Only methods that may be repeated are retried.
_RETRY_STATUSES = frozenset({429, 503})
_REPEATABLE = frozenset({"GET", "HEAD", "OPTIONS"})
# A Retry-After longer than this is not waited out: the refusal is raised for the caller to decide.
_MAX_RETRY_AFTER_S = 30.0


def _retry_after(response: requests.Response) -> Optional[float]:
    """The wait a retryable refusal asks for, in seconds; None when it is not one or names none."""
    value = response.headers.get("Retry-After") if response.status_code in _RETRY_STATUSES else None
    if value is None:
        return None
    try:
        wait = float(value)
    except ValueError:
        try:
            wait = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, wait) if wait <= _MAX_RETRY_AFTER_S else None


class Transport:
    """A base URL with a session that sends the token; every call returns parsed JSON or raises LoomError.

    A read (GET, HEAD, OPTIONS) that the server refuses with 429 or 503 and a ``Retry-After`` (an
    overloaded or rate-limited server, which did none of the work) is sent again after that wait,
    up to ``retries`` times and only while the wait ends within ``timeout`` of the first attempt;
    then the refusal is raised.
    """

    def __init__(self, url: str, token: Optional[str], timeout: float, retries: int = 3) -> None:
        if not url.startswith(("http://", "https://")):
            raise LoomError("INVALID_ARGUMENT", f"{url!r} is not an http(s) URL", fix="pass the address the server printed, e.g. http://127.0.0.1:5000")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.session = requests.Session()
        # A local server must not be reached through an HTTP proxy from the environment.
        self.session.trust_env = False
        self.session.proxies = {}
        token = token if token is not None else os.environ.get("LOOM_TOKEN") or None
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, *, params: Optional[Mapping[str, Any]] = None, json: Any = None, retry: bool = True) -> Any:
        """Sends one request and returns its JSON body; raises LoomError on any refusal.

        ``retry=False`` raises a retryable refusal at once (a probe that should report, not wait).
        """
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        attempts = self.retries if retry and method.upper() in _REPEATABLE else 0
        deadline = time.monotonic() + self.timeout
        while True:
            response = self._send(method, path, clean, json)
            wait = _retry_after(response) if attempts > 0 else None
            if wait is None or time.monotonic() + wait > deadline:
                break
            attempts -= 1
            response.close()
            time.sleep(wait)
        if response.status_code >= 400:
            raise _error_of(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise LoomError("INTERNAL", f"{method} {path} answered {response.status_code} with a body that is not JSON", status=response.status_code) from error

    def _send(self, method: str, path: str, params: Mapping[str, Any], json: Any) -> requests.Response:
        try:
            return self.session.request(method, self.url + path, params=params, json=json, timeout=self.timeout)
        except requests.RequestException as error:
            raise LoomError("UNAVAILABLE", f"could not reach {self.url}: {error}", fix="check that the server is running at that address (`loom server` / `loom serve`)") from error

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("POST", path, params=params, json=body)

    def close(self) -> None:
        self.session.close()
