"""Points are integers: 1 point = 1 yen. Nothing here ever produces a float or a Decimal."""

from __future__ import annotations

from typing import Any


def is_points(value: Any) -> bool:
    """True only for a real int (``bool`` is an int in Python, but never an amount)."""
    return isinstance(value, int) and not isinstance(value, bool)


def sum_points(values: Any) -> int:
    total = 0
    for value in values:
        if not is_points(value):
            raise TypeError(f"points must be int, got {type(value).__name__}")
        total += value
    return total
