"""The app served over real HTTP on 127.0.0.1 by the server ``make run`` runs (``devstack.serve``: chalice's
local server, threaded, with a thread-local ``current_request`` and a listen backlog for 50+ clients), in a
thread of this process, for concurrency tests and clients that speak HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app import app
from devstack.serve import LocalApiServer


@contextmanager
def serve_app() -> Iterator[str]:
    """Serve ``app`` on a free port until the block ends; yields the base URL (no trailing slash)."""
    with LocalApiServer(app, quiet=True) as server:
        yield server.base_url


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
              timeout: float = 60) -> tuple[int, Any, dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None, dict(exc.headers)
