"""Login, logout and the local development token issuer."""

from __future__ import annotations

import secrets

from chalice.app import Response

from chalicelib.accounts import dev_issuer
from chalicelib.bootstrap import dev_issuer_paths
from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import InvalidRequest, NotFound
from chalicelib.http.auth import CSRF_COOKIE, SESSION_COOKIE
from chalicelib.http.edge import Ctx, json_response
from chalicelib.http.requests import string_value


def _cookie(ctx: Ctx, name: str, value: str, max_age: int, http_only: bool) -> str:
    host = (ctx.header("host") or "").split(":")[0]
    secure = "" if host in ("127.0.0.1", "localhost") else "; Secure"
    flags = "; HttpOnly" if http_only else ""
    return f"{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict{secure}{flags}"


def login(ctx: Ctx) -> Response:
    body = ctx.body(allowed={"login_id", "password"}, required={"login_id", "password"})
    login_id = string_value(body["login_id"], "login_id", max_len=64)
    password = body["password"]
    if not isinstance(password, str) or not 1 <= len(password) <= 256:
        raise InvalidRequest("password は文字列で指定してください。", param="password")
    result = ctx.container.login.login(login_id, password)
    ttl = ctx.container.settings.session_ttl_seconds
    csrf = secrets.token_urlsafe(24)
    response = json_response({
        "token": result.token,
        "role": result.role,
        "expires_at": jst_iso(result.expires_at),
        "login_id": result.login_id,
        "merchant_id": result.merchant_id,
        "csrf_token": csrf,
    })
    # Chalice's Response holds one value per header; multi-valued Set-Cookie goes through
    # multiValueHeaders, which Chalice builds from a list value.
    response.headers["Set-Cookie"] = [  # type: ignore[assignment]
        _cookie(ctx, SESSION_COOKIE, result.token, ttl, http_only=True),
        _cookie(ctx, CSRF_COOKIE, csrf, ttl, http_only=False),
    ]
    return response


def logout(ctx: Ctx) -> Response:
    response = json_response({"ok": True})
    response.headers["Set-Cookie"] = [  # type: ignore[assignment]
        _cookie(ctx, SESSION_COOKIE, "", 0, http_only=True),
        _cookie(ctx, CSRF_COOKIE, "", 0, http_only=False),
    ]
    return response


def dev_token(ctx: Ctx) -> Response:
    settings = ctx.container.settings
    if not (settings.is_local and settings.dev_issuer_enabled):
        raise NotFound("このURLはありません。")
    body = ctx.body(allowed={"consumer_id"}, required={"consumer_id"})
    consumer_id = string_value(body["consumer_id"], "consumer_id", max_len=64)
    key_path, jwks_path = dev_issuer_paths()
    dev_issuer.ensure_keys(key_path, jwks_path)
    token = dev_issuer.issue_token(
        key_path, consumer_id=consumer_id, issuer=settings.consumer_jwt_issuer,
        audience=settings.consumer_jwt_audience, now=ctx.container.clock.now(),
    )
    return json_response({"token": token, "consumer_id": consumer_id})
