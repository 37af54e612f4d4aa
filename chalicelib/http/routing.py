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
    staff_roles: tuple[str, ...] = ()  # merchant staff roles admitted (SPEC §6a); () when no merchant role


ROUTES: list[RouteSpec] = []


class Ctx(msgspec.Struct, frozen=True):
    request: Request
    principal: Principal | None
    container: bootstrap.Container
    memo: dict[str, Any] = msgspec.field(default_factory=dict)  # reads kept for this request only

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

    @property
    def ip(self) -> str:
        """The caller's address as API Gateway saw it (``identity.sourceIp``); on chalice local, its
        stand-in."""
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "")

    @property
    def staff_role(self) -> str | None:
        return self.me.staff_role

    def merchant_stores(self) -> frozenset[str]:
        """Every shop of the signed-in merchant, read once per request."""
        if "stores" not in self.memo:
            self.memo["stores"] = self.container.merchant_store_ids(self.merchant_id)
        stores: frozenset[str] = self.memo["stores"]
        return stores

    def store_filter(self, requested: str) -> frozenset[str] | None:
        """The shops this request may see: ``None`` for every shop of the merchant, else a non-empty
        set. A named shop of another merchant → 404; outside the member's scope → 403."""
        from chalicelib.accounts.scope import allowed_stores

        scope = self.me.store_ids
        # Without reading the merchant's shops where the answer cannot depend on them (a poll of the
        # live feed stays one small read): a scope only ever names shops of its own merchant (checked
        # when the member was added; shops are never removed), the merchant id is its default shop, and
        # a shop once seen to be the merchant's stays so.
        if not requested:
            return None if scope is None else frozenset(scope)
        mine = (scope is not None and requested in scope) or self.container.merchant_has_store(self.merchant_id,
                                                                                                requested)
        return allowed_stores(scope, requested, frozenset({requested}) if mine else frozenset())

    def require_store(self, store_id: str) -> None:
        """403 when a record of this merchant belongs to a shop outside the member's scope."""
        from chalicelib.accounts.scope import require_store

        require_store(self.me.store_ids, store_id)

    def require_every_store(self) -> None:
        """For answers that cover the whole merchant (payouts, and any total not split by shop): 403
        unless the member's scope covers every shop."""
        from chalicelib.accounts.scope import OUT_OF_SCOPE, covers_every_store

        if not covers_every_store(self.me.store_ids, self.merchant_stores()):
            raise e.Forbidden(OUT_OF_SCOPE)

    def audit(self, action: str, target: str = "", *, merchant_id: str | None = None, detail: str = "",
              actor: str | None = None) -> None:
        """Append to the audit log as the caller: a merchant's entries go to its own log."""
        me = self.principal
        role = (me.staff_role or me.role) if me is not None else ""
        mid = merchant_id if merchant_id is not None else (me.merchant_id if me is not None else None)
        self.container.audit.record(actor or (me.subject if me is not None else ""), action, target, self.ip,
                                    merchant_id=mid, actor_role=role, detail=detail)


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
        staff_roles: Sequence[str] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a route. ``password_pending``: usable by someone who must still change an initial
        password (the password change and logout); every other authenticated route answers 403
        ``password_change_required`` to them.

        ``staff_roles``: which of a merchant's staff (owner, manager, clerk) the route admits. Every
        route open to the ``merchant`` role must say so explicitly (there is no default: a new route
        that forgot would be open to every clerk); the others answer 403 ``forbidden``. Shop scope is
        the view's part (``Ctx.store_filter``, ``Ctx.require_store``, ``Ctx.require_every_store``)."""
        blueprint = self.blueprint
        method = method.upper()
        if "merchant" in roles and staff_roles is None:
            raise TypeError(f"{method} {path}: a merchant route must declare staff_roles")
        if "merchant" not in roles and staff_roles:
            raise TypeError(f"{method} {path}: staff_roles without the merchant role")
        admitted = tuple(staff_roles or ())

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
                        if principal.role == "merchant":
                            from chalicelib.accounts.scope import require_staff_role

                            require_staff_role(principal.staff_role, admitted)
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
                include=include, path_params=path_params, staff_roles=admitted))
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
