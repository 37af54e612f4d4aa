"""Login, logout and the local development token issuer."""

from __future__ import annotations

import secrets
from typing import Annotated

import msgspec
from msgspec import Meta

from chalicelib.bootstrap import dev_issuer_paths
from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import TooManyAttempts, Unauthenticated
from chalicelib.http.auth import CSRF_COOKIE, SESSION_COOKIE
from chalicelib.http.routing import Ctx, Reply, Routes
from chalicelib.http.schemas import JstTime
from chalicelib.payments.commands import ConsumerId

routes = Routes(__name__)


class LoginBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    login_id: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=256)]


class LoginOut(msgspec.Struct):
    token: str
    role: str
    expires_at: JstTime
    login_id: str
    merchant_id: str | None
    csrf_token: str


class LoggedOut(msgspec.Struct):
    ok: bool = True


class DevTokenBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    consumer_id: ConsumerId


class DevTokenOut(msgspec.Struct):
    token: str
    consumer_id: str


def _cookie(ctx: Ctx, name: str, value: str, max_age: int, http_only: bool) -> str:
    host = (ctx.header("host") or "").split(":")[0]
    secure = "" if host in ("127.0.0.1", "localhost") else "; Secure"
    flags = "; HttpOnly" if http_only else ""
    return f"{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict{secure}{flags}"


@routes.route("/v1/auth/login", "POST", summary="事業者・商工会のログイン", body=LoginBody, response=LoginOut,
              errors=[Unauthenticated, TooManyAttempts])
def login(ctx: Ctx, body: LoginBody) -> Reply:
    result = ctx.container.login.login(body.login_id, body.password)
    ttl = ctx.container.settings.session_ttl_seconds
    csrf = secrets.token_urlsafe(24)
    out = LoginOut(token=result.token, role=result.role, expires_at=jst_iso(result.expires_at),
                   login_id=result.login_id, merchant_id=result.merchant_id, csrf_token=csrf)
    # Chalice's Response holds one value per header; a list becomes multiValueHeaders.
    return Reply(out, headers={"Set-Cookie": [
        _cookie(ctx, SESSION_COOKIE, result.token, ttl, http_only=True),
        _cookie(ctx, CSRF_COOKIE, csrf, ttl, http_only=False),
    ]})


@routes.route("/v1/auth/logout", "POST", summary="ログアウト(セッションCookieを消去)", response=LoggedOut)
def logout(ctx: Ctx) -> Reply:
    return Reply(LoggedOut(), headers={"Set-Cookie": [
        _cookie(ctx, SESSION_COOKIE, "", 0, http_only=True),
        _cookie(ctx, CSRF_COOKIE, "", 0, http_only=False),
    ]})


def _dev_issuer_on(settings: object) -> bool:
    return bool(getattr(settings, "is_local", False) and getattr(settings, "dev_issuer_enabled", False))


@routes.route("/v1/dev/token", "POST", summary="開発用トークン発行(local ステージのみ)", body=DevTokenBody,
              response=DevTokenOut, include=_dev_issuer_on)
def dev_token(ctx: Ctx, body: DevTokenBody) -> DevTokenOut:
    from chalicelib.accounts import dev_issuer  # the local stage only

    settings = ctx.container.settings
    key_path, jwks_path = dev_issuer_paths(settings)
    dev_issuer.ensure_keys(key_path, jwks_path)
    token = dev_issuer.issue_token(key_path, consumer_id=body.consumer_id, issuer=settings.consumer_jwt_issuer,
                                   audience=settings.consumer_jwt_audience, now=ctx.container.clock.now())
    return DevTokenOut(token=token, consumer_id=body.consumer_id)
