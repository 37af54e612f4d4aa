"""Bank business days and payout transfer dates (SPEC §7).

Invariants
----------
- A business day is a weekday that is neither a Japanese national holiday (including
  振替休日 and 国民の休日, as published by the ``holidays`` package) nor a bank holiday
  of 31 Dec – 3 Jan.
- ``adjust(d, ...)`` returns ``d`` itself when it is a business day; otherwise the
  nearest business day before (``"previous"``) or after (``"next"``) it. The result is
  always a business day and never more than a few days away.
- Transfer date of a period: period 1 → last day of its month, period 2 → 15th of the
  next month, then adjusted (SPEC default: previous business day).
- Outside the years the holiday calendar covers (1949–2099 for ``holidays`` 0.109) the
  answer would silently ignore holidays, so those years raise ``ValueError`` instead of
  guessing.

Holidays are looked up once per year and cached; dates are JST calendar dates (plain
``date`` objects carry no zone, and none is needed).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Literal

from chalicelib.core.periods import Period

Direction = Literal["previous", "next"]

# 31 Dec – 3 Jan: banks are closed (銀行法施行令 第5条) although only 1 Jan is a
# national holiday.
_BANK_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(12, 31), (1, 1), (1, 2), (1, 3)})

# Far more than any run of non-business days (the longest is about a week, at New Year
# or in Golden Week); reaching it means the calendar is broken, not that the loop should
# go on.
_MAX_STEPS = 31

TRANSFER_DAY_OF_SECOND_HALF = 15


@lru_cache(maxsize=1)
def _japan() -> type[Any]:
    # Only Japan's calendar, and only when a date is asked: ``import holidays`` would load every
    # country's module, which a cold start of any route would pay for.
    from holidays.countries.japan import Japan

    return Japan  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def calendar_years() -> tuple[int, int]:
    japan = _japan()()
    return int(japan.start_year), int(japan.end_year)


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[dt.date]:
    first, last = calendar_years()
    if not first <= year <= last:
        raise ValueError(f"no Japanese holiday calendar for {year} (covered: {first}–{last})")
    return frozenset(_japan()(years=year).keys())


def is_national_holiday(d: dt.date) -> bool:
    return _plain_date(d) in _national_holidays(d.year)


def is_bank_holiday(d: dt.date) -> bool:
    """31 Dec – 3 Jan."""
    return (d.month, d.day) in _BANK_HOLIDAYS


def is_business_day(d: dt.date) -> bool:
    day = _plain_date(d)
    if day.weekday() >= 5:  # Saturday, Sunday
        return False
    return not (is_bank_holiday(day) or is_national_holiday(day))


def adjust(d: dt.date, direction: Direction) -> dt.date:
    """``d`` if it is a business day, else the nearest business day in ``direction``."""
    if direction == "previous":
        step = dt.timedelta(days=-1)
    elif direction == "next":
        step = dt.timedelta(days=1)
    else:
        raise ValueError(f"direction must be 'previous' or 'next', got {direction!r}")
    day = _plain_date(d)
    for _ in range(_MAX_STEPS):
        if is_business_day(day):
            return day
        day += step
    raise RuntimeError(f"no business day within {_MAX_STEPS} days of {d.isoformat()}")


def scheduled_transfer_day(period: Period) -> dt.date:
    """The unadjusted transfer day: month end (period 1) or the next month's 15th."""
    if period.half == 1:
        return period.next().last_day
    following = period.next()
    return dt.date(following.year, following.month, TRANSFER_DAY_OF_SECOND_HALF)


def transfer_date(period: Period, direction: Direction = "previous") -> dt.date:
    """The bank transfer date of ``period``'s payouts, moved onto a business day."""
    return adjust(scheduled_transfer_day(period), direction)


def _plain_date(d: dt.date) -> dt.date:
    # A datetime is a date subclass; taking its date part silently would hide a zone
    # mistake.
    if isinstance(d, dt.datetime):
        raise TypeError("expected a calendar date, got a datetime: convert it with jst_date() first")
    return d
