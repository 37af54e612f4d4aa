"""Residents' accounts (SPEC §8): create an account, confirm the email, sign in, stay signed in.

These front the stage's Cognito user pool (``accounts/cognito.py``); the tokens they return are the
pool's own, checked like any other consumer token. Served only where a pool is configured.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from chalicelib.accounts.cognito import Tokens, expires_at
from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import Conflict, ServiceUnavailable, TooManyAttempts, Unauthenticated
from chalicelib.http.routing import Ctx, Routes
from chalicelib.http.schemas import JstTime

routes = Routes(__name__)

Email = Annotated[str, Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                            description="the resident's email address (the sign-in name)")]
Password = Annotated[str, Meta(min_length=1, max_length=256)]


def _pool(settings: Any) -> bool:
    return bool(getattr(settings, "cognito_enabled", False))


class SignUpBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Annotated[str, Meta(min_length=10, max_length=256,
                                  description="10 characters or more, with letters and digits")]


class SignUpOut(msgspec.Struct):
    email: str
    confirmed: bool
    code_sent_to: str | None


class ConfirmBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    code: Annotated[str, Meta(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z]+$",
                              description="the confirmation code sent by email")]


class ResendBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email


class Done(msgspec.Struct):
    email: str


class SignInBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Password


class RefreshBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    refresh_token: Annotated[str, Meta(min_length=1, max_length=4096)]


class SignedIn(msgspec.Struct):
    token: str  # the access token: send it as the bearer token
    id_token: str
    refresh_token: str | None
    expires_at: JstTime


def _signed_in(ctx: Ctx, tokens: Tokens) -> SignedIn:
    return SignedIn(token=tokens.access_token, id_token=tokens.id_token, refresh_token=tokens.refresh_token,
                    expires_at=jst_iso(expires_at(ctx.container.clock.now(), tokens)))


def _email(value: str) -> str:
    return value.strip().lower()


@routes.route("/v1/consumer/sign-up", "POST", summary="利用者のアカウント作成(確認コードをメールで送る)",
              status=201, body=SignUpBody, response=SignUpOut, include=_pool,
              errors=[Conflict, TooManyAttempts, ServiceUnavailable])
def sign_up(ctx: Ctx, body: SignUpBody) -> SignUpOut:
    email = _email(body.email)
    result = ctx.container.residents.sign_up(email, body.password)
    return SignUpOut(email=email, confirmed=result.confirmed, code_sent_to=result.destination)


@routes.route("/v1/consumer/confirm", "POST", summary="メールアドレスの確認(確認コード)", body=ConfirmBody,
              response=Done, include=_pool, errors=[Conflict, TooManyAttempts, ServiceUnavailable])
def confirm(ctx: Ctx, body: ConfirmBody) -> Done:
    email = _email(body.email)
    ctx.container.residents.confirm(email, body.code)
    return Done(email=email)


@routes.route("/v1/consumer/resend-code", "POST", summary="確認コードを送り直す", body=ResendBody, response=Done,
              include=_pool, errors=[Conflict, TooManyAttempts, ServiceUnavailable])
def resend_code(ctx: Ctx, body: ResendBody) -> Done:
    email = _email(body.email)
    ctx.container.residents.resend_code(email)
    return Done(email=email)


@routes.route("/v1/consumer/sign-in", "POST", summary="利用者のログイン(トークンを返す)", body=SignInBody,
              response=SignedIn, include=_pool,
              errors=[Unauthenticated, Conflict, TooManyAttempts, ServiceUnavailable])
def sign_in(ctx: Ctx, body: SignInBody) -> SignedIn:
    return _signed_in(ctx, ctx.container.residents.sign_in(_email(body.email), body.password))


@routes.route("/v1/consumer/refresh", "POST", summary="ログインを続ける(リフレッシュトークン)", body=RefreshBody,
              response=SignedIn, include=_pool, errors=[Unauthenticated, TooManyAttempts, ServiceUnavailable])
def refresh(ctx: Ctx, body: RefreshBody) -> SignedIn:
    return _signed_in(ctx, ctx.container.residents.refresh(body.refresh_token))
