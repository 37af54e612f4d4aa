"""Wires the real adapters, lazily: nothing touches AWS until a route needs it.

Tests swap parts with ``override(...)`` (a fixed clock, a table on the local moto server); Lambda
keeps one container per warm instance so clients and caches are reused across invocations.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from typing import Any

from chalicelib.accounts.consumer_jwt import JwksKeys
from chalicelib.accounts.service import AccountRepository, LoginService
from chalicelib.config import Settings, get_settings
from chalicelib.console.export import ExportService
from chalicelib.console.history import HistoryService
from chalicelib.core.clock import Clock, SystemClock
from chalicelib.core.kana import to_zengin_kana
from chalicelib.merchants.service import MerchantService
from chalicelib.payments.cancel import CancelService
from chalicelib.payments.grants import GrantService
from chalicelib.payments.service import MerchantCache, PaymentService
from chalicelib.settlement.periods import Period
from chalicelib.settlement.service import SettlementService
from chalicelib.settlement.zengin import ZenginOriginator
from chalicelib.store.table import Table


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-northeast-1"


class Container:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self._settings = settings
        self.clock: Clock = clock or SystemClock()

    @cached_property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    @cached_property
    def dynamodb(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "dynamodb", region_name=_region(),
            config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5,
                          max_pool_connections=32),
        )

    @cached_property
    def s3(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", region_name=_region(),
            config=Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 3},
                          s3={"addressing_style": "path"}),
        )

    @cached_property
    def table(self) -> Table:
        return Table(self.dynamodb, self.settings.table_name)

    @cached_property
    def jwks(self) -> JwksKeys:
        s = self.settings
        path = s.consumer_jwks_path
        if s.dev_issuer_enabled and not path:
            path = dev_issuer_paths()[1]
        return JwksKeys(path=path, url=s.consumer_jwks_url)

    @cached_property
    def accounts(self) -> AccountRepository:
        return AccountRepository(self.table)

    @cached_property
    def login(self) -> LoginService:
        return LoginService(self.accounts, self.clock, self.settings.session_secret, self.settings.session_ttl_seconds)

    @cached_property
    def merchants(self) -> MerchantService:
        return MerchantService(self.table, self.accounts, self.clock, guid=self.settings.scheme_guid,
                               city=self.settings.qr_city)


    @cached_property
    def merchant_cache(self) -> MerchantCache:
        return MerchantCache(self.merchants)

    @cached_property
    def payments(self) -> PaymentService:
        return PaymentService(self.table, self.clock, self.merchant_cache)

    @cached_property
    def grants(self) -> GrantService:
        return GrantService(self.table, self.clock)

    @cached_property
    def cancels(self) -> CancelService:
        return CancelService(self.table, self.clock, self.payments, self.settings.cancel_window_days)

    @cached_property
    def history(self) -> HistoryService:
        return HistoryService(self.table)

    @cached_property
    def exports(self) -> ExportService:
        return ExportService(self.history, self.s3, self.settings.bucket_name, self.clock,
                             self.settings.export_url_ttl_seconds)

    @cached_property
    def settlement(self) -> SettlementService:
        import datetime as dt

        s = self.settings
        originator = ZenginOriginator(
            requester_code=s.zengin_requester_code, requester_name_kana=to_zengin_kana(s.zengin_requester_name),
            bank_code=s.zengin_bank_code, bank_name_kana=to_zengin_kana(s.zengin_bank_name),
            branch_code=s.zengin_branch_code, branch_name_kana=to_zengin_kana(s.zengin_branch_name),
            account_type=s.zengin_account_type,
            account_number=s.zengin_account_number)
        return SettlementService(
            self.table, self.s3, s.bucket_name, self.clock, self.merchants,
            grace=dt.timedelta(minutes=s.settlement_grace_minutes), direction=s.transfer_date_direction,
            start=Period.parse(s.settlement_start_period), url_ttl_seconds=s.export_url_ttl_seconds,
            originator=originator)


def dev_issuer_paths() -> tuple[str, str]:
    """Where the local stage keeps the development issuer's key and JWKS (git-ignored)."""
    settings = container().settings
    key = settings.dev_issuer_key_path or os.path.join(os.getcwd(), ".local", "dev-issuer-key.pem")
    return key, os.path.join(os.path.dirname(key), "dev-issuer-jwks.json")


_lock = threading.Lock()
_container: Container | None = None


def container() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = Container()
        return _container


def override(new: Container | None) -> None:
    """Replace the container (tests); ``None`` forgets it so the next call builds a fresh one."""
    global _container
    with _lock:
        _container = new
