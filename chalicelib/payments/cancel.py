"""取消: a merchant cancels one of its completed payments, exactly once.

One transaction (built by the repository):
  1. the payment          — on condition that it is completed and this merchant's (only once, only
                            by its own shop)
  2. the cancellation     — a new reversal row, a ledger event in the settlement period of its own
                            timestamp (SPEC §7)
  3. the wallet           — on condition of the version read: the points go back to the lots they
                            came from (or to expired, for lots that expired since)

A second cancel, or a concurrent one that lost the race, finds the payment already cancelled and
gets ``already_cancelled``; the refund happens once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import msgspec

from chalicelib.core.clock import Clock
from chalicelib.core.errors import (
    AlreadyCancelled,
    CancelWindowExpired,
    Conflict,
    InvalidRequest,
    NotFound,
    WriteRejected,
)
from chalicelib.core.retry import backoff_seconds
from chalicelib.payments.model import CANCELLED, Payment
from chalicelib.payments.repository import PaymentRepository
from chalicelib.payments.wallet import plan_refund

MAX_ATTEMPTS = 30


def normalize_payment_id(text: str) -> str:
    """A 決済ID as a person reads it back: case and surrounding spaces do not matter."""
    return text.strip().upper()


class CancelService:
    def __init__(self, repo: PaymentRepository, clock: Clock, window_days: int,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.repo = repo
        self.clock = clock
        self.window = dt.timedelta(days=window_days)
        self.sleep = sleep

    def merchant_payment(self, merchant_id: str, payment_id: str) -> Payment:
        pid = normalize_payment_id(payment_id)
        payment = self.repo.payment(pid) if 0 < len(pid) <= 32 else None
        if payment is None or payment.merchant_id != merchant_id:
            raise NotFound("決済が見つかりません。", param="payment_id")
        return payment

    def cancel(self, *, merchant_id: str, payment_id: str, confirm_payment_id: str, by: str) -> Payment:
        pid = normalize_payment_id(payment_id)
        if normalize_payment_id(confirm_payment_id) != pid:
            raise InvalidRequest("確認のための決済IDが一致しません。", param="confirm_payment_id")
        for attempt in range(MAX_ATTEMPTS):
            payment = self.merchant_payment(merchant_id, pid)
            if payment.cancelled:
                raise AlreadyCancelled(param="payment_id")
            now = self.clock.now()
            if now - payment.completed_at > self.window:
                raise CancelWindowExpired(param="payment_id")
            wallet = self.repo.wallet(payment.consumer_id)
            refund = plan_refund(wallet, payment.shares, now)
            try:
                self.repo.commit_cancel(payment=payment, wallet=wallet, lots=refund.lots,
                                        to_expired=refund.to_expired, now=now, by=by)
            except WriteRejected:
                # lost a race: re-read; a cancel that won makes the next loop answer already_cancelled
                self.sleep(backoff_seconds(attempt))
                continue
            return msgspec.structs.replace(payment, status=CANCELLED, cancelled_at=now)
        raise Conflict("混み合っています。もう一度お試しください。")
