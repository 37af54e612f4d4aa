"""Login, logout and the local development token issuer."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from chalice.app import Response
from msgspec import Meta

from chalicelib.accounts.scope import ALL as ALL_STAFF
from chalicelib.accounts.service import LoginResult
from chalicelib.accounts.sessions import csrf_token
from chalicelib.bootstrap import dev_issuer_paths
from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import TooManyAttempts, Unauthenticated
from chalicelib.http.auth import cookie, cookie_names
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
    must_change_password: bool
    login_id: str
    merchant_id: str | None
    csrf_token: str
    staff_role: Annotated[Literal["owner", "manager", "clerk"] | None,
                          Meta(description="merchant staff only: owner · manager · clerk (SPEC §6a)")] = None
    staff_id: str | None = None


class PasswordBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    current_password: Annotated[str, Meta(min_length=1, max_length=256)]
    new_password: Annotated[str, Meta(min_length=1, max_length=256,
                                      description="10 characters or more, not the login ID, not a common one")]


class DevTokenBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    consumer_id: ConsumerId


class DevTokenOut(msgspec.Struct):
    token: str
    consumer_id: str


def signed_in(ctx: Ctx, result: LoginResult) -> Reply:
    """The answer to a login or a password change: the token, and the cookies for the pages."""
    settings = ctx.container.settings
    csrf = csrf_token(ctx.container.keys(), result.session_id)
    out = LoginOut(token=result.token, role=result.role, expires_at=jst_iso(result.expires_at),
                   must_change_password=result.must_change_password, login_id=result.login_id,
                   merchant_id=result.merchant_id, csrf_token=csrf,
                   staff_role=result.staff_role,  # type: ignore[arg-type]
                   staff_id=result.staff_id)
    max_age = settings.session_max_hours * 3600
    session_name, csrf_name = cookie_names(settings)
    # Chalice's Response holds one value per header; a list becomes multiValueHeaders.
    return Reply(out, headers={"Set-Cookie": [
        cookie(settings, session_name, result.token, max_age, http_only=True),
        cookie(settings, csrf_name, csrf, max_age, http_only=False),
    ]})


@routes.route("/v1/auth/login", "POST", summary="事業者・商工会のログイン", body=LoginBody, response=LoginOut,
              errors=[Unauthenticated, TooManyAttempts])
def login(ctx: Ctx, body: LoginBody) -> Reply:
    c = ctx.container
    try:
        result = c.login.login(body.login_id, body.password)
    except (Unauthenticated, TooManyAttempts) as exc:
        # The entry goes to the merchant's log only when the ID is one of its logins: an unknown ID
        # (a typo, a guess) belongs to nobody and only the operator sees it.
        account = c.account_repo.get(body.login_id)
        typed = body.login_id.strip().lower()
        c.audit.record(typed, "login_failed", typed, ctx.ip, merchant_id=account.merchant_id if account else None,
                       actor_role=(account.effective_staff_role or account.role) if account else "",
                       detail=exc.code)
        raise
    c.audit.record(result.login_id, "login", result.login_id, ctx.ip, merchant_id=result.merchant_id,
                   actor_role=result.staff_role or result.role)
    return signed_in(ctx, result)


@routes.route("/v1/auth/logout", "POST", summary="ログアウト(このセッションを終了)", roles=["merchant", "operator"],
              status=204, password_pending=True, staff_roles=ALL_STAFF)
def logout(ctx: Ctx) -> Response:
    ctx.container.sessions.end(ctx.me)
    ctx.audit("logout", ctx.me.subject)
    settings = ctx.container.settings
    session_name, csrf_name = cookie_names(settings)
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store", "Set-Cookie": [  # type: ignore[dict-item]
        cookie(settings, session_name, "", 0, http_only=True), cookie(settings, csrf_name, "", 0, http_only=False)]})


@routes.route("/v1/auth/password", "POST", summary="パスワード変更(ほかのセッションはすべて終了)",
              roles=["merchant", "operator"], body=PasswordBody, response=LoginOut, password_pending=True,
              errors=[Unauthenticated, TooManyAttempts], staff_roles=ALL_STAFF)
def change_password(ctx: Ctx, body: PasswordBody) -> Reply:
    result = ctx.container.accounts.change_password(ctx.me, body.current_password, body.new_password)
    ctx.audit("password_change", ctx.me.subject)
    return signed_in(ctx, result)


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
