"""Wallet lots: soonest-expiring first, expiry at the end of a JST day, refunds to their lots."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.core.clock import JST, end_of_jst_day
from chalicelib.core.errors import InsufficientPoints
from chalicelib.payments.wallet import Lot, Share, Wallet, plan_debit, plan_refund

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=JST)


def lot(lot_id: str, day: str, points: int) -> Lot:
    return Lot(lot_id, end_of_jst_day(dt.date.fromisoformat(day)), points)


def wallet(*lots: Lot, expired: int = 0) -> Wallet:
    return Wallet("C-1", 3, tuple(lots), expired)


@pytest.mark.parametrize(
    ("lots", "amount", "shares", "left"),
    [
        ([lot("a", "2026-12-31", 1000)], 300, [("a", 300)], [("a", 700)]),
        ([lot("late", "2027-03-31", 500), lot("soon", "2026-12-31", 200)], 300,
         [("soon", 200), ("late", 100)], [("late", 400)]),
        ([lot("x", "2026-12-31", 100), lot("y", "2026-12-31", 100)], 200, [("x", 100), ("y", 100)], []),
        ([lot("a", "2026-12-31", 1000)], 1000, [("a", 1000)], []),
    ],
)
def test_debit_spends_soonest_expiring_first(lots: list[Lot], amount: int, shares: list[tuple[str, int]],
                                             left: list[tuple[str, int]]) -> None:
    w = wallet(*lots)
    debit = plan_debit(w, amount, NOW.astimezone(UTC))
    assert [(s.lot_id, s.points) for s in debit.shares] == shares
    assert [(lot_.lot_id, lot_.points) for lot_ in debit.lots] == left
    assert debit.balance_after == w.balance(NOW) - amount
    assert sum(x.points for x in debit.lots) + sum(s.points for s in debit.shares) == w.total_held()


def test_lot_is_spendable_until_the_last_millisecond_of_its_jst_day() -> None:
    w = wallet(lot("a", "2026-11-30", 500))
    last_ms = dt.datetime(2026, 11, 30, 23, 59, 59, 999000, tzinfo=JST)
    assert w.balance(last_ms) == 500
    assert w.balance(last_ms + dt.timedelta(milliseconds=1)) == 0
    assert w.expired(last_ms + dt.timedelta(milliseconds=1)) == 500


def test_expired_points_cannot_be_spent_and_are_swept() -> None:
    w = wallet(lot("old", "2026-11-19", 800), lot("new", "2026-12-31", 100))
    with pytest.raises(InsufficientPoints):
        plan_debit(w, 200, NOW)
    debit = plan_debit(w, 100, NOW)
    assert debit.swept_points == 800 and debit.lots == ()


def test_refund_returns_to_lots_and_expired_shares_to_expired() -> None:
    w = wallet(lot("b", "2027-01-31", 50))
    shares = [Share("a", end_of_jst_day(dt.date(2026, 11, 19)), 30),
              Share("b", end_of_jst_day(dt.date(2027, 1, 31)), 70),
              Share("c", end_of_jst_day(dt.date(2026, 12, 31)), 5)]
    refund = plan_refund(w, shares, NOW)
    assert refund.to_expired == 30
    assert {x.lot_id: x.points for x in refund.lots} == {"b": 120, "c": 5}
    assert refund.balance_after == 125


def test_breakdown_groups_by_jst_expiry_day() -> None:
    w = wallet(lot("a", "2026-12-31", 100), lot("b", "2026-12-31", 50), lot("c", "2027-03-31", 7),
               lot("gone", "2026-01-01", 9))
    assert w.breakdown(NOW) == [(dt.date(2026, 12, 31), 150), (dt.date(2027, 3, 31), 7)]
