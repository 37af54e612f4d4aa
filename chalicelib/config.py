"""Settings, read once and lazily from the environment.

Every environment variable the product reads is named here and nowhere else. Reading is lazy
(``get_settings()``) because ``chalice.test.Client`` applies a stage's environment only inside its
``with`` block, and Lambda cold starts should not fail at import time for a route that does not
need a setting. A missing or malformed required setting raises :class:`ConfigurationError` naming it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

import msgspec


class ConfigurationError(RuntimeError):
    pass


class Settings(msgspec.Struct, frozen=True):
    stage: str
    table_name: str
    bucket_name: str
    secrets_name: str  # the Secrets Manager secret holding the signing keys (see accounts/keys.py)
    session_idle_minutes: int
    session_max_hours: int
    scheme_guid: str
    qr_city: str
    max_payment_points: int
    cancel_window_days: int
    export_url_ttl_seconds: int
    settlement_grace_minutes: int
    transfer_date_direction: Literal["previous", "next"]
    settlement_start_period: str
    cognito_region: str  # the consumers' user pool (SPEC §8): tokens, sign-up and sign-in
    cognito_user_pool_id: str
    cognito_client_id: str
    cognito_jwks_url: str  # the pool's key set; default <issuer>/.well-known/jwks.json
    consumer_jwt_issuer: str  # the development issuer (local stage only, with DEV_ISSUER_ENABLED)
    consumer_jwt_audience: str
    consumer_jwks_path: str
    dev_issuer_enabled: bool
    dev_issuer_key_path: str
    contact_merchant_name: str
    contact_merchant_hours: str
    contact_merchant_phone: str
    contact_merchant_address: str
    contact_consumer_name: str
    contact_consumer_hours: str
    contact_consumer_phone: str
    public_base_url: str
    zengin_requester_code: str
    zengin_requester_name: str
    zengin_bank_code: str
    zengin_bank_name: str
    zengin_branch_code: str
    zengin_branch_name: str
    zengin_account_type: int
    zengin_account_number: str

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def cognito_enabled(self) -> bool:
        return bool(self.cognito_user_pool_id and self.cognito_client_id)

    @property
    def cognito_issuer(self) -> str:
        """The ``iss`` of the pool's tokens (also on the local engine, which serves the key set at its own
        address: hence the separate ``cognito_jwks_url``)."""
        if not self.cognito_enabled:
            return ""
        return f"https://cognito-idp.{self.cognito_region}.amazonaws.com/{self.cognito_user_pool_id}"

    @property
    def cognito_key_set_url(self) -> str:
        return self.cognito_jwks_url or (self.cognito_issuer + "/.well-known/jwks.json" if self.cognito_issuer else "")


def _req(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is required but not set")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int = 0, high: int = 10**12) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"environment variable {name} must be in [{low}, {high}], got {value}")
    return value


def _pool_id(value: str) -> str:
    """A Cognito user pool id (``<region>_<id>``), or empty (no pool on this stage)."""
    if value and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+", value):
        raise ConfigurationError(f"environment variable COGNITO_USER_POOL_ID does not look like a pool id: {value!r}")
    return value


def _period(value: str) -> str:
    from chalicelib.core.periods import Period

    try:
        return Period.parse(value).id
    except ValueError:
        message = f"environment variable SETTLEMENT_START_PERIOD must look like 2026-01-1, got {value!r}"
        raise ConfigurationError(message) from None


# The real contacts (SPEC §6); a stage may name others.
CONTACT_DEFAULTS = {
    "CONTACT_MERCHANT_NAME": "女川町商工会",
    "CONTACT_MERCHANT_HOURS": "受付時間 平日 9:00〜17:00",
    "CONTACT_MERCHANT_PHONE": "0225-53-3310",
    "CONTACT_MERCHANT_ADDRESS": "〒986-2265 宮城県牡鹿郡女川町女川二丁目65番地2",
    "CONTACT_CONSUMER_NAME": "宮城県地域ポイントコールセンター",
    "CONTACT_CONSUMER_HOURS": "受付時間 全日 9:00〜17:30",
    "CONTACT_CONSUMER_PHONE": "0120-558-856",
}


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def load_settings(env: Mapping[str, str]) -> Settings:
    raw_direction = env.get("TRANSFER_DATE_DIRECTION", "previous").strip() or "previous"
    if raw_direction not in ("previous", "next"):
        raise ConfigurationError("environment variable TRANSFER_DATE_DIRECTION must be 'previous' or 'next'")
    direction: Literal["previous", "next"] = "next" if raw_direction == "next" else "previous"
    stage = env.get("STAGE", "dev").strip() or "dev"
    # the development issuer exists only on the local stage, whatever a deployed stage's variables say
    dev_issuer = env.get("DEV_ISSUER_ENABLED", "").strip() == "1" and stage == "local"
    return Settings(
        stage=stage,
        table_name=_req(env, "TABLE_NAME"),
        bucket_name=_req(env, "BUCKET_NAME"),
        secrets_name=_req(env, "SECRETS_NAME"),
        session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 120, 5, 24 * 60),
        session_max_hours=_int(env, "SESSION_MAX_HOURS", 12, 1, 24),
        scheme_guid=env.get("SCHEME_GUID", "").strip() or "JP.ONAGAWA.CHIIKIPOINT",
        qr_city=env.get("QR_CITY", "").strip() or "ONAGAWA",
        max_payment_points=_int(env, "MAX_PAYMENT_POINTS", 100_000, 1, 10**9),
        cancel_window_days=_int(env, "CANCEL_WINDOW_DAYS", 90, 0, 3650),
        export_url_ttl_seconds=_int(env, "EXPORT_URL_TTL_SECONDS", 900, 60, 7 * 86400),
        settlement_grace_minutes=_int(env, "SETTLEMENT_GRACE_MINUTES", 5, 1, 24 * 60),
        transfer_date_direction=direction,
        settlement_start_period=_period(env.get("SETTLEMENT_START_PERIOD", "").strip() or "2026-01-1"),
        cognito_region=(env.get("COGNITO_REGION", "").strip() or env.get("AWS_REGION", "").strip()
                        or env.get("AWS_DEFAULT_REGION", "").strip() or "ap-northeast-1"),
        cognito_user_pool_id=_pool_id(env.get("COGNITO_USER_POOL_ID", "").strip()),
        cognito_client_id=env.get("COGNITO_CLIENT_ID", "").strip(),
        cognito_jwks_url=env.get("COGNITO_JWKS_URL", "").strip(),
        consumer_jwt_issuer=(_req(env, "CONSUMER_JWT_ISSUER") if dev_issuer
                             else env.get("CONSUMER_JWT_ISSUER", "").strip()),
        consumer_jwt_audience=(_req(env, "CONSUMER_JWT_AUDIENCE") if dev_issuer
                               else env.get("CONSUMER_JWT_AUDIENCE", "").strip()),
        consumer_jwks_path=env.get("CONSUMER_JWKS_PATH", "").strip(),
        dev_issuer_enabled=dev_issuer,
        dev_issuer_key_path=env.get("DEV_ISSUER_KEY_PATH", "").strip(),
        contact_merchant_name=_text(env, "CONTACT_MERCHANT_NAME", CONTACT_DEFAULTS["CONTACT_MERCHANT_NAME"]),
        contact_merchant_hours=_text(env, "CONTACT_MERCHANT_HOURS", CONTACT_DEFAULTS["CONTACT_MERCHANT_HOURS"]),
        contact_merchant_phone=_text(env, "CONTACT_MERCHANT_PHONE", CONTACT_DEFAULTS["CONTACT_MERCHANT_PHONE"]),
        contact_merchant_address=_text(env, "CONTACT_MERCHANT_ADDRESS", CONTACT_DEFAULTS["CONTACT_MERCHANT_ADDRESS"]),
        contact_consumer_name=_text(env, "CONTACT_CONSUMER_NAME", CONTACT_DEFAULTS["CONTACT_CONSUMER_NAME"]),
        contact_consumer_hours=_text(env, "CONTACT_CONSUMER_HOURS", CONTACT_DEFAULTS["CONTACT_CONSUMER_HOURS"]),
        contact_consumer_phone=_text(env, "CONTACT_CONSUMER_PHONE", CONTACT_DEFAULTS["CONTACT_CONSUMER_PHONE"]),
        public_base_url=env.get("PUBLIC_BASE_URL", "").strip().rstrip("/"),
        zengin_requester_code=env.get("ZENGIN_REQUESTER_CODE", "0000000000").strip(),
        zengin_requester_name=env.get("ZENGIN_REQUESTER_NAME", "ｵﾅｶﾞﾜﾁｮｳｼｮｳｺｳｶｲ").strip(),
        zengin_bank_code=env.get("ZENGIN_BANK_CODE", "0000").strip(),
        zengin_bank_name=env.get("ZENGIN_BANK_NAME", "").strip(),
        zengin_branch_code=env.get("ZENGIN_BRANCH_CODE", "000").strip(),
        zengin_branch_name=env.get("ZENGIN_BRANCH_NAME", "").strip(),
        zengin_account_type=_int(env, "ZENGIN_ACCOUNT_TYPE", 1, 1, 9),
        zengin_account_number=env.get("ZENGIN_ACCOUNT_NUMBER", "0000000").strip(),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings(os.environ)


def reset_settings() -> None:
    """Forget the cached settings (tests that change the environment call this)."""
    get_settings.cache_clear()
