"""Time: every stored instant is an aware UTC datetime with millisecond precision.

Business rules (periods, payout dates, expiry) are computed in Asia/Tokyo; everything a person
sees is rendered in JST with ``+09:00``. Japan has no daylight saving time, so a fixed offset is
exact and needs no tz database on Lambda. Domain code asks a :class:`Clock`, never the system.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

UTC = dt.UTC
JST = dt.timezone(dt.timedelta(hours=9), "JST")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, aware, UTC, truncated to milliseconds."""
        ...


def truncate_ms(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def require_aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime rejected: every instant must carry its zone")
    return moment


class SystemClock:
    def now(self) -> dt.datetime:
        return truncate_ms(dt.datetime.now(UTC))


class FixedClock:
    """A clock for tests and replays; moves only when told to."""

    def __init__(self, moment: dt.datetime) -> None:
        self._now = truncate_ms(require_aware(moment).astimezone(UTC))

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        self._now = truncate_ms(require_aware(moment).astimezone(UTC))

    def advance(self, **delta: float) -> dt.datetime:
        self._now = self._now + dt.timedelta(**delta)
        return self._now


def to_utc(moment: dt.datetime) -> dt.datetime:
    return require_aware(moment).astimezone(UTC)


def to_jst(moment: dt.datetime) -> dt.datetime:
    return require_aware(moment).astimezone(JST)


def jst_iso(moment: dt.datetime) -> str:
    """ISO-8601 in JST with milliseconds and ``+09:00``, as people and clients see it."""
    return to_jst(moment).isoformat(timespec="milliseconds")


def csv_time(moment: dt.datetime) -> str:
    """``2026/11/30 04:36:10`` in JST: the form spreadsheets read as a date and time (SPEC §2)."""
    return to_jst(moment).strftime("%Y/%m/%d %H:%M:%S")


def utc_key(moment: dt.datetime) -> str:
    """A fixed-width, lexicographically sortable UTC stamp used inside sort keys."""
    return to_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{to_utc(moment).microsecond // 1000:03d}Z"


def parse_utc_key(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def end_of_jst_day(day: dt.date) -> dt.datetime:
    """The last millisecond of a JST calendar day, as aware UTC (e.g. expiry of a lot)."""
    start_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=JST)
    return (start_next - dt.timedelta(milliseconds=1)).astimezone(UTC)


def jst_date(moment: dt.datetime) -> dt.date:
    return to_jst(moment).date()
