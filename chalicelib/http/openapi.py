"""The OpenAPI 3.1 document, generated from the route declarations (``http.routing.ROUTES``).

Paths, methods, roles, parameters, request bodies and success answers come from what each route
declared and Chalice serves; schemas come from the same ``msgspec`` Structs that decode and encode
the bodies. Every status a route can answer is listed: its success, 400 when it takes input, 401 and
403 when it needs a role, 404 when it names a resource, 405 for other methods on its path, 415 when
it takes a JSON body, and the statuses of the domain errors it declares.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from chalicelib.config import Settings
from chalicelib.http.errors import Error, status_of
from chalicelib.http.routing import ROUTES, RouteSpec

REF = "#/components/schemas/{name}"
DESCRIPTIONS = {
    "400": "invalid_request / invalid_qr: malformed JSON, wrong types, unknown fields, out of range",
    "401": "unauthenticated: no token, or an invalid or expired one",
    "403": "forbidden: a token of another role, or a merchant staff member outside the route's x-staff-roles "
           "or shops",
    "404": "not_found",
    "405": "invalid_request: this path does not take that method",
    "409": "a conflict: see the error code",
    "415": "invalid_request: the body must be application/json",
    "429": "too_many_attempts",
    "503": "service_unavailable",
}


def _struct_types() -> list[Any]:
    types: list[Any] = [Error]
    for r in ROUTES:
        for t in (r.body, r.query, r.response):
            if isinstance(t, type) and issubclass(t, msgspec.Struct) and t not in types:
                types.append(t)
    return types


@functools.cache
def _components() -> tuple[dict[type[Any], dict[str, Any]], dict[str, Any]]:
    types = _struct_types()
    refs, components = msgspec.json.schema_components(types, ref_template=REF)
    return dict(zip(types, refs, strict=True)), components


def _query_parameters(query: type[Any], components: dict[str, Any], refs: dict[type[Any], Any]) -> list[Any]:
    name = refs[query]["$ref"].rsplit("/", 1)[1]
    schema = components[name]
    required = set(schema.get("required", []))
    return [{"name": field, "in": "query", "required": field in required, "schema": _not_null(prop)}
            for field, prop in schema.get("properties", {}).items()]


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query value is a string or absent, never JSON null: ``anyOf [X, null]`` becomes ``X``."""
    options = [o for o in prop.get("anyOf", []) if o != {"type": "null"}]
    if len(options) == 1:
        return dict(options[0])
    return {k: v for k, v in prop.items() if k != "default" or v is not None}


def _error_statuses(route: RouteSpec) -> list[str]:
    statuses = {405}
    if route.body is not None or route.query is not None or route.headers:
        statuses.add(400)
    if route.body is not None:
        statuses.add(415)
    if route.roles:
        statuses.update({401, 403})
    if "consumer" in route.roles:
        statuses.add(503)  # the identity provider's key set could not be fetched
    if route.path_params or route.include is not None:
        statuses.add(404)
    for error in route.errors:
        statuses.add(status_of(error))
    return [str(s) for s in sorted(statuses)]


def _operation(route: RouteSpec, refs: dict[type[Any], Any], components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route.name, "summary": route.summary,
                          "x-roles": list(route.roles) or ["public"]}
    if route.staff_roles:
        # which of a merchant's staff may call it (SPEC §6a); the others get 403 forbidden
        op["x-staff-roles"] = list(route.staff_roles)
    if route.roles:
        op["security"] = [{"bearer": []}, {"sessionCookie": []}]
    params: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for p in route.path_params]
    if route.query is not None:
        params += _query_parameters(route.query, components, refs)
    params += [{"name": h.name, "in": "header", "required": h.required, "schema": h.schema,
                "description": h.description} for h in route.headers]
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[route.body]}}}
    ok: dict[str, Any] = {"description": "OK"}
    if isinstance(route.response, type):
        ok["content"] = {"application/json": {"schema": refs[route.response]}}
    elif isinstance(route.response, str):
        schema = {"type": "object"} if route.response == "application/json" else {"type": "string"}
        ok["content"] = {route.response: {"schema": schema}}
    responses = {str(route.status): ok}
    error = {"content": {"application/json": {"schema": refs[Error]}}}
    for status in _error_statuses(route):
        responses[status] = {"description": DESCRIPTIONS.get(status, "error"), **error}
    op["responses"] = responses
    return op


def document(settings: Settings) -> dict[str, Any]:
    refs, components = _components()
    paths: dict[str, Any] = {}
    for route in ROUTES:
        if route.include is not None and not route.include(settings):
            continue
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "女川地域ポイント API", "version": "1.0.0",
                 "description": "Regional points payments: consumers, merchants (店舗) and the chamber of commerce. "
                                "Every error is {\"error\": {\"code\", \"message\", \"param\"}}."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "consumer: RS256 JWT from the identity provider; merchant/operator: "
                                          "session token"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }
