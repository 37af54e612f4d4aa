"""Settlement periods: JST half-month edges, UTC views, ids, catch-up listing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.clock import JST, UTC
from chalicelib.core.periods import (
    Period,
    due_periods,
    period_of,
    periods_between,
)

MS = dt.timedelta(milliseconds=1)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, us, tzinfo=JST)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


# -- which period an instant belongs to -------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected_id"),
    [
        # the 15th/16th edge
        (jst(2026, 11, 15, 23, 59, 59, 999_000), "2026-11-1"),
        (jst(2026, 11, 16, 0, 0), "2026-11-2"),
        (jst(2026, 11, 1, 0, 0), "2026-11-1"),
        # month ends of every length: last ms vs the 1st 00:00
        (jst(2026, 2, 28, 23, 59, 59, 999_000), "2026-02-2"),  # 28 days
        (jst(2026, 3, 1, 0, 0), "2026-03-1"),
        (jst(2028, 2, 29, 23, 59, 59, 999_000), "2028-02-2"),  # leap, 29 days
        (jst(2028, 2, 29, 12, 0), "2028-02-2"),
        (jst(2028, 3, 1, 0, 0), "2028-03-1"),
        (jst(2026, 4, 30, 23, 59, 59, 999_000), "2026-04-2"),  # 30 days
        (jst(2026, 5, 1, 0, 0), "2026-05-1"),
        (jst(2026, 12, 31, 23, 59, 59, 999_000), "2026-12-2"),  # 31 days, year end
        (jst(2027, 1, 1, 0, 0), "2027-01-1"),
        # the same edges seen from UTC: JST midnight is 15:00 UTC the day before
        (utc(2026, 11, 15, 14, 59, 59, 999_000), "2026-11-1"),
        (utc(2026, 11, 15, 15, 0), "2026-11-2"),
        (utc(2026, 11, 30, 14, 59, 59, 999_000), "2026-11-2"),
        (utc(2026, 11, 30, 15, 0), "2026-12-1"),
        (utc(2026, 12, 31, 14, 59, 59, 999_000), "2026-12-2"),
        (utc(2026, 12, 31, 15, 0), "2027-01-1"),
        # the UTC date says the 16th but JST is already the 17th: still period 2
        (utc(2026, 11, 16, 20, 0), "2026-11-2"),
        # the UTC date says the 31st (Oct) but JST is already 1 Nov
        (utc(2026, 10, 31, 16, 0), "2026-11-1"),
        # another offset entirely
        (dt.datetime(2026, 11, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2026-11-2"),
    ],
)
def test_period_of_edges(moment: dt.datetime, expected_id: str) -> None:
    # GIVEN an instant just before or at a period bound
    # WHEN we ask which period holds it
    period = period_of(moment)
    # THEN it is the expected one, and that period says it contains the instant
    assert period.id == expected_id
    assert period.contains(moment)
    assert not period.next().contains(moment)
    assert not period.previous().contains(moment)


@pytest.mark.parametrize(
    ("period_id", "start_utc", "end_utc"),
    [
        ("2026-11-1", utc(2026, 10, 31, 15, 0), utc(2026, 11, 15, 15, 0)),
        ("2026-11-2", utc(2026, 11, 15, 15, 0), utc(2026, 11, 30, 15, 0)),
        ("2026-02-2", utc(2026, 2, 15, 15, 0), utc(2026, 2, 28, 15, 0)),
        ("2028-02-2", utc(2028, 2, 15, 15, 0), utc(2028, 2, 29, 15, 0)),
        ("2026-04-2", utc(2026, 4, 15, 15, 0), utc(2026, 4, 30, 15, 0)),
        ("2026-12-2", utc(2026, 12, 15, 15, 0), utc(2026, 12, 31, 15, 0)),
        ("2027-01-1", utc(2026, 12, 31, 15, 0), utc(2027, 1, 15, 15, 0)),
    ],
)
def test_bounds_in_utc(period_id: str, start_utc: dt.datetime, end_utc: dt.datetime) -> None:
    period = Period.parse(period_id)
    assert period.start_utc == start_utc
    assert period.end_utc == end_utc
    assert period.start_utc.utcoffset() == dt.timedelta(0)
    assert period.end_utc.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("period_id", "start_jst", "end_jst", "first_day", "last_day"),
    [
        ("2026-11-1", jst(2026, 11, 1), jst(2026, 11, 16), dt.date(2026, 11, 1), dt.date(2026, 11, 15)),
        ("2026-11-2", jst(2026, 11, 16), jst(2026, 12, 1), dt.date(2026, 11, 16), dt.date(2026, 11, 30)),
        ("2026-02-2", jst(2026, 2, 16), jst(2026, 3, 1), dt.date(2026, 2, 16), dt.date(2026, 2, 28)),
        ("2028-02-2", jst(2028, 2, 16), jst(2028, 3, 1), dt.date(2028, 2, 16), dt.date(2028, 2, 29)),
        ("2026-04-2", jst(2026, 4, 16), jst(2026, 5, 1), dt.date(2026, 4, 16), dt.date(2026, 4, 30)),
        ("2026-12-2", jst(2026, 12, 16), jst(2027, 1, 1), dt.date(2026, 12, 16), dt.date(2026, 12, 31)),
    ],
)
def test_bounds_in_jst(
    period_id: str,
    start_jst: dt.datetime,
    end_jst: dt.datetime,
    first_day: dt.date,
    last_day: dt.date,
) -> None:
    period = Period.parse(period_id)
    assert period.start_jst == start_jst
    assert period.end_jst == end_jst
    assert period.start_jst.utcoffset() == dt.timedelta(hours=9)
    assert (period.first_day, period.last_day) == (first_day, last_day)


def test_contains_is_half_open() -> None:
    period = Period(2026, 11, 1)
    assert period.contains(period.start_utc)
    assert period.contains(period.end_utc - MS)
    assert not period.contains(period.end_utc)
    assert not period.contains(period.start_utc - MS)


def test_naive_datetimes_are_rejected() -> None:
    naive = dt.datetime(2026, 11, 16)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive"):
        period_of(naive)
    with pytest.raises(ValueError, match="naive"):
        Period(2026, 11, 1).contains(naive)
    with pytest.raises(ValueError, match="naive"):
        due_periods(naive, dt.timedelta(minutes=5), None)


# -- ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period_id", "expected"),
    [
        ("2026-11-1", Period(2026, 11, 1)),
        ("2026-11-2", Period(2026, 11, 2)),
        ("2026-01-1", Period(2026, 1, 1)),
        ("2028-02-2", Period(2028, 2, 2)),
    ],
)
def test_parse_round_trips(period_id: str, expected: Period) -> None:
    assert Period.parse(period_id) == expected
    assert expected.id == period_id
    assert str(expected) == period_id


@pytest.mark.parametrize(
    "bad_id",
    [
        "2026-13-1",  # no 13th month
        "2026-00-1",
        "2026-11-3",  # only two halves
        "2026-11-0",
        "26-11-1",  # two-digit year
        "2026-1-1",  # month must be zero-padded
        "02026-11-1",
        "2026-11-01",
        "2026-11",
        "2026/11/1",
        " 2026-11-1",
        "2026-11-1\n",
        "２０２６-11-1",  # full-width digits
        "",
        "0999-12-2",  # below the supported years
    ],
)
def test_parse_rejects_bad_ids(bad_id: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(bad_id)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(ValueError):
        Period.parse(20261101)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("year", "month", "half", "error"),
    [
        (2026, 13, 1, ValueError),
        (2026, 0, 1, ValueError),
        (2026, 11, 3, ValueError),
        (999, 1, 1, ValueError),
        (9999, 1, 1, ValueError),
        (True, 1, 1, TypeError),
        (2026, 11.0, 1, TypeError),
        (2026, "11", 1, TypeError),
    ],
)
def test_constructor_validates(year: object, month: object, half: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        Period(year, month, half)  # type: ignore[arg-type]


def test_ids_sort_like_periods() -> None:
    periods = periods_between(Period(2025, 11, 1), Period(2027, 2, 2))
    assert sorted(p.id for p in periods) == [p.id for p in periods]
    assert sorted(reversed(periods)) == periods


# -- neighbours and ranges -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("period_id", "next_id"),
    [
        ("2026-11-1", "2026-11-2"),
        ("2026-11-2", "2026-12-1"),
        ("2026-12-2", "2027-01-1"),
        ("2028-02-1", "2028-02-2"),
        ("2028-02-2", "2028-03-1"),
    ],
)
def test_next_and_previous(period_id: str, next_id: str) -> None:
    period = Period.parse(period_id)
    assert period.next().id == next_id
    assert Period.parse(next_id).previous() == period
    assert period.end_utc == period.next().start_utc


def test_periods_between() -> None:
    ids = [p.id for p in periods_between(Period(2026, 11, 2), Period(2027, 1, 2))]
    assert ids == ["2026-11-2", "2026-12-1", "2026-12-2", "2027-01-1", "2027-01-2"]
    assert periods_between(Period(2026, 11, 1), Period(2026, 11, 1)) == [Period(2026, 11, 1)]
    assert periods_between(Period(2026, 11, 2), Period(2026, 11, 1)) == []


# -- catch-up ------------------------------------------------------------------------------

GRACE = dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("now", "after", "expected_ids"),
    [
        # 2026-11-1 ends at 11-16 00:00 JST; due only once the grace has passed too
        (jst(2026, 11, 16, 0, 4, 59, 999_000), Period(2026, 10, 2), []),
        (jst(2026, 11, 16, 0, 5), Period(2026, 10, 2), ["2026-11-1"]),
        (jst(2026, 11, 16, 0, 5), Period(2026, 11, 1), []),
        # the daily run at 00:05 JST (15:05 UTC) on a day with nothing new to close
        (utc(2026, 11, 20, 15, 5), Period(2026, 11, 1), []),
        # missed runs: everything after the last closed period comes back, oldest first
        (jst(2027, 1, 2, 9, 0), Period(2026, 10, 2), ["2026-11-1", "2026-11-2", "2026-12-1", "2026-12-2"]),
        # nothing closed yet: only the newest due period
        (jst(2027, 1, 2, 9, 0), None, ["2026-12-2"]),
        (jst(2026, 11, 16, 0, 4), None, ["2026-10-2"]),
        # "after" already past the newest due period (clock skew, manual close): nothing
        (jst(2026, 11, 16, 0, 5), Period(2026, 11, 2), []),
    ],
)
def test_due_periods(now: dt.datetime, after: Period | None, expected_ids: list[str]) -> None:
    due = due_periods(now.astimezone(UTC), GRACE, after)
    assert [p.id for p in due] == expected_ids
    for period in due:
        assert period.end_utc + GRACE <= now


def test_due_periods_rejects_negative_grace() -> None:
    with pytest.raises(ValueError, match="grace"):
        due_periods(utc(2026, 11, 20), -dt.timedelta(seconds=1), None)


# -- properties ------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=dt.datetime(2100, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))

periods = st.builds(
    Period,
    year=st.integers(min_value=2000, max_value=2100),
    month=st.integers(min_value=1, max_value=12),
    half=st.sampled_from([1, 2]),
)


@given(instants)
def test_every_instant_is_in_exactly_one_period(moment: dt.datetime) -> None:
    period = period_of(moment)
    assert period.contains(moment)
    assert period.start_utc <= moment < period.end_utc
    assert not period.previous().contains(moment)
    assert not period.next().contains(moment)
    assert period_of(moment.astimezone(JST)) == period


@given(periods)
def test_bounds_belong_to_their_period(period: Period) -> None:
    assert period_of(period.start_utc) == period
    assert period_of(period.end_utc - MS) == period
    assert period_of(period.end_utc) == period.next()
    assert Period.parse(period.id) == period
    assert period.next().previous() == period
    assert period.start_jst.hour == 0 and period.start_jst.minute == 0
    assert period.start_jst.day in (1, 16)


@given(periods, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)))
def test_a_period_is_due_exactly_from_end_plus_grace(period: Period, grace: dt.timedelta) -> None:
    at_due = period.end_utc + grace
    assert period in due_periods(at_due, grace, period.previous())
    assert period not in due_periods(at_due - MS, grace, period.previous())
