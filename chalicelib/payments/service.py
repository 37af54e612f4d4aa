"""Paying a shop with points: one wallet read and one DynamoDB transaction.

The transaction (all or nothing):
  1. update the wallet        — condition ``version = :read_version`` (optimistic lock: nobody
                                 changed the lots since we read them, so the debit plan is exact)
  2. put the payment          — condition ``attribute_not_exists(pk)`` (a fresh 決済ID)
  3. check the merchant       — condition ``status = active``
  4. put the idempotency row  — condition ``attribute_not_exists(pk)`` (this key was never used)

Idempotency lives inside that transaction, so a payment and its idempotency record exist together
or not at all: a retry, or a concurrent duplicate, either commits first or finds the record and
replays the stored response; it can never debit twice. A version conflict (another payment or a
grant changed the wallet) re-reads and retries; money rules are re-checked on every attempt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from chalicelib.core.clock import Clock, utc_key
from chalicelib.core.errors import (
    Conflict,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidRequest,
    MerchantUnavailable,
    NotFound,
)
from chalicelib.core.ids import new_id
from chalicelib.merchants.service import ACTIVE, Merchant, MerchantService, merchant_pk
from chalicelib.payments import records as r
from chalicelib.payments.wallet import Wallet, plan_debit
from chalicelib.store.table import Table, TransactionConflict, backoff_seconds, op_check, op_put

IDEMPOTENCY_TTL_SECONDS = 7 * 86400
MAX_ATTEMPTS = 60
IDX_WALLET, IDX_PAYMENT, IDX_MERCHANT, IDX_IDEM = 0, 1, 2, 3


@dataclasses.dataclass(frozen=True)
class PayCommand:
    consumer_id: str
    idempotency_key: str
    amount: int
    merchant_id: str
    request_body: dict[str, Any]  # as the client sent it, for the same-body check


@dataclasses.dataclass(frozen=True)
class PayResult:
    status: int
    body: dict[str, Any]
    replayed: bool


def request_fingerprint(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class MerchantCache:
    """Shop names for responses, cached per warm Lambda for a minute.

    Only names come from here: whether the shop may be paid is checked inside the transaction, so a
    stale entry can never let a payment to a suspended shop through.
    """

    def __init__(self, merchants: MerchantService, ttl_seconds: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._merchants = merchants
        self._ttl = ttl_seconds
        self._now = monotonic
        self._entries: dict[str, tuple[float, Merchant]] = {}
        self._lock = threading.Lock()

    def get(self, merchant_id: str) -> Merchant:
        with self._lock:
            hit = self._entries.get(merchant_id)
        if hit and self._now() - hit[0] < self._ttl:
            return hit[1]
        merchant = self._merchants.require_active(merchant_id)
        with self._lock:
            self._entries[merchant_id] = (self._now(), merchant)
        return merchant


class PaymentService:
    def __init__(self, table: Table, clock: Clock, merchants: MerchantCache,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table
        self.clock = clock
        self.merchants = merchants
        self.sleep = sleep

    # -- reads --------------------------------------------------------------------------------
    def wallet(self, consumer_id: str) -> Wallet:
        return r.wallet_from_item(consumer_id, self.table.get(r.wallet_pk(consumer_id), r.WALLET_SK))

    def get_payment(self, payment_id: str) -> r.Payment | None:
        if not payment_id or len(payment_id) > 32:
            return None
        item = self.table.get(r.payment_pk(payment_id), r.PAYMENT_SK)
        return r.payment_from_item(item) if item else None

    def consumer_payment(self, consumer_id: str, payment_id: str) -> r.Payment:
        payment = self.get_payment(payment_id)
        if payment is None or payment.consumer_id != consumer_id:
            raise NotFound("決済が見つかりません。", param="payment_id")
        return payment

    def consumer_history(self, consumer_id: str, *, limit: int, start_key: dict[str, Any] | None
                         ) -> tuple[list[r.Payment], dict[str, Any] | None]:
        page = self.table.query_page(
            index="gsi2", key_condition="gsi2pk = :p", values={":p": r.consumer_history_pk(consumer_id)},
            forward=False, limit=limit, start_key=start_key,
        )
        return [r.payment_from_item(i) for i in page.items], page.last_key

    # -- the payment --------------------------------------------------------------------------
    def pay(self, cmd: PayCommand) -> PayResult:
        fingerprint = request_fingerprint(cmd.request_body)
        try:
            merchant = self.merchants.get(cmd.merchant_id)
        except MerchantUnavailable:
            replay = self._replay(cmd, fingerprint)
            if replay:
                return replay
            raise
        for attempt in range(MAX_ATTEMPTS):
            now = self.clock.now()
            wallet = self.wallet(cmd.consumer_id)
            try:
                debit = plan_debit(wallet, cmd.amount, now)
            except InsufficientPoints:
                replay = self._replay(cmd, fingerprint)
                if replay:
                    return replay
                raise
            payment = r.Payment(
                payment_id=new_id(10), merchant_id=merchant.merchant_id, consumer_id=cmd.consumer_id,
                amount=cmd.amount, status="completed", completed_at=now, cancelled_at=None,
                name_ja=merchant.name_ja, name_en=merchant.name_en, shares=debit.shares,
            )
            body = {**payment.to_api(), "balance_after": debit.balance_after}
            try:
                self.table.transact([
                    r.wallet_write(wallet, debit.lots, debit.swept_points, now),
                    op_put(r.payment_item(payment, cmd.idempotency_key), condition="attribute_not_exists(pk)"),
                    op_check(merchant_pk(merchant.merchant_id), "PROFILE", "#s = :active",
                             names={"#s": "status"}, values={":active": ACTIVE}),
                    op_put(
                        {"pk": r.idem_pk(cmd.consumer_id, cmd.idempotency_key), "sk": "IDEM",
                         "fingerprint": fingerprint, "status": 201, "response": json.dumps(body, ensure_ascii=False),
                         "payment_id": payment.payment_id, "created_at": utc_key(now),
                         "ttl": int(now.timestamp()) + IDEMPOTENCY_TTL_SECONDS},
                        condition="attribute_not_exists(pk)",
                    ),
                ], token=payment.payment_id)  # DynamoDB de-duplicates an SDK retry of this attempt
                return PayResult(201, body, replayed=False)
            except TransactionConflict as exc:
                if exc.failed(IDX_IDEM) or exc.failed(IDX_MERCHANT):
                    replay = self._replay(cmd, fingerprint)
                    if replay:
                        return replay
                    if exc.failed(IDX_MERCHANT):
                        raise MerchantUnavailable() from None
                # wallet version moved, a 決済ID collided, or a concurrent transaction: try again
                self.sleep(backoff_seconds(attempt))
        raise Conflict("混み合っています。もう一度お試しください。")

    def _replay(self, cmd: PayCommand, fingerprint: str) -> PayResult | None:
        item = self.table.get(r.idem_pk(cmd.consumer_id, cmd.idempotency_key), "IDEM")
        if item is None:
            return None
        if item["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused(param="Idempotency-Key")
        return PayResult(int(item["status"]), json.loads(item["response"]), replayed=True)


def validate_idempotency_key(value: str | None) -> str:
    if value is None or value == "":
        raise InvalidRequest("Idempotency-Key ヘッダーが必要です。", param="Idempotency-Key")
    if len(value) > 255 or not all(33 <= ord(ch) <= 126 for ch in value):
        raise InvalidRequest("Idempotency-Key は1〜255文字の英数字記号にしてください。", param="Idempotency-Key")
    return value
