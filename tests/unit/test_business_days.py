"""Bank business days and transfer dates, checked against the real calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.clock import UTC
from chalicelib.core.periods import Period
from chalicelib.settlement.business_days import (
    adjust,
    is_bank_holiday,
    is_business_day,
    is_national_holiday,
    scheduled_transfer_day,
    transfer_date,
)

D = dt.date
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


@pytest.mark.parametrize(
    ("day", "weekday", "previous", "next_"),
    [
        # a Wednesday, but a bank holiday; 1–3 Jan follow, then a weekend
        (D(2025, 12, 31), WED, D(2025, 12, 30), D(2026, 1, 5)),
        (D(2026, 1, 31), SAT, D(2026, 1, 30), D(2026, 2, 2)),
        (D(2026, 2, 15), SUN, D(2026, 2, 13), D(2026, 2, 16)),
        (D(2026, 10, 31), SAT, D(2026, 10, 30), D(2026, 11, 2)),
        # 敬老の日 (Respect for the Aged Day) on a Monday
        (D(2025, 9, 15), MON, D(2025, 9, 12), D(2025, 9, 16)),
        # Silver Week 2026: 敬老の日 21st, 国民の休日 22nd, 秋分の日 23rd
        (D(2026, 9, 21), MON, D(2026, 9, 18), D(2026, 9, 24)),
        # Golden Week 2026: 3 May (Sun) to 6 May (振替休日)
        (D(2026, 5, 4), MON, D(2026, 5, 1), D(2026, 5, 7)),
        # 2 Jan and 3 Jan are bank holidays even on weekdays
        (D(2025, 1, 3), FRI, D(2024, 12, 30), D(2025, 1, 6)),
        # 振替休日 24 Nov 2025 (勤労感謝の日 fell on a Sunday)
        (D(2025, 11, 24), MON, D(2025, 11, 21), D(2025, 11, 25)),
    ],
)
def test_adjust(day: dt.date, weekday: int, previous: dt.date, next_: dt.date) -> None:
    # GIVEN a day that is not a business day (its weekday checked against the calendar)
    assert day.weekday() == weekday
    assert not is_business_day(day)
    # WHEN it is moved either way THEN it lands on the expected business days
    assert adjust(day, "previous") == previous
    assert adjust(day, "next") == next_
    assert is_business_day(previous) and is_business_day(next_)
    # and every day strictly in between is not a business day
    between = previous + dt.timedelta(days=1)
    while between < next_:
        assert not is_business_day(between), between
        between += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("day", "weekday"),
    [
        (D(2025, 12, 30), TUE),
        (D(2026, 1, 5), MON),
        (D(2026, 1, 30), FRI),
        (D(2026, 2, 2), MON),
        (D(2026, 2, 13), FRI),
        (D(2026, 2, 16), MON),
        (D(2026, 10, 30), FRI),
        (D(2026, 11, 2), MON),
        (D(2025, 9, 12), FRI),
        (D(2025, 9, 16), TUE),
    ],
)
def test_business_days_are_left_alone(day: dt.date, weekday: int) -> None:
    assert day.weekday() == weekday
    assert is_business_day(day)
    assert adjust(day, "previous") == day
    assert adjust(day, "next") == day


@pytest.mark.parametrize(
    ("day", "national", "bank"),
    [
        (D(2025, 9, 15), True, False),  # 敬老の日
        (D(2026, 9, 22), True, False),  # 国民の休日
        (D(2026, 5, 6), True, False),  # 振替休日
        (D(2026, 1, 1), True, True),  # 元日
        (D(2026, 1, 2), False, True),
        (D(2026, 1, 3), False, True),
        (D(2025, 12, 31), False, True),
        (D(2026, 1, 4), False, False),
        (D(2025, 12, 30), False, False),
        (D(2026, 11, 16), False, False),
    ],
)
def test_holiday_kinds(day: dt.date, national: bool, bank: bool) -> None:
    assert is_national_holiday(day) is national
    assert is_bank_holiday(day) is bank
    if national or bank or day.weekday() >= SAT:
        assert not is_business_day(day)


@pytest.mark.parametrize(
    ("period_id", "scheduled", "previous", "next_"),
    [
        ("2026-01-2", D(2026, 2, 15), D(2026, 2, 13), D(2026, 2, 16)),
        ("2026-01-1", D(2026, 1, 31), D(2026, 1, 30), D(2026, 2, 2)),
        ("2026-10-1", D(2026, 10, 31), D(2026, 10, 30), D(2026, 11, 2)),
        ("2025-12-1", D(2025, 12, 31), D(2025, 12, 30), D(2026, 1, 5)),
        ("2025-08-2", D(2025, 9, 15), D(2025, 9, 12), D(2025, 9, 16)),
        # leap February and a 30-day month end
        ("2028-02-1", D(2028, 2, 29), D(2028, 2, 29), D(2028, 2, 29)),  # Tuesday
        ("2026-04-1", D(2026, 4, 30), D(2026, 4, 30), D(2026, 4, 30)),  # Thursday
        # period 2 of December pays on 15 January of the next year
        ("2026-12-2", D(2027, 1, 15), D(2027, 1, 15), D(2027, 1, 15)),  # Friday
        ("2026-11-2", D(2026, 12, 15), D(2026, 12, 15), D(2026, 12, 15)),  # Tuesday
    ],
)
def test_transfer_date(period_id: str, scheduled: dt.date, previous: dt.date, next_: dt.date) -> None:
    period = Period.parse(period_id)
    assert scheduled_transfer_day(period) == scheduled
    assert transfer_date(period) == previous  # SPEC default
    assert transfer_date(period, "previous") == previous
    assert transfer_date(period, "next") == next_


def test_unknown_direction_is_rejected() -> None:
    with pytest.raises(ValueError, match="direction"):
        adjust(D(2026, 1, 31), "nearest")  # type: ignore[arg-type]


def test_datetime_is_not_a_date_here() -> None:
    moment = dt.datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    with pytest.raises(TypeError):
        is_business_day(moment)


@pytest.mark.parametrize("year", [1948, 2100])
def test_years_without_a_holiday_calendar_are_refused(year: int) -> None:
    with pytest.raises(ValueError, match="holiday calendar"):
        is_business_day(D(year, 6, 1))


days = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 20))


@given(days, st.sampled_from(["previous", "next"]))
def test_adjust_lands_on_the_nearest_business_day(day: dt.date, direction: str) -> None:
    adjusted = adjust(day, direction)  # type: ignore[arg-type]
    assert is_business_day(adjusted)
    assert adjusted.weekday() < SAT
    if direction == "previous":
        assert adjusted <= day
        span = range(1, (day - adjusted).days + 1)
        assert all(not is_business_day(day - dt.timedelta(days=k)) for k in span[:-1])
    else:
        assert adjusted >= day
        span = range(1, (adjusted - day).days + 1)
        assert all(not is_business_day(day + dt.timedelta(days=k)) for k in span[:-1])
    # the longest run of bank holidays so far: Golden Week 2019 (27 Apr - 6 May, ten days)
    assert abs((adjusted - day).days) <= 10
    if is_business_day(day):
        assert adjusted == day
