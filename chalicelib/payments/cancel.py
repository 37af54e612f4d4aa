"""取消: a merchant cancels one of its completed payments, exactly once.

One transaction:
  1. update the payment  — condition ``status = completed AND merchant_id = :me`` (only once,
                            only by its own shop)
  2. put the cancellation — condition ``attribute_not_exists(sk)``: the reversal row, a ledger event
                            in the settlement period of its own timestamp (SPEC §7)
  3. update the wallet    — condition ``version = :read_version``: the points go back to the lots
                            they came from (or to expired, for lots that expired since)

A second cancel, or a concurrent one that lost the race, finds the payment already cancelled and
gets ``already_cancelled``; the refund happens once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable

from chalicelib.core.clock import Clock, utc_key
from chalicelib.core.errors import AlreadyCancelled, CancelWindowExpired, Conflict, InvalidRequest, NotFound
from chalicelib.payments import records as r
from chalicelib.payments.service import PaymentService
from chalicelib.payments.wallet import plan_refund
from chalicelib.store.table import Table, TransactionConflict, backoff_seconds, op_put, op_update

MAX_ATTEMPTS = 30


class CancelService:
    def __init__(self, table: Table, clock: Clock, payments: PaymentService, window_days: int,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table
        self.clock = clock
        self.payments = payments
        self.window = dt.timedelta(days=window_days)
        self.sleep = sleep

    def merchant_payment(self, merchant_id: str, payment_id: str) -> r.Payment:
        payment = self.payments.get_payment(payment_id)
        if payment is None or payment.merchant_id != merchant_id:
            raise NotFound("決済が見つかりません。", param="payment_id")
        return payment

    def cancel(self, *, merchant_id: str, payment_id: str, confirm_payment_id: str, by: str) -> r.Payment:
        if confirm_payment_id.strip().upper() != payment_id:
            raise InvalidRequest("確認のための決済IDが一致しません。", param="confirm_payment_id")
        for attempt in range(MAX_ATTEMPTS):
            payment = self.merchant_payment(merchant_id, payment_id)
            if payment.status == "cancelled":
                raise AlreadyCancelled(param="payment_id")
            now = self.clock.now()
            if now - payment.completed_at > self.window:
                raise CancelWindowExpired(param="payment_id")
            wallet = self.payments.wallet(payment.consumer_id)
            refund = plan_refund(wallet, payment.shares, now)
            try:
                self.table.transact([
                    op_update(
                        r.payment_pk(payment_id), r.PAYMENT_SK,
                        "SET #s = :cancelled, cancelled_at = :t, cancelled_by = :by",
                        condition="#s = :completed AND merchant_id = :me",
                        names={"#s": "status"},
                        values={":cancelled": "cancelled", ":completed": "completed", ":t": utc_key(now),
                                ":by": by, ":me": merchant_id},
                    ),
                    op_put(r.cancel_item(payment, now, by), condition="attribute_not_exists(sk)"),
                    r.wallet_write(wallet, refund.lots, refund.to_expired, now),
                ])
            except TransactionConflict:
                # lost a race: re-read; a cancel that won makes the next loop answer already_cancelled
                self.sleep(backoff_seconds(attempt))
                continue
            return dataclasses.replace(payment, status="cancelled", cancelled_at=now)
        raise Conflict("混み合っています。もう一度お試しください。")
