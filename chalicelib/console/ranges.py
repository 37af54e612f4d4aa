"""The time range of the merchant console, in JST, to the minute.

``from=2026-11-01T09:00`` starts at 09:00:00.000 JST; ``to=2026-11-01T17:30`` includes its whole
minute, up to 17:30:59.999. Internally a range is half-open ``[start, end)`` in aware UTC, so
``end`` is the start of the minute after ``to``. A missing range is today in JST; a date alone
(``2026-11-01``) means that whole day. Inverted ranges and ranges over 366 days are refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from chalicelib.core.clock import JST, UTC, jst_date
from chalicelib.core.errors import InvalidRequest

MAX_DAYS = 366
# The product's dates: anything outside is a typo (and 0001 or 9999 would overflow once shifted to UTC).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
# ASCII digits only: ``\d`` would also accept other scripts' digits such as "٢".
_MINUTE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclasses.dataclass(frozen=True)
class Range:
    start: dt.datetime  # inclusive, aware UTC
    end: dt.datetime  # exclusive, aware UTC

    @property
    def from_label(self) -> str:
        return self.start.astimezone(JST).strftime("%Y-%m-%dT%H:%M")

    @property
    def to_label(self) -> str:
        return (self.end - dt.timedelta(minutes=1)).astimezone(JST).strftime("%Y-%m-%dT%H:%M")


def _parse(value: str, param: str, *, is_end: bool) -> dt.datetime:
    bad = InvalidRequest(f"{param} は 2026-11-01T09:00 の形(日本時間、分まで)で指定してください。", param=param)
    try:
        if _MINUTE.fullmatch(value):
            moment = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=JST)
        elif _DAY.fullmatch(value):
            moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(0, 0), tzinfo=JST)
        else:
            raise bad
    except ValueError:
        raise bad from None
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        window = f"{FIRST_DAY.year}年から{LAST_DAY.year}年まで"
        raise InvalidRequest(f"{param} は {window}の日付にしてください。", param=param)
    if is_end:
        return moment + (dt.timedelta(minutes=1) if _MINUTE.fullmatch(value) else dt.timedelta(days=1))
    return moment


def parse_range(raw_from: str | None, raw_to: str | None, now: dt.datetime) -> Range:
    today = jst_date(now)
    start_of_today = dt.datetime.combine(today, dt.time(0, 0), tzinfo=JST)
    start = _parse(raw_from, "from", is_end=False) if raw_from else None
    end = _parse(raw_to, "to", is_end=True) if raw_to else None
    if start is None and end is None:
        start, end = start_of_today, start_of_today + dt.timedelta(days=1)
    elif start is None:
        assert end is not None
        start = dt.datetime.combine((end - dt.timedelta(minutes=1)).astimezone(JST).date(), dt.time(0, 0), tzinfo=JST)
    elif end is None:
        end = dt.datetime.combine(start.astimezone(JST).date() + dt.timedelta(days=1), dt.time(0, 0), tzinfo=JST)
    if end <= start:
        raise InvalidRequest("to は from より後にしてください。", param="to")
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise InvalidRequest(f"期間は{MAX_DAYS}日以内にしてください。", param="to")
    return Range(start.astimezone(UTC), end.astimezone(UTC))
