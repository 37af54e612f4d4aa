"""Wires the services to their adapters, lazily: nothing touches AWS until a route needs it.

:class:`Container` builds the real adapters (the table through PynamoDB, S3, the JWKS); tests swap
the whole container with ``override(...)`` (a fixed clock, a table on the local engine) or build
one on in-memory fakes with :func:`fake_container`. Lambda keeps one container per warm instance so
clients and caches are reused across invocations.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.config import ConfigurationError, Settings, get_settings
from chalicelib.core.clock import Clock, SystemClock
from chalicelib.store import models as _store_models  # noqa: F401

if TYPE_CHECKING:  # services load on first use: a cold start pays only for what its first route needs
    from chalicelib.accounts.cognito import ResidentDirectory
    from chalicelib.accounts.consumer_jwt import ConsumerTokens
    from chalicelib.accounts.keys import KeyRing
    from chalicelib.accounts.repository import AccountRepository
    from chalicelib.accounts.service import AccountService, LoginService, SessionService
    from chalicelib.accounts.staff import StaffService
    from chalicelib.audit.repository import AuditRepository
    from chalicelib.audit.service import AuditService
    from chalicelib.console.export import ExportService
    from chalicelib.console.history import HistoryService
    from chalicelib.console.live import LiveFeed
    from chalicelib.merchants.repository import MerchantRepository
    from chalicelib.merchants.service import MerchantService
    from chalicelib.payments.cancel import CancelService
    from chalicelib.payments.claims import ClaimService
    from chalicelib.payments.grants import GrantService
    from chalicelib.payments.repository import PaymentRepository
    from chalicelib.payments.service import MerchantNames, PaymentService
    from chalicelib.settlement.closing import ClosingService
    from chalicelib.settlement.ledger import LedgerService
    from chalicelib.settlement.payouts import PayoutService
    from chalicelib.settlement.repository import SettlementRepository
    from chalicelib.store.files import Files


SECRETS_MAX_AGE = 300  # seconds a warm function keeps the signing keys before asking again


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-northeast-1"


class Container:
    """The real adapters. Subclasses (or ``fake_container``) replace the ``*_repo`` and ``files``."""

    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self._settings = settings
        self.clock: Clock = clock or SystemClock()
        self._shop_owners: set[tuple[str, str]] = set()  # (merchant, shop) pairs seen to belong together

    @cached_property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    # -- adapters -------------------------------------------------------------------------------
    @cached_property
    def store_binding(self) -> Any:
        from chalicelib.store.connection import bind

        return bind(self.settings.table_name, region=region())

    @cached_property
    def s3(self) -> Any:
        import botocore.session
        from botocore.config import Config

        return botocore.session.get_session().create_client(
            "s3", region_name=region(),
            config=Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 3},
                          s3={"addressing_style": "path"}),
        )

    @cached_property
    def files(self) -> Files:
        from chalicelib.store.s3 import S3Files

        return S3Files(self.s3, self.settings.bucket_name)

    @cached_property
    def account_repo(self) -> AccountRepository:
        from chalicelib.accounts.dynamo import DynamoAccountRepository

        self.store_binding  # noqa: B018 - bind the models to the table first
        return DynamoAccountRepository()

    @cached_property
    def audit_repo(self) -> AuditRepository:
        from chalicelib.audit.dynamo import DynamoAuditRepository

        self.store_binding  # noqa: B018
        return DynamoAuditRepository()

    @cached_property
    def merchant_repo(self) -> MerchantRepository:
        from chalicelib.merchants.dynamo import DynamoMerchantRepository

        self.store_binding  # noqa: B018
        return DynamoMerchantRepository()

    @cached_property
    def payment_repo(self) -> PaymentRepository:
        from chalicelib.payments.dynamo import DynamoPaymentRepository

        self.store_binding  # noqa: B018
        return DynamoPaymentRepository()

    @cached_property
    def settlement_repo(self) -> SettlementRepository:
        from chalicelib.settlement.dynamo import DynamoSettlementRepository

        self.store_binding  # noqa: B018
        return DynamoSettlementRepository()

    @cached_property
    def consumer_tokens(self) -> ConsumerTokens:
        """The consumer token verifier: the stage's Cognito pool, plus the development issuer on the
        local stage when it is enabled (tests and ``POST /v1/dev/token``)."""
        from chalicelib.accounts.consumer_jwt import CognitoIssuer, ConsumerTokens, DevIssuer, FileKeys, RemoteKeys

        s = self.settings
        issuers: list[CognitoIssuer | DevIssuer] = []
        if s.cognito_enabled:
            issuers.append(CognitoIssuer(issuer=s.cognito_issuer, client_id=s.cognito_client_id,
                                         keys=RemoteKeys(s.cognito_key_set_url)))
        if s.dev_issuer_enabled:
            path = s.consumer_jwks_path or dev_issuer_paths(s)[1]
            issuers.append(DevIssuer(issuer=s.consumer_jwt_issuer, audience=s.consumer_jwt_audience,
                                     keys=FileKeys(path)))
        return ConsumerTokens(issuers)

    @cached_property
    def residents(self) -> ResidentDirectory:
        from chalicelib.accounts.cognito import ResidentDirectory

        s = self.settings
        return ResidentDirectory(region=s.cognito_region, client_id=s.cognito_client_id)

    # -- services -------------------------------------------------------------------------------
    @cached_property
    def accounts(self) -> AccountService:
        from chalicelib.accounts.service import AccountService

        return AccountService(self.account_repo, self.clock, self.login)

    @cached_property
    def staff(self) -> StaffService:
        from chalicelib.accounts.staff import StaffService

        return StaffService(self.account_repo, self.clock)

    @cached_property
    def audit(self) -> AuditService:
        """``audit.record(actor, action, target, ip, merchant_id=...)`` appends to the audit log."""
        from chalicelib.audit.service import AuditService

        return AuditService(self.audit_repo, self.clock, self.files, self.settings.export_url_ttl_seconds)

    def merchant_store_ids(self, merchant_id: str) -> frozenset[str]:
        """Every shop of the merchant (what staff scopes are checked against): its default shop, whose
        id is the merchant id, and the shops added to it (one Query; ``Ctx`` keeps it per request)."""
        return self.merchants.store_ids(merchant_id)

    def merchant_has_store(self, merchant_id: str, store_id: str) -> bool:
        """Whether the shop is one of the merchant's. A yes is kept for the life of the instance (a shop
        never leaves its merchant and is never removed), so a till polling one shop reads it once; a no
        is asked again (the operator may add the shop in the meantime)."""
        if store_id == merchant_id or (merchant_id, store_id) in self._shop_owners:
            return True
        if store_id in self.merchant_store_ids(merchant_id):
            self._shop_owners.add((merchant_id, store_id))
            return True
        return False

    def keys(self) -> KeyRing:
        """The signing keys from the secret store, cached for five minutes (a rotated key is picked up
        within that); read lazily, never from the environment."""
        from aws_lambda_powertools.utilities import parameters

        from chalicelib.accounts.keys import KeyRing

        try:
            value = parameters.get_secret(self.settings.secrets_name, transform="json", max_age=SECRETS_MAX_AGE)
        except parameters.exceptions.GetParameterError as exc:
            raise ConfigurationError(f"cannot read the secret {self.settings.secrets_name}: {exc}") from None
        if not isinstance(value, dict):
            raise ConfigurationError(f"the secret {self.settings.secrets_name} is not a JSON object")
        return KeyRing.from_secret(value)

    @property
    def cursor_secret(self) -> str:
        return self.keys().cursor_key

    @cached_property
    def sessions(self) -> SessionService:
        from chalicelib.accounts.service import SessionService

        s = self.settings
        return SessionService(self.account_repo, self.clock, self.keys,
                              idle=dt.timedelta(minutes=s.session_idle_minutes),
                              maximum=dt.timedelta(hours=s.session_max_hours))

    @cached_property
    def login(self) -> LoginService:
        from chalicelib.accounts.service import LoginService

        return LoginService(self.account_repo, self.clock, self.sessions)

    @cached_property
    def merchants(self) -> MerchantService:
        from chalicelib.merchants.service import MerchantService

        return MerchantService(self.merchant_repo, self.accounts, self.clock, guid=self.settings.scheme_guid,
                               city=self.settings.qr_city)

    @cached_property
    def merchant_names(self) -> MerchantNames:
        from chalicelib.payments.service import MerchantNames

        return MerchantNames(self.merchants.require_active_store)

    @cached_property
    def payments(self) -> PaymentService:
        from chalicelib.payments.service import PaymentService

        return PaymentService(self.payment_repo, self.clock, self.merchant_names,
                              max_points=self.settings.max_payment_points)

    @cached_property
    def grants(self) -> GrantService:
        from chalicelib.payments.grants import GrantService

        return GrantService(self.payment_repo, self.clock)

    @cached_property
    def claims(self) -> ClaimService:
        from chalicelib.payments.claims import ClaimService

        s = self.settings
        return ClaimService(self.payment_repo, self.clock, lambda: self.keys().claim_key,
                            max_points=s.max_payment_points, files=self.files,
                            url_ttl_seconds=s.export_url_ttl_seconds)

    @cached_property
    def cancels(self) -> CancelService:
        from chalicelib.payments.cancel import CancelService

        return CancelService(self.payment_repo, self.clock, self.settings.cancel_window_days)

    @cached_property
    def history(self) -> HistoryService:
        from chalicelib.console.history import HistoryService

        return HistoryService(self.payment_repo)

    @cached_property
    def live(self) -> LiveFeed:
        from chalicelib.console.live import LiveFeed

        return LiveFeed(self.payment_repo, self.clock)

    @cached_property
    def exports(self) -> ExportService:
        from chalicelib.console.export import ExportService

        return ExportService(self.history, self.files, self.clock, self.settings.export_url_ttl_seconds)

    @cached_property
    def closing(self) -> ClosingService:
        from chalicelib.core.periods import Period
        from chalicelib.settlement.closing import ClosingService

        s = self.settings
        return ClosingService(self.settlement_repo, self.payment_repo, self.merchant_repo, self.clock,
                              grace=dt.timedelta(minutes=s.settlement_grace_minutes),
                              direction=s.transfer_date_direction,
                              start=Period.parse(s.settlement_start_period))

    @cached_property
    def ledger(self) -> LedgerService:
        from chalicelib.core.periods import Period
        from chalicelib.settlement.ledger import LedgerService

        return LedgerService(self.payment_repo, self.settlement_repo, self.files, self.clock,
                             start=Period.parse(self.settings.settlement_start_period))

    @cached_property
    def payouts(self) -> PayoutService:
        from chalicelib.core.kana import to_zengin_kana
        from chalicelib.settlement.payouts import PayoutService
        from chalicelib.settlement.zengin import ZenginOriginator

        s = self.settings
        originator = ZenginOriginator(
            requester_code=s.zengin_requester_code, requester_name_kana=to_zengin_kana(s.zengin_requester_name),
            bank_code=s.zengin_bank_code, bank_name_kana=to_zengin_kana(s.zengin_bank_name),
            branch_code=s.zengin_branch_code, branch_name_kana=to_zengin_kana(s.zengin_branch_name),
            account_type=s.zengin_account_type, account_number=s.zengin_account_number)
        return PayoutService(self.settlement_repo, self.payment_repo, self.merchant_repo, self.files, self.clock,
                             direction=s.transfer_date_direction, url_ttl_seconds=s.export_url_ttl_seconds,
                             originator=originator)


class _FixedKeys(Container):
    def __init__(self, settings: Settings, clock: Clock, keys: KeyRing) -> None:
        super().__init__(settings=settings, clock=clock)
        self._keys = keys

    def keys(self) -> KeyRing:
        return self._keys


def fake_container(settings: Settings, clock: Clock, keys: KeyRing | None = None) -> Container:
    """A container whose repositories, files and keys are in memory (unit tests, in milliseconds)."""
    from chalicelib.accounts.fake import FakeAccountRepository
    from chalicelib.accounts.keys import KeyRing
    from chalicelib.audit.fake import FakeAuditRepository
    from chalicelib.merchants.fake import FakeMerchantRepository
    from chalicelib.payments.fake import FakePaymentRepository
    from chalicelib.settlement.fake import FakeSettlementRepository
    from chalicelib.store.files import MemoryFiles

    container = _FixedKeys(settings, clock, keys or KeyRing(session_keys=("k" * 32,), cursor_key="c" * 32,
                                                             claim_key="q" * 32))
    accounts = FakeAccountRepository()
    merchants = FakeMerchantRepository(accounts)
    container.__dict__.update({
        "account_repo": accounts,
        "merchant_repo": merchants,
        "payment_repo": FakePaymentRepository(merchants),
        "settlement_repo": FakeSettlementRepository(),
        "audit_repo": FakeAuditRepository(),
        "files": MemoryFiles(),
    })
    return container


def dev_issuer_paths(settings: Settings) -> tuple[str, str]:
    """Where the local stage keeps the development issuer's key and JWKS (git-ignored)."""
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
