"""PynamoDB attributes that keep the store's two promises: numbers are ``int``, instants are aware.

- :class:`IntegerAttribute` writes only a real ``int`` (never ``bool``, float or Decimal) and refuses
  to read a stored number with a fraction or an exponent: such a value is a corrupted record, and
  rounding it would create or destroy points.
- :class:`InstantAttribute` stores an aware datetime as a fixed-width UTC stamp with milliseconds
  (``2026-11-20T03:00:00.000Z``), the same text used inside sort keys, so stamps sort as instants.
  A naive datetime is refused on write (PynamoDB's own ``UTCDateTimeAttribute`` would silently
  take it as UTC).
- :class:`DateAttribute` stores a calendar date as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER, STRING

from chalicelib.core.clock import parse_utc_key, utc_key


class IntegerAttribute(Attribute[int]):
    attr_type = NUMBER

    def serialize(self, value: Any) -> str:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{self.attr_name}: cannot store {type(value).__name__} as a number (points are int)")
        return str(value)

    def deserialize(self, value: str) -> int:
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        if not digits.isascii() or not digits.isdigit():
            raise ValueError(f"{self.attr_name}: non-integer number in store: {value!r}")
        return int(text)


class InstantAttribute(Attribute[dt.datetime]):
    attr_type = STRING

    def serialize(self, value: Any) -> str:
        if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{self.attr_name}: naive or non-datetime value refused: {value!r}")
        return utc_key(value)

    def deserialize(self, value: str) -> dt.datetime:
        return parse_utc_key(value)


class DateAttribute(Attribute[dt.date]):
    attr_type = STRING

    def serialize(self, value: Any) -> str:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise TypeError(f"{self.attr_name}: expected a date, got {type(value).__name__}")
        return value.isoformat()

    def deserialize(self, value: str) -> dt.date:
        return dt.date.fromisoformat(value)
