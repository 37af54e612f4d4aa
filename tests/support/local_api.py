"""The app served over real HTTP on 127.0.0.1 by chalice's own local server (threaded, with a
thread-local ``current_request``), for concurrency tests and clients that speak HTTP."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer, ThreadedHTTPServer

from app import app
from chalicelib.http import local_gateway

local_gateway.install()  # chalice.local is loaded now, whatever order the test modules were imported in


class _BacklogServer(ThreadedHTTPServer):
    request_queue_size = 256  # the default (5) resets connections when 50 clients connect at once


class _QuietHandler(ChaliceRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve_app() -> Iterator[str]:
    config = Config.create(chalice_stage="local", app_name="onagawa-points")
    original_class = app.__class__
    if not isinstance(app, CustomLocalChalice):
        # What ``chalice local`` does: give the app a thread-local ``current_request``.
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    server = LocalDevServer(app, config, "127.0.0.1", 0, server_cls=_BacklogServer,
                            handler_cls=_QuietHandler)
    port = server.server.server_address[1]
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(timeout=10)
        app.__class__ = original_class


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
