"""The payment, cancel and grant services on in-memory fakes: every branch, in milliseconds.

GIVEN a fake store (conditions kept, rejections injectable) and a fixed clock
WHEN a service acts
THEN the answer, what was written and how often it retried are exactly as the rules say.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from chalicelib.accounts.fake import FakeAccountRepository
from chalicelib.accounts.service import new_account
from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.errors import (
    AlreadyCancelled,
    CancelWindowExpired,
    Conflict,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidRequest,
    MerchantUnavailable,
    NotFound,
)
from chalicelib.merchants.bank import BankAccount
from chalicelib.merchants.fake import FakeMerchantRepository
from chalicelib.merchants.model import ACTIVE, SUSPENDED, Merchant, Store, default_store
from chalicelib.payments.cancel import CancelService
from chalicelib.payments.commands import GrantRequest
from chalicelib.payments.fake import FakePaymentRepository
from chalicelib.payments.grants import GrantService
from chalicelib.payments.model import Payment
from chalicelib.payments.service import MerchantNames, PayCommand, PaymentService

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=JST)
BANK = BankAccount("0001", "001", 1, "1234567", "ｵﾅｶﾞﾜ")


def render(payment: Payment, balance_after: int) -> str:
    return json.dumps({"payment_id": payment.payment_id, "amount": payment.amount, "balance_after": balance_after})


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.accounts = FakeAccountRepository()
        self.merchants = FakeMerchantRepository(self.accounts)
        self.repo = FakePaymentRepository(self.merchants)
        self.sleeps: list[float] = []
        self.add_merchant("M1")
        self.payments = PaymentService(self.repo, self.clock, MerchantNames(self._lookup), max_points=100_000,
                                       sleep=self.sleeps.append)
        self.cancels = CancelService(self.repo, self.clock, window_days=90, sleep=self.sleeps.append)
        self.grants = GrantService(self.repo, self.clock, sleep=self.sleeps.append)

    def _lookup(self, merchant_id: str) -> Store:
        merchant = self.merchants.get(merchant_id)
        if merchant is None or not merchant.active:
            raise MerchantUnavailable()
        return default_store(merchant)

    def add_merchant(self, merchant_id: str, status: str = ACTIVE) -> None:
        merchant = Merchant(merchant_id, "女川商店", "SHOP", "5999", "ONAGAWA", status, merchant_id.lower(), BANK, NOW)
        self.merchants.add(merchant, new_account(login_id=merchant_id.lower(), role="merchant", password="x" * 10,
                                                 merchant_id=merchant_id, now=NOW))

    def grant(self, consumer: str = "C1", points: int = 1000, days: int = 30, grant_id: str | None = None) -> Any:
        return self.grants.grant(GrantRequest(consumer_id=consumer, points=points,
                                              expires_on=NOW.date() + dt.timedelta(days=days), grant_id=grant_id))

    def pay(self, amount: int, key: str = "k1", consumer: str = "C1", merchant: str = "M1",
            fingerprint: str | None = None) -> Any:
        cmd = PayCommand(consumer_id=consumer, idempotency_key=key, amount=amount, store_id=merchant,
                         fingerprint=fingerprint or f"{merchant}:{amount}")
        return self.payments.pay(cmd, render)

    def balance(self, consumer: str = "C1") -> int:
        return self.repo.wallet(consumer).balance(self.clock.now())


@pytest.fixture
def w() -> World:
    return World()


# -- paying ---------------------------------------------------------------------------------------
def test_a_payment_debits_once_and_records_its_answer(w: World) -> None:
    w.grant(points=1000)
    result = w.pay(300)
    body = json.loads(result.body)
    assert (result.status, result.replayed, body["balance_after"]) == (201, False, 700)
    assert w.balance() == 700 and w.repo.writes == 2  # the grant and the payment
    assert w.repo.idempotency("C1", "k1").response == result.body  # type: ignore[union-attr]


def test_same_key_same_body_replays_without_debiting(w: World) -> None:
    w.grant(points=1000)
    first = w.pay(300)
    again = w.pay(300)
    assert (again.status, again.body, again.replayed) == (201, first.body, True)
    assert w.balance() == 700


def test_same_key_other_body_is_refused(w: World) -> None:
    w.grant(points=1000)
    w.pay(300)
    with pytest.raises(IdempotencyKeyReused):
        w.pay(301)
    assert w.balance() == 700


def test_replay_still_answers_after_the_balance_is_spent(w: World) -> None:
    w.grant(points=300)
    first = w.pay(300)
    assert w.pay(300).body == first.body


def test_insufficient_points_write_nothing(w: World) -> None:
    w.grant(points=100)
    with pytest.raises(InsufficientPoints):
        w.pay(101)
    assert w.balance() == 100 and not w.repo.payments


def test_over_the_maximum_is_refused_before_anything(w: World) -> None:
    w.grant(points=1000)
    with pytest.raises(InvalidRequest) as caught:
        w.pay(100_001)
    assert caught.value.param == "amount" and not w.repo.payments


def test_a_suspended_or_unknown_shop_is_unavailable(w: World) -> None:
    w.grant(points=1000)
    w.add_merchant("M2", SUSPENDED)
    for merchant in ("M2", "NOPE"):
        with pytest.raises(MerchantUnavailable):
            w.pay(10, key=merchant, merchant=merchant)
    assert not w.repo.payments


def test_a_shop_suspended_after_the_name_lookup_is_refused_by_the_transaction(w: World) -> None:
    w.grant(points=1000)
    w.pay(1, key="warm")  # the shop's name is now cached as active
    w.merchants.set_status("M1", SUSPENDED, NOW)
    with pytest.raises(MerchantUnavailable):
        w.pay(10, key="k2")
    assert w.balance() == 999


def test_a_replay_answers_even_when_the_shop_is_suspended_since(w: World) -> None:
    w.grant(points=1000)
    first = w.pay(10)
    w.merchants.set_status("M1", SUSPENDED, NOW)
    w.payments.merchants = MerchantNames(w._lookup)  # a cold Lambda: no cached name
    assert w.pay(10).body == first.body


def test_a_moved_wallet_is_read_again_and_the_payment_retried(w: World) -> None:
    w.grant(points=1000)
    w.repo.reject_next("wallet")
    w.repo.reject_next()  # then plain contention
    result = w.pay(250)
    assert result.status == 201 and w.balance() == 750 and len(w.sleeps) == 2


def test_a_colliding_payment_id_is_retried_with_a_new_one(w: World) -> None:
    w.grant(points=1000)
    w.repo.reject_next("payment")
    assert w.pay(5).status == 201 and len(w.repo.payments) == 1


def test_a_concurrent_duplicate_replays_the_winner(w: World) -> None:
    w.grant(points=1000)
    w.pay(40)  # the duplicate that won, committed
    w.repo.reject_next("idempotency")  # what the loser's transaction sees
    replay = w.payments.pay(PayCommand("C1", "k1", 40, "M1", "M1:40"), render)
    assert replay.replayed and w.balance() == 960


def test_a_concurrent_duplicate_with_another_body_is_refused(w: World) -> None:
    w.grant(points=1000)
    w.pay(40)
    w.repo.reject_next("idempotency")
    with pytest.raises(IdempotencyKeyReused):
        w.payments.pay(PayCommand("C1", "k1", 41, "M1", "M1:41"), render)


def test_endless_contention_ends_in_conflict_not_a_debit(w: World) -> None:
    w.grant(points=1000)
    for _ in range(60):
        w.repo.reject_next()
    with pytest.raises(Conflict):
        w.pay(10)
    assert w.balance() == 1000 and len(w.sleeps) == 60


def test_spends_the_soonest_expiring_lot_first(w: World) -> None:
    w.grant(points=500, days=60, grant_id="late")
    w.grant(points=200, days=5, grant_id="soon")
    w.pay(300)
    payment = next(iter(w.repo.payments.values()))
    assert [(s.lot_id, s.points) for s in payment.shares] == [("soon", 200), ("late", 100)]


# -- cancelling -----------------------------------------------------------------------------------
def paid(w: World, amount: int = 300) -> str:
    w.grant(points=1000)
    return str(json.loads(w.pay(amount).body)["payment_id"])


def test_cancel_refunds_once(w: World) -> None:
    pid = paid(w)
    cancelled = w.cancels.cancel(merchant_id="M1", payment_id=pid, confirm_payment_id=pid, by="m1")
    assert cancelled.status == "cancelled" and w.balance() == 1000
    with pytest.raises(AlreadyCancelled):
        w.cancels.cancel(merchant_id="M1", payment_id=pid, confirm_payment_id=pid, by="m1")
    assert w.balance() == 1000 and len(w.repo.cancellations) == 1


def test_cancel_takes_the_id_as_a_person_types_it(w: World) -> None:
    pid = paid(w)
    cancelled = w.cancels.cancel(merchant_id="M1", payment_id=pid.lower(), confirm_payment_id=f" {pid.lower()} ",
                                 by="m1")
    assert cancelled.payment_id == pid


def test_cancel_needs_the_matching_confirmation(w: World) -> None:
    pid = paid(w)
    with pytest.raises(InvalidRequest) as caught:
        w.cancels.cancel(merchant_id="M1", payment_id=pid, confirm_payment_id="WRONG", by="m1")
    assert caught.value.param == "confirm_payment_id" and w.balance() == 700


def test_another_shop_cannot_see_or_cancel(w: World) -> None:
    pid = paid(w)
    w.add_merchant("M2")
    with pytest.raises(NotFound):
        w.cancels.cancel(merchant_id="M2", payment_id=pid, confirm_payment_id=pid, by="m2")
    assert w.balance() == 700


def test_cancel_window(w: World) -> None:
    pid = paid(w)
    w.clock.advance(days=91)
    with pytest.raises(CancelWindowExpired):
        w.cancels.cancel(merchant_id="M1", payment_id=pid, confirm_payment_id=pid, by="m1")


def test_a_cancel_that_lost_the_race_reports_already_cancelled(w: World) -> None:
    pid = paid(w)
    # another clerk's cancel commits between this request's read and its write
    w.repo.interleave(lambda: w.cancels.cancel(merchant_id="M1", payment_id=pid, confirm_payment_id=pid, by="first"))
    with pytest.raises(AlreadyCancelled):
        w.cancels.cancel(merchant_id="M1", payment_id=pid, confirm_payment_id=pid, by="second")
    assert w.balance() == 1000 and len(w.repo.cancellations) == 1


def test_a_payment_racing_another_on_the_same_wallet_never_overdraws(w: World) -> None:
    w.grant(points=500)
    w.repo.interleave(lambda: w.pay(400, key="other"))
    with pytest.raises(InsufficientPoints):
        w.pay(300, key="mine")  # planned on 500, re-planned on 100 after the version moved
    assert w.balance() == 100


def test_endless_contention_on_cancel_ends_in_conflict(w: World) -> None:
    pid = paid(w)
    for _ in range(30):
        w.repo.reject_next("wallet")
    with pytest.raises(Conflict):
        w.cancels.cancel(merchant_id="M1", payment_id=pid, confirm_payment_id=pid, by="m1")
    assert w.balance() == 700


def test_refund_into_an_expired_lot_counts_as_expired(w: World) -> None:
    w.grant(points=300, days=0)
    pid = str(json.loads(w.pay(200).body)["payment_id"])
    w.clock.advance(days=1)
    w.cancels.cancel(merchant_id="M1", payment_id=pid, confirm_payment_id=pid, by="m1")
    wallet = w.repo.wallet("C1")
    assert wallet.balance(w.clock.now()) == 0 and wallet.expired(w.clock.now()) == 300


# -- granting -------------------------------------------------------------------------------------
def test_a_grant_is_idempotent_by_its_id(w: World) -> None:
    assert w.grant(grant_id="G1").created
    again = w.grant(grant_id="G1")
    assert not again.created and w.balance() == 1000


def test_the_same_grant_id_with_other_content_is_refused(w: World) -> None:
    w.grant(grant_id="G1", points=1000)
    with pytest.raises(IdempotencyKeyReused):
        w.grant(grant_id="G1", points=999)
    assert w.balance() == 1000


def test_a_grant_retries_when_the_wallet_is_busy(w: World) -> None:
    w.repo.reject_next()
    w.repo.reject_next()
    assert w.grant().created and w.balance() == 1000 and len(w.sleeps) == 2


def test_a_grant_gives_up_after_its_attempts(w: World) -> None:
    for _ in range(10):
        w.repo.reject_next()
    with pytest.raises(Conflict):
        w.grant()
    assert w.balance() == 0


@pytest.mark.parametrize("days", [-1, 366 * 5 + 1])
def test_expiry_must_be_from_today_and_within_five_years(w: World, days: int) -> None:
    with pytest.raises(InvalidRequest) as caught:
        w.grant(days=days)
    assert caught.value.param == "expires_on" and not w.repo.grants
