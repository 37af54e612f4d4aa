"""Paying a shop with points: one wallet read and one DynamoDB transaction.

The transaction (all or nothing, built by the repository):
  1. the wallet's new lots   — on condition that its version is the one read (optimistic lock: nobody
                               changed the lots since, so the debit plan is exact)
  2. the payment             — on condition that the 決済ID is new
  3. the shop's till status  — checked to be active (written with every change of the shop's or
                               its merchant's status, so one check covers both)
  4. the idempotency record  — on condition that this key was never used

Idempotency lives inside that transaction, so a payment and its idempotency record exist together
or not at all: a retry, or a concurrent duplicate, either commits first or finds the record and
replays the stored response; it can never debit twice. A version conflict (another payment or a
grant changed the wallet) re-reads and retries; money rules are re-checked on every attempt.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import msgspec

from chalicelib.core.clock import Clock
from chalicelib.core.errors import (
    Conflict,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidRequest,
    MerchantUnavailable,
    NotFound,
    WriteRejected,
)
from chalicelib.core.ids import new_id
from chalicelib.core.retry import backoff_seconds
from chalicelib.merchants.model import Store
from chalicelib.payments.model import COMPLETED, IdempotencyRecord, Payment
from chalicelib.payments.repository import Key, PaymentRepository
from chalicelib.payments.wallet import Wallet, plan_debit

MAX_ATTEMPTS = 60
IDEMPOTENCY_KEY_MAX = 255


class PayCommand(msgspec.Struct, frozen=True):
    consumer_id: str
    idempotency_key: str
    amount: int
    store_id: str  # the shop paid; a merchant id names its default shop
    fingerprint: str  # of the request body as the client sent it, for the same-body check
    default_only: bool = False  # named by ``merchant_id``: only a merchant's default shop is meant


class PayResult(msgspec.Struct, frozen=True):
    status: int
    body: str  # the JSON response, as first sent
    replayed: bool


Render = Callable[[Payment, int], str]  # (payment, balance after) -> JSON body


def fingerprint(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


def validate_idempotency_key(value: str | None) -> str:
    if value is None or value == "":
        raise InvalidRequest("Idempotency-Key ヘッダーが必要です。", param="Idempotency-Key")
    if len(value) > IDEMPOTENCY_KEY_MAX or not all(33 <= ord(ch) <= 126 for ch in value):
        raise InvalidRequest("Idempotency-Key は1〜255文字の英数字記号にしてください。", param="Idempotency-Key")
    return value


class MerchantNames:
    """Shops (their merchant and names) by shop id, cached per warm Lambda for a minute: a payment
    reads nothing but the wallet before its transaction.

    Only names and the shop's merchant come from here (neither ever changes for a shop id): whether the
    shop may be paid is checked inside the transaction, so a stale entry can never let a payment to a
    suspended shop through.
    """

    def __init__(self, lookup: Callable[[str], Store], ttl_seconds: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._now = monotonic
        self._entries: dict[str, tuple[float, Store]] = {}
        self._lock = threading.Lock()

    def get(self, store_id: str) -> Store:
        with self._lock:
            hit = self._entries.get(store_id)
        if hit and self._now() - hit[0] < self._ttl:
            return hit[1]
        store = self._lookup(store_id)
        with self._lock:
            self._entries[store_id] = (self._now(), store)
        return store


class PaymentService:
    def __init__(self, repo: PaymentRepository, clock: Clock, merchants: MerchantNames, *, max_points: int,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.repo = repo
        self.clock = clock
        self.merchants = merchants
        self.max_points = max_points
        self.sleep = sleep

    # -- reads --------------------------------------------------------------------------------
    def wallet(self, consumer_id: str) -> Wallet:
        return self.repo.wallet(consumer_id)

    def get_payment(self, payment_id: str) -> Payment | None:
        """By 決済ID as a person types it: case and surrounding spaces do not matter."""
        pid = payment_id.strip().upper()
        if not pid or len(pid) > 32:
            return None
        return self.repo.payment(pid)

    def consumer_payment(self, consumer_id: str, payment_id: str) -> Payment:
        payment = self.get_payment(payment_id)
        if payment is None or payment.consumer_id != consumer_id:
            raise NotFound("決済が見つかりません。", param="payment_id")
        return payment

    def consumer_history(self, consumer_id: str, *, limit: int, after: Key | None
                         ) -> tuple[list[Payment], Key | None]:
        return self.repo.consumer_payments(consumer_id, limit=limit, after=after)

    # -- the payment --------------------------------------------------------------------------
    def pay(self, cmd: PayCommand, render: Render) -> PayResult:
        if cmd.amount > self.max_points:
            raise InvalidRequest(f"amount は {self.max_points:,} 以下にしてください。", param="amount")
        try:
            store = self.merchants.get(cmd.store_id)
            if cmd.default_only and not store.is_default:
                raise MerchantUnavailable("このお店は登録されていません。", param="merchant_id")
        except MerchantUnavailable:
            replay = self._replay(cmd)
            if replay:
                return replay
            raise
        for attempt in range(MAX_ATTEMPTS):
            now = self.clock.now()
            wallet = self.repo.wallet(cmd.consumer_id)
            try:
                debit = plan_debit(wallet, cmd.amount, now)
            except InsufficientPoints:
                replay = self._replay(cmd)
                if replay:
                    return replay
                raise
            payment = Payment(
                payment_id=new_id(10), merchant_id=store.merchant_id, consumer_id=cmd.consumer_id,
                amount=cmd.amount, status=COMPLETED, completed_at=now, cancelled_at=None,
                name_ja=store.name_ja, name_en=store.name_en, shares=debit.shares, store_id=store.store_id,
            )
            body = render(payment, debit.balance_after)
            record = IdempotencyRecord(consumer_id=cmd.consumer_id, key=cmd.idempotency_key,
                                       fingerprint=cmd.fingerprint, status=201, response=body,
                                       payment_id=payment.payment_id, created_at=now)
            try:
                self.repo.commit_payment(wallet=wallet, lots=debit.lots, swept_points=debit.swept_points,
                                         payment=payment, record=record)
            except WriteRejected as exc:
                if {"idempotency", "merchant"} & exc.reasons:
                    replay = self._replay(cmd)
                    if replay:
                        return replay
                    if "merchant" in exc.reasons:
                        raise MerchantUnavailable() from None
                # the wallet moved, a 決済ID collided, or a concurrent transaction: try again
                self.sleep(backoff_seconds(attempt))
                continue
            return PayResult(201, body, replayed=False)
        raise Conflict("混み合っています。もう一度お試しください。")

    def _replay(self, cmd: PayCommand) -> PayResult | None:
        record = self.repo.idempotency(cmd.consumer_id, cmd.idempotency_key)
        if record is None:
            return None
        if record.fingerprint != cmd.fingerprint:
            raise IdempotencyKeyReused(param="Idempotency-Key")
        return PayResult(record.status, record.response, replayed=True)
