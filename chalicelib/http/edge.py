"""The middleware every request passes: correlation id, access log, latency metric, security
headers, and Chalice's own error bodies rewritten into the SPEC §9 shape."""

from __future__ import annotations

import time
from collections.abc import Callable

from chalice.app import Chalice, Request, Response

from chalicelib.http.errors import internal_error_response, rewrite_framework_error
from chalicelib.http.logs import logger, metrics_latency

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


HSTS = "max-age=63072000; includeSubDomains"


def _is_local() -> bool:
    from chalicelib import bootstrap

    try:
        return bootstrap.container().settings.is_local
    except Exception:  # no settings at all: be strict
        return False


def install_middleware(app: Chalice) -> None:
    @app.middleware("http")
    def edge_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
        started = time.perf_counter()
        context = getattr(event, "context", None) or {}
        correlation = str(context.get("requestId") or "")
        logger.append_keys(correlation_id=correlation, route=context.get("resourcePath"), method=event.method)
        try:
            response = rewrite_framework_error(get_response(event))
        except Exception:
            logger.exception("unhandled error outside a view")
            response = internal_error_response()
        headers = dict(response.headers or {})
        for key, value in SECURITY_HEADERS.items():
            headers.setdefault(key, value)
        if not _is_local():  # browsers must never reach a deployed stage over plain HTTP
            headers.setdefault("Strict-Transport-Security", HSTS)
        if correlation:
            headers["X-Request-Id"] = correlation
        response.headers = headers
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        logger.info("request", extra={"status": response.status_code, "duration_ms": elapsed_ms})
        metrics_latency(elapsed_ms)
        logger.remove_keys(["correlation_id", "route", "method", "role"])
        return response
