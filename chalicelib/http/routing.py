"""Routes, declared once: path, method, role, request body, query, response and the errors it answers.

Each capability has a :class:`Routes` (a Chalice Blueprint plus these declarations). A view is a
plain function ``(ctx, **path_params, body=..., query=...) -> Struct | Reply | Response``; the
wrapper here authenticates, decodes the body and query against their Structs, calls the view,
encodes the answer and maps every domain error through ``http.errors``. The OpenAPI document is
generated from the same declarations (``http.openapi``), so what is served and what is documented
cannot drift apart.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from chalice.app import Blueprint, Request, Response

from chalicelib import bootstrap
from chalicelib.accounts.sessions import Principal
from chalicelib.config import ConfigurationError
from chalicelib.core import errors as e
from chalicelib.http.auth import authenticate, require_role
from chalicelib.http.bodies import decode_json, decode_query, encode
from chalicelib.http.errors import JSON_HEADERS, error_response, internal_error_response
from chalicelib.http.logs import logger, metrics_error

JSON = "application/json"


class Reply(msgspec.Struct, frozen=True):
    """A JSON answer with a status or headers other than the route's declared ones."""

    body: Any
    status: int | None = None
    headers: dict[str, Any] = msgspec.field(default_factory=dict)


class HeaderParam(msgspec.Struct, frozen=True):
    name: str
    required: bool
    schema: dict[str, Any]
    description: str = ""


class RouteSpec(msgspec.Struct, frozen=True):
    path: str
    method: str
    name: str
    summary: str
    roles: tuple[str, ...]
    status: int
    response: Any  # a Struct type, a media type string, or None (no body)
    body: type[Any] | None
    query: type[Any] | None
    headers: tuple[HeaderParam, ...]
    errors: tuple[type[e.DomainError], ...]
    include: Callable[[Any], bool] | None  # settings -> documented/served on this stage?
    path_params: tuple[str, ...]


ROUTES: list[RouteSpec] = []


class Ctx(msgspec.Struct, frozen=True):
    request: Request
    principal: Principal | None
    container: bootstrap.Container

    def header(self, name: str) -> str | None:
        value = self.request.headers.get(name)
        return str(value) if value is not None else None

    @property
    def me(self) -> Principal:
        if self.principal is None:  # routes without a role never ask
            raise e.Unauthenticated()
        return self.principal

    @property
    def merchant_id(self) -> str:
        """The signed-in merchant's shop; a merchant session without one is refused."""
        if not self.me.merchant_id:
            raise e.Forbidden()
        return self.me.merchant_id


def json_response(body: Any, status: int = 200, headers: dict[str, Any] | None = None) -> Response:
    # Chalice wants text for a non-binary media type
    return Response(body=encode(body).decode("utf-8"), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


class Routes:
    """A capability's routes: a Chalice Blueprint whose views are declared with :meth:`route`."""

    def __init__(self, import_name: str) -> None:
        self.blueprint = Blueprint(import_name)

    def route(
        self,
        path: str,
        method: str = "GET",
        *,
        summary: str,
        roles: Sequence[str] = (),
        status: int = 200,
        response: Any = None,
        body: type[Any] | None = None,
        query: type[Any] | None = None,
        headers: Sequence[HeaderParam] = (),
        errors: Sequence[type[e.DomainError]] = (),
        include: Callable[[Any], bool] | None = None,
        content_types: Sequence[str] | None = None,
        password_pending: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a route. ``password_pending``: usable by someone who must still change an initial
        password (the password change and logout); every other authenticated route answers 403
        ``password_change_required`` to them."""
        blueprint = self.blueprint
        method = method.upper()

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            accepts = set(inspect.signature(fn).parameters)
            path_params = tuple(s[1:-1] for s in path.split("/") if s.startswith("{") and s.endswith("}"))

            def view(**params: str) -> Response:
                request = blueprint.current_request
                try:
                    c = bootstrap.container()
                    if include is not None and not include(c.settings):
                        raise e.NotFound("このURLはありません。")
                    principal = None
                    if roles:
                        lowered = {k.lower(): v for k, v in request.headers.items()}
                        principal = require_role(authenticate(lowered, request.method, settings=c.settings,
                                                              sessions=c.sessions, keys=c.keys,
                                                              consumers=lambda: c.consumer_tokens), *roles)
                        logger.append_keys(role=principal.role)
                        if principal.must_change_password and not password_pending:
                            raise e.PasswordChangeRequired()
                    kwargs: dict[str, Any] = dict(params)
                    if query is not None:
                        kwargs["query"] = decode_query(request.query_params, query)
                    if body is not None:
                        kwargs["body"] = decode_json(request.raw_body, request.headers.get("content-type"), body)
                    if "raw_body" in accepts:
                        kwargs["raw_body"] = request.raw_body or b""
                    result = fn(Ctx(request, principal, c), **kwargs)
                    return render(result, status)
                except e.DomainError as exc:
                    metrics_error(exc.code)
                    return error_response(exc)
                except ConfigurationError as exc:
                    logger.error("configuration error", extra={"detail": str(exc)})
                    return internal_error_response()
                except Exception:
                    logger.exception("unhandled error")
                    return internal_error_response()

            view.__name__ = fn.__name__
            options: dict[str, Any] = {"methods": [method], "name": fn.__name__}
            if content_types is not None:
                options["content_types"] = list(content_types)
            elif body is not None:
                # Chalice refuses other media types itself (415) before the view runs.
                options["content_types"] = [JSON]
            blueprint.route(path, **options)(view)
            declared = tuple(errors)
            if roles and not password_pending:
                declared += (e.PasswordChangeRequired,)
            ROUTES.append(RouteSpec(
                path=path, method=method, name=fn.__name__, summary=summary, roles=tuple(roles), status=status,
                response=response, body=body, query=query, headers=tuple(headers), errors=declared,
                include=include, path_params=path_params))
            return fn

        return decorate


def render(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Reply):
        if isinstance(result.body, (bytes, str)):  # an answer stored as JSON (idempotent replay)
            raw = result.body.decode("utf-8") if isinstance(result.body, bytes) else result.body
            return Response(body=raw, status_code=result.status or status,
                            headers={**JSON_HEADERS, **result.headers})
        return json_response(result.body, result.status or status, result.headers)
    if result is None:
        return Response(body="", status_code=status, headers={"Cache-Control": "no-store"})
    if isinstance(result, msgspec.Struct):
        return json_response(result, status)
    raise TypeError(f"a view returned {type(result).__name__}")
