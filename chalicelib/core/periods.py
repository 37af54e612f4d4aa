"""Settlement periods: two a month, in Japan time (SPEC §7).

Invariants
----------
- A period is half-open in JST: ``YYYY-MM-1`` runs from the 1st 00:00 JST up to (not
  including) the 16th 00:00 JST; ``YYYY-MM-2`` runs from the 16th 00:00 JST up to (not
  including) the 1st of the next month 00:00 JST. Every instant belongs to exactly one
  period, and consecutive periods share a bound (``p.end_utc == p.next().start_utc``),
  so nothing falls between them.
- Period ids are ``YYYY-MM-H``: a four-digit year, a zero-padded two-digit month
  (``01``–``12``) and the half (``1`` or ``2``). ``Period.parse(p.id) == p`` and ids
  sort in time order, so they are safe as sort keys. Anything else (``2026-1-1``,
  ``26-11-1``, ``2026-13-1``, ``2026-11-3``) is rejected with ``ValueError``.
- Years run from 1000 to 9998 so that every id has four digits and every bound,
  including the end of the last period, is a representable ``datetime``.
- Bounds are aware datetimes; ``*_utc`` views are what storage compares against,
  ``*_jst`` views are what people see. Naive datetimes are rejected, never guessed at.
- Periods order by time (``year``, ``month``, ``half``), so ``min``/``max``/``<`` work.

Japan has no daylight saving time, so the fixed +09:00 offset from
``chalicelib.core.clock`` is exact and a period always starts at 15:00 UTC on the
previous calendar day (the 15th 15:00 UTC for the second half, the last day of the
previous month 15:00 UTC for the first half).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from chalicelib.core.clock import JST, UTC, require_aware

MIN_YEAR = 1000
MAX_YEAR = 9998

SECOND_HALF_START_DAY = 16

# ASCII digits only: ``\d`` would also accept other scripts' digits such as "２".
_ID_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9])")


@dataclass(frozen=True, order=True)
class Period:
    """One settlement period; ``half`` is 1 (1st–15th) or 2 (16th–end of month)."""

    year: int
    month: int
    half: int

    def __post_init__(self) -> None:
        for name in ("year", "month", "half"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Period.{name} must be int, got {type(value).__name__}")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"period year out of range {MIN_YEAR}..{MAX_YEAR}: {self.year}")
        if not 1 <= self.month <= 12:
            raise ValueError(f"period month out of range 1..12: {self.month}")
        if self.half not in (1, 2):
            raise ValueError(f"period half must be 1 or 2: {self.half}")

    # -- identity ------------------------------------------------------------------

    @property
    def id(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.half}"

    def __str__(self) -> str:
        return self.id

    @classmethod
    def parse(cls, period_id: str) -> Period:
        """The period named ``YYYY-MM-H`` (month zero-padded); else ``ValueError``."""
        if not isinstance(period_id, str):
            raise ValueError(f"period id must be a string, got {type(period_id).__name__}")
        match = _ID_PATTERN.fullmatch(period_id)
        if match is None:
            raise ValueError(f"malformed period id {period_id!r}: expected YYYY-MM-H, e.g. 2026-01-1")
        year, month, half = (int(group) for group in match.groups())
        return cls(year, month, half)

    # -- bounds --------------------------------------------------------------------

    @property
    def start_jst(self) -> dt.datetime:
        day = 1 if self.half == 1 else SECOND_HALF_START_DAY
        return dt.datetime(self.year, self.month, day, tzinfo=JST)

    @property
    def end_jst(self) -> dt.datetime:
        """The exclusive end: the start of the next period."""
        if self.half == 1:
            return dt.datetime(self.year, self.month, SECOND_HALF_START_DAY, tzinfo=JST)
        if self.month == 12:
            return dt.datetime(self.year + 1, 1, 1, tzinfo=JST)
        return dt.datetime(self.year, self.month + 1, 1, tzinfo=JST)

    @property
    def start_utc(self) -> dt.datetime:
        return self.start_jst.astimezone(UTC)

    @property
    def end_utc(self) -> dt.datetime:
        return self.end_jst.astimezone(UTC)

    @property
    def first_day(self) -> dt.date:
        """The first JST calendar day of the period."""
        return self.start_jst.date()

    @property
    def last_day(self) -> dt.date:
        """The last JST calendar day of the period (the 15th, or the month's last)."""
        return self.end_jst.date() - dt.timedelta(days=1)

    def contains(self, moment: dt.datetime) -> bool:
        """True when ``start <= moment < end``; naive datetimes are rejected."""
        instant = require_aware(moment)
        return self.start_utc <= instant < self.end_utc

    # -- neighbours ----------------------------------------------------------------

    def next(self) -> Period:
        if self.half == 1:
            return Period(self.year, self.month, 2)
        if self.month == 12:
            return Period(self.year + 1, 1, 1)
        return Period(self.year, self.month + 1, 1)

    def previous(self) -> Period:
        if self.half == 2:
            return Period(self.year, self.month, 1)
        if self.month == 1:
            return Period(self.year - 1, 12, 2)
        return Period(self.year, self.month - 1, 2)


def period_of(moment: dt.datetime) -> Period:
    """The period containing ``moment`` (an aware datetime in any zone)."""
    local = require_aware(moment).astimezone(JST)
    half = 1 if local.day < SECOND_HALF_START_DAY else 2
    return Period(local.year, local.month, half)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Periods ``first`` to ``last``, both included, in order; [] if first > last."""
    periods: list[Period] = []
    current = first
    while current <= last:
        periods.append(current)
        if current == last:
            break
        current = current.next()
    return periods


def due_periods(now_utc: dt.datetime, grace: dt.timedelta, after: Period | None) -> list[Period]:
    """Periods ready to close at ``now_utc``, oldest first (catch-up after missed runs).

    A period is due when ``end_utc + grace <= now_utc``. ``after`` is the last period
    already closed: only periods strictly after it are listed, so every missed period
    comes back, in order. With ``after=None`` (nothing closed yet, no history to catch
    up from) only the latest due period is listed; a caller that knows its first period
    ``p`` passes ``p.previous()``. ``grace`` must not be negative: closing before the
    end would shut a period still taking sales.
    """
    now = require_aware(now_utc)
    if grace < dt.timedelta(0):
        raise ValueError(f"grace must not be negative: {grace}")
    # The period containing ``now - grace`` ends after it, so it is not due yet; the one
    # before it ended at or before ``now - grace`` and is the newest one due.
    newest_due = period_of(now - grace).previous()
    if after is None:
        return [newest_due]
    if after >= newest_due:
        return []
    return periods_between(after.next(), newest_due)
