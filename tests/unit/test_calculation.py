"""Payout calculation: net, payout, carry, per merchant (table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.payments.model import LedgerEvent
from chalicelib.settlement.calculation import aggregate, payout_lines

DAY = dt.date(2026, 11, 30)
AT = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def event(kind: str, amount: int) -> LedgerEvent:
    return LedgerEvent(kind, "P", "M", amount, AT)


@pytest.mark.parametrize(
    ("sales", "cancels", "carried", "payout", "carry_out"),
    [
        (1000, 0, 0, 1000, 0),
        (1000, 1000, 0, 0, 0),
        (300, 1000, 0, 0, -700),
        (900, 0, -700, 200, 0),
        (500, 0, -700, 0, -200),
        (0, 0, -50, 0, -50),
    ],
)
def test_net_payout_and_carry(sales: int, cancels: int, carried: int, payout: int, carry_out: int) -> None:
    events = ([event("sale", sales)] if sales else []) + ([event("cancel", cancels)] if cancels else [])
    (line,) = payout_lines("2026-11-2", aggregate(events), {"M": carried} if carried else {}, DAY)
    assert (line.payout, line.carry_out, line.net) == (payout, carry_out, sales - cancels + carried)
    assert line.status == ("scheduled" if payout else "carried")


def test_merchants_without_events_or_debt_get_no_line() -> None:
    assert payout_lines("2026-11-2", aggregate([]), {"M": 0}, DAY) == []


def test_positive_carry_is_refused() -> None:
    with pytest.raises(ValueError):
        payout_lines("2026-11-2", aggregate([]), {"M": 5}, DAY)


@given(st.lists(st.lists(st.tuples(st.booleans(), st.integers(1, 5000)), max_size=8), min_size=1, max_size=8))
def test_over_consecutive_periods_net_equals_payouts_plus_final_carry(periods: list[list[tuple[bool, int]]]) -> None:
    carry: dict[str, int] = {}
    paid = 0
    net_total = 0
    for i, events in enumerate(periods):
        items = [event("sale" if is_sale else "cancel", amt)
                 for is_sale, amt in events]
        net_total += sum(amt if is_sale else -amt for is_sale, amt in events)
        lines = payout_lines(f"p{i}", aggregate(items), carry, DAY)
        paid += sum(line.payout for line in lines)
        carry = {line.merchant_id: line.carry_out for line in lines if line.carry_out}
        assert all(line.payout >= 0 and line.carry_out <= 0 for line in lines)
    assert net_total == paid + carry.get("M", 0)
