"""The Chalice-facing edge: one decorator that gives every route its role, its error mapping,
its logging and its metrics, so views stay "parse -> call one service -> render".
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from chalice.app import Chalice, Request, Response

from chalicelib import bootstrap
from chalicelib.accounts.sessions import Principal
from chalicelib.config import ConfigurationError
from chalicelib.core.errors import DomainError, Forbidden
from chalicelib.http import requests as rq
from chalicelib.http.auth import authenticate, require_role
from chalicelib.http.errors import JSON_HEADERS, error_response, internal_error_response

logger = Logger(service="onagawa-points")
metrics = Metrics(namespace="OnagawaPoints", service="onagawa-points")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclasses.dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: tuple[str, ...]
    roles: tuple[str, ...]
    summary: str
    name: str


ROUTES: list[RouteInfo] = []


@dataclasses.dataclass(frozen=True)
class Ctx:
    request: Request
    principal: Principal | None

    @property
    def container(self) -> bootstrap.Container:
        return bootstrap.container()

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    def header(self, name: str) -> str | None:
        value = self.request.headers.get(name)
        return str(value) if value is not None else None

    def body(self, *, allowed: Collection[str], required: Collection[str] = ()) -> dict[str, Any]:
        return rq.parse_json_object(
            self.request.raw_body, self.request.headers.get("content-type"), allowed=allowed, required=required
        )

    def query_params(self, allowed: Collection[str]) -> dict[str, str]:
        return rq.query_params(self.request.query_params, allowed=allowed)

    @property
    def me(self) -> Principal:
        assert self.principal is not None
        return self.principal

    @property
    def merchant_id(self) -> str:
        """The signed-in merchant's shop; a merchant session without one is refused."""
        if not self.me.merchant_id:
            raise Forbidden()
        return self.me.merchant_id


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def endpoint(
    app: Chalice,
    path: str,
    *,
    methods: Sequence[str] = ("GET",),
    roles: Sequence[str] = (),
    summary: str = "",
    content_types: Sequence[str] | None = None,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a route. ``roles`` empty means public; otherwise a token of one of them is needed."""

    def decorate(fn: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def view(**kwargs: Any) -> Response:
            request = app.current_request
            assert request is not None
            try:
                principal = None
                if roles:
                    c = bootstrap.container()
                    headers = {k.lower(): v for k, v in request.headers.items()}
                    principal = require_role(
                        authenticate(headers, request.method, settings=c.settings, clock=c.clock, jwks=c.jwks),
                        *roles,
                    )
                    logger.append_keys(role=principal.role)
                return fn(Ctx(request, principal), **kwargs)
            except DomainError as exc:
                if not is_metrics_disabled():
                    metrics.add_metric(name=f"Error_{exc.code}", unit=MetricUnit.Count, value=1)
                return error_response(exc)
            except ConfigurationError as exc:
                logger.error("configuration error", extra={"detail": str(exc)})
                return internal_error_response()
            except Exception:
                logger.exception("unhandled error")
                return internal_error_response()

        kwargs: dict[str, Any] = {"methods": list(methods)}
        if content_types is not None:
            kwargs["content_types"] = list(content_types)
        app.route(path, name=fn.__name__, **kwargs)(view)
        ROUTES.append(RouteInfo(path, tuple(m.upper() for m in methods), tuple(roles), summary, fn.__name__))
        return view

    return decorate


def install_middleware(app: Chalice) -> None:
    from chalicelib.http.errors import rewrite_framework_error

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
        if correlation:
            headers["X-Request-Id"] = correlation
        response.headers = headers
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        logger.info("request", extra={"status": response.status_code, "duration_ms": elapsed_ms})
        # When metrics are disabled (local stage, tests) nothing is added: Powertools would otherwise
        # keep the values and print them itself once a metric holds 100 of them.
        if not is_metrics_disabled():
            metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
            try:
                metrics.flush_metrics(raise_on_empty_metrics=False)
            except Exception:  # metrics must never break a response
                logger.warning("metrics flush failed")
        logger.remove_keys(["correlation_id", "route", "method", "role"])
        return response
