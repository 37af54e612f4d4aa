"""The one place where domain errors become HTTP responses (SPEC §9 error shape).

Every error leaves as ``{"error": {"code", "message", "param"}}``. Unexpected exceptions are logged
with their stack trace server-side and answered with a bland 500 body that leaks nothing; Chalice's
own error bodies (405, 415, its JSON parser) are rewritten into the same shape.
"""

from __future__ import annotations

from typing import Any

import msgspec
from chalice.app import Response

from chalicelib.core import errors as e

STATUS: dict[type[e.DomainError], int] = {
    e.InvalidRequest: 400,
    e.InvalidQR: 400,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.PasswordChangeRequired: 403,
    e.NotFound: 404,
    e.ClaimCodeNotFound: 404,
    e.InsufficientPoints: 409,
    e.MerchantUnavailable: 409,
    e.AlreadyCancelled: 409,
    e.CancelWindowExpired: 409,
    e.IdempotencyKeyReused: 409,
    e.IdempotencyInProgress: 409,
    e.Conflict: 409,
    e.ClaimCodeUsed: 409,
    e.TooManyAttempts: 429,
    e.ServiceUnavailable: 503,
}

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}


class MethodNotAllowed(e.DomainError):
    code = "invalid_request"
    default_message = "このURLではそのHTTPメソッドは使えません。"


class UnsupportedMediaType(e.DomainError):
    code = "invalid_request"
    default_message = "Content-Type は application/json にしてください。"


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    param: str | None = None


class Error(msgspec.Struct):
    """Every error the API answers (SPEC §9)."""

    error: ErrorDetail


def status_of(error: type[e.DomainError] | e.DomainError) -> int:
    cls = error if isinstance(error, type) else type(error)
    if issubclass(cls, MethodNotAllowed):
        return 405
    if issubclass(cls, UnsupportedMediaType):
        return 415
    for base in cls.__mro__:
        if base in STATUS:
            return STATUS[base]  # type: ignore[index]
    return 400


def error_body(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": param}}


def _encode(code: str, message: str, param: str | None) -> str:
    return msgspec.json.encode(Error(ErrorDetail(code, message, param))).decode("utf-8")


def error_response(exc: e.DomainError, headers: dict[str, str] | None = None) -> Response:
    return Response(body=_encode(exc.code, exc.message, exc.param), status_code=status_of(exc),
                    headers={**JSON_HEADERS, **(headers or {})})


def internal_error_response() -> Response:
    message = "サーバーで問題が発生しました。時間をおいてもう一度お試しください。"
    return Response(body=_encode("internal_error", message, None), status_code=500, headers=dict(JSON_HEADERS))


def rewrite_framework_error(response: Response) -> Response:
    """Turn Chalice's ``{"Code", "Message"}`` error bodies into our shape, keeping the status."""
    if response.status_code < 400 or not isinstance(response.body, (str, bytes, dict)):
        return response
    body: Any = response.body
    if isinstance(body, (str, bytes)):
        try:
            body = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return response
    if not isinstance(body, dict) or "error" in body or "Code" not in body:
        return response
    code = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}.get(response.status_code, "invalid_request")
    message = {
        405: MethodNotAllowed.default_message,
        415: UnsupportedMediaType.default_message,
    }.get(response.status_code, "リクエストが正しくありません。")
    if response.status_code == 400 and isinstance(body.get("Message"), str):
        message = f"リクエストが正しくありません: {body['Message'][:200]}"
    headers = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
    return Response(body=_encode(code, message, None),
                    status_code=response.status_code if response.status_code < 500 else 500,
                    headers={**JSON_HEADERS, **headers})
