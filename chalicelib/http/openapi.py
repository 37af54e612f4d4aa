"""The OpenAPI 3 document, built from the routes the app actually registered.

Paths, methods and roles come from ``edge.ROUTES`` (what Chalice serves); request and response
schemas are declared here per route name. A test checks both directions: every served route is
documented and every documented route is served.
"""

from __future__ import annotations

from typing import Any

from chalicelib.http.edge import ROUTES

JST_TIME = {"type": "string", "format": "date-time", "description": "JST, ISO-8601 with +09:00"}
POINTS = {"type": "integer", "minimum": 0, "description": "points (1 point = 1 yen)"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "enum": [
                "invalid_request", "invalid_qr", "unauthenticated", "forbidden", "not_found",
                "insufficient_points", "merchant_unavailable", "already_cancelled", "cancel_window_expired",
                "idempotency_key_reused", "idempotency_in_progress", "too_many_attempts", "conflict",
                "internal_error"]},
            "message": {"type": "string"},
            "param": {"type": ["string", "null"]},
        }}},
    },
    "Bank": {
        "type": "object", "additionalProperties": False,
        "required": ["bank_code", "branch_code", "account_type", "account_number", "holder_kana"],
        "properties": {
            "bank_code": {"type": "string", "pattern": "^[0-9]{4}$"},
            "branch_code": {"type": "string", "pattern": "^[0-9]{3}$"},
            "account_type": {"type": "integer", "enum": [1, 2, 4], "description": "1 普通 / 2 当座 / 4 貯蓄"},
            "account_number": {"type": "string", "pattern": "^[0-9]{7}$"},
            "holder_kana": {"type": "string", "maxLength": 30},
        },
    },
    "Merchant": {
        "type": "object",
        "properties": {
            "merchant_id": {"type": "string"}, "name_ja": {"type": "string"}, "name_en": {"type": "string"},
            "mcc": {"type": "string"}, "city": {"type": "string"},
            "status": {"type": "string", "enum": ["active", "suspended"]},
            "login_id": {"type": "string"}, "bank": {"$ref": "#/components/schemas/Bank"},
            "created_at": {"type": "string"},
        },
    },
}

REQUESTS: dict[str, Any] = {
    "login": {"type": "object", "additionalProperties": False, "required": ["login_id", "password"],
              "properties": {"login_id": {"type": "string", "maxLength": 64},
                             "password": {"type": "string", "maxLength": 256}}},
    "dev_token": {"type": "object", "additionalProperties": False, "required": ["consumer_id"],
                  "properties": {"consumer_id": {"type": "string", "maxLength": 64}}},
    "merchant_letter": {"type": "object", "additionalProperties": False, "required": ["initial_password"],
                        "properties": {"initial_password": {"type": "string", "maxLength": 64}}},
    "register_merchant": {
        "type": "object", "additionalProperties": False, "required": ["name_ja", "name_en", "bank"],
        "properties": {"name_ja": {"type": "string", "maxLength": 25}, "name_en": {"type": "string", "maxLength": 25},
                       "mcc": {"type": "string", "pattern": "^[0-9]{4}$"},
                       "bank": {"$ref": "#/components/schemas/Bank"}}},
}

RESPONSES: dict[str, tuple[int, Any]] = {
    "login": (200, {"type": "object", "required": ["token", "role", "expires_at"], "properties": {
        "token": {"type": "string"}, "role": {"type": "string", "enum": ["merchant", "operator"]},
        "expires_at": JST_TIME, "login_id": {"type": "string"}, "merchant_id": {"type": ["string", "null"]},
        "csrf_token": {"type": "string"}}}),
    "logout": (200, {"type": "object"}),
    "dev_token": (200, {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}),
    "register_merchant": (201, {"allOf": [{"$ref": "#/components/schemas/Merchant"}, {
        "type": "object", "required": ["merchant_id", "login_id", "initial_password", "qr_payload"],
        "properties": {"initial_password": {"type": "string"}, "qr_payload": {"type": "string"}}}]}),
    "list_merchants": (200, {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Merchant"}},
        "next_cursor": {"type": ["string", "null"]}}}),
    "get_merchant": (200, {"$ref": "#/components/schemas/Merchant"}),
    "merchant_qr_png": (200, "image/png"),
    "merchant_qr_svg": (200, "image/svg+xml"),
    "merchant_letter": (200, "text/html"),
    "suspend_merchant": (200, {"$ref": "#/components/schemas/Merchant"}),
    "reactivate_merchant": (200, {"$ref": "#/components/schemas/Merchant"}),
    "reset_merchant_password": (200, {"type": "object", "required": ["initial_password"],
                                      "properties": {"initial_password": {"type": "string"}}}),
    "lookup_merchant": (200, {"type": "object", "required": ["merchant_id", "name_ja", "name_en"], "properties": {
        "merchant_id": {"type": "string"}, "name_ja": {"type": "string"}, "name_en": {"type": "string"}}}),
    "openapi": (200, {"type": "object"}),
    "health": (200, {"type": "object"}),
}

PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "lookup_merchant": [{"name": "qr", "in": "query", "required": True, "schema": {"type": "string"}}],
    "list_merchants": [
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
    ],
}

HEADERS: dict[str, list[dict[str, Any]]] = {}


def register(
    name: str,
    *,
    response: tuple[int, Any],
    request: Any | None = None,
    parameters: list[dict[str, Any]] | None = None,
    schemas: dict[str, Any] | None = None,
) -> None:
    """Capabilities add their routes' schemas here (called at import of their view modules)."""
    RESPONSES[name] = response
    if request is not None:
        REQUESTS[name] = request
    if parameters:
        PARAMETERS[name] = parameters
    if schemas:
        SCHEMAS.update(schemas)


def _error_responses(roles: tuple[str, ...]) -> dict[str, Any]:
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    out = {"400": {"description": "invalid_request", **ref}}
    if roles:
        out["401"] = {"description": "unauthenticated", **ref}
        out["403"] = {"description": "forbidden", **ref}
    out["404"] = {"description": "not_found", **ref}
    out["409"] = {"description": "conflict codes", **ref}
    return out


def build_document(*, include_dev: bool) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in ROUTES:
        if route.name == "dev_token" and not include_dev:
            continue
        for method in route.methods:
            status, schema = RESPONSES.get(route.name, (200, {"type": "object"}))
            if isinstance(schema, str):
                content = {schema: {"schema": {"type": "string", "format": "binary"}}}
            else:
                content = {"application/json": {"schema": schema}}
            op: dict[str, Any] = {
                "operationId": route.name,
                "summary": route.summary,
                "x-roles": list(route.roles) or ["public"],
                "responses": {str(status): {"description": "OK", "content": content}, **_error_responses(route.roles)},
            }
            if route.roles:
                op["security"] = [{"bearer": []}, {"sessionCookie": []}]
            params = list(PARAMETERS.get(route.name, [])) + list(HEADERS.get(route.name, []))
            for segment in route.path.split("/"):
                if segment.startswith("{") and segment.endswith("}"):
                    params.append({"name": segment[1:-1], "in": "path", "required": True, "schema": {"type": "string"}})
            if params:
                op["parameters"] = params
            if route.name in REQUESTS and method != "GET":
                op["requestBody"] = {"required": True,
                                     "content": {"application/json": {"schema": REQUESTS[route.name]}}}
            paths.setdefault(route.path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "女川地域ポイント API", "version": "1.0.0",
                 "description": "Regional points payments: consumers, merchants (店舗) and the chamber of commerce."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "consumer: RS256 JWT from the OIDC issuer; merchant/operator: session token"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }
