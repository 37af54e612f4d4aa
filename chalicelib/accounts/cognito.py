"""Residents' accounts in the stage's Cognito user pool: sign-up, confirmation, sign-in, refresh.

The pay pages call these through the API (same origin, so no identity-provider address in the
page's Content-Security-Policy and no CORS set-up), and the API calls Cognito's public, unsigned
operations (``SignUp``, ``ConfirmSignUp``, ``ResendConfirmationCode``, ``InitiateAuth`` with
``USER_PASSWORD_AUTH`` / ``REFRESH_TOKEN_AUTH``) — on the local stage against the local engine's
``cognito-idp``, elsewhere against the real pool. The pool itself enforces its password policy,
email verification, and its own throttling of failed sign-ins.

Cognito's errors become the API's (SPEC §9): nothing of Cognito's wording reaches the resident.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from chalicelib.core.errors import (
    Conflict,
    InvalidRequest,
    ServiceUnavailable,
    TooManyAttempts,
    Unauthenticated,
)

SIGN_IN_FAILED = "メールアドレスまたはパスワードが違います。"
NOT_CONFIRMED = "メールアドレスの確認がまだです。届いた確認コードを入力してください。"
RULES_MESSAGE = "パスワードは10文字以上で、英字と数字を両方含めてください。"


class Tokens(msgspec.Struct, frozen=True):
    access_token: str
    id_token: str
    refresh_token: str | None
    expires_in: int


class SignUpResult(msgspec.Struct, frozen=True):
    confirmed: bool
    destination: str | None  # where the confirmation code went (masked), when Cognito says


class ResidentDirectory:
    """Cognito's public operations for one app client (no AWS credentials needed)."""

    def __init__(self, *, region: str, client_id: str) -> None:
        self.region = region
        self.client_id = client_id
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore import UNSIGNED
            from botocore.config import Config

            # AWS_ENDPOINT_URL (the local engine) is honoured by boto3 itself.
            self._client = boto3.client("cognito-idp", region_name=self.region, config=Config(
                signature_version=UNSIGNED, connect_timeout=3, read_timeout=5,
                retries={"mode": "standard", "max_attempts": 2}))
        return self._client

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result: dict[str, Any] = getattr(self.client, operation)(ClientId=self.client_id, **params)
            return result
        except ClientError as exc:
            raise _domain_error(operation, exc.response.get("Error", {}).get("Code", "")) from None
        except BotoCoreError:
            raise ServiceUnavailable() from None

    def sign_up(self, email: str, password: str) -> SignUpResult:
        reply = self._call("sign_up", Username=email, Password=password,
                           UserAttributes=[{"Name": "email", "Value": email}])
        details = reply.get("CodeDeliveryDetails") or {}
        return SignUpResult(confirmed=bool(reply.get("UserConfirmed")), destination=details.get("Destination"))

    def confirm(self, email: str, code: str) -> None:
        self._call("confirm_sign_up", Username=email, ConfirmationCode=code)

    def resend_code(self, email: str) -> None:
        self._call("resend_confirmation_code", Username=email)

    def sign_in(self, email: str, password: str) -> Tokens:
        reply = self._call("initiate_auth", AuthFlow="USER_PASSWORD_AUTH",
                           AuthParameters={"USERNAME": email, "PASSWORD": password})
        return _tokens(reply, refresh=None)

    def refresh(self, refresh_token: str) -> Tokens:
        reply = self._call("initiate_auth", AuthFlow="REFRESH_TOKEN_AUTH",
                           AuthParameters={"REFRESH_TOKEN": refresh_token})
        return _tokens(reply, refresh=refresh_token)


def _tokens(reply: dict[str, Any], refresh: str | None) -> Tokens:
    result = reply.get("AuthenticationResult")
    if not result:  # a challenge (e.g. a new password required): not offered to residents
        raise Unauthenticated("このアカウントではログインできません。お問い合わせください。")
    return Tokens(access_token=result["AccessToken"], id_token=result.get("IdToken", ""),
                  refresh_token=result.get("RefreshToken") or refresh,
                  expires_in=int(result.get("ExpiresIn", 3600)))


def expires_at(now: dt.datetime, tokens: Tokens) -> dt.datetime:
    return now + dt.timedelta(seconds=tokens.expires_in)


def _domain_error(operation: str, code: str) -> Exception:
    if code in ("TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"):
        return TooManyAttempts("試行回数が多すぎます。しばらくしてからもう一度お試しください。")
    if code in ("InternalErrorException", "ResourceNotFoundException", "CodeDeliveryFailureException",
                "InvalidLambdaResponseException", "UnexpectedLambdaException"):
        return ServiceUnavailable()
    if operation == "sign_up":
        if code == "UsernameExistsException":
            return Conflict("このメールアドレスはすでに登録されています。ログインしてください。", param="email")
        if code == "InvalidPasswordException":
            return InvalidRequest(RULES_MESSAGE, param="password")
        return InvalidRequest("メールアドレスとパスワードを確かめてください。", param="email")
    if operation in ("confirm_sign_up", "resend_confirmation_code"):
        if code in ("CodeMismatchException", "ExpiredCodeException", "UserNotFoundException"):
            return InvalidRequest("確認コードが違うか、有効期限が切れています。", param="code")
        if code == "NotAuthorizedException":  # already confirmed
            return Conflict("このメールアドレスは確認済みです。ログインしてください。", param="email")
        return InvalidRequest("確認コードを確かめてください。", param="code")
    if code == "UserNotConfirmedException":
        return Conflict(NOT_CONFIRMED, param="code")
    if code == "PasswordResetRequiredException":
        return Unauthenticated("パスワードの再設定が必要です。お問い合わせください。")
    return Unauthenticated(SIGN_IN_FAILED)  # NotAuthorized, UserNotFound, anything else: the same answer
