"""Waiting before retrying an optimistic write that lost a race."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, cap: float = 0.2) -> float:
    """Jittered exponential wait: up to 2 ms × 2^attempt, at most ``cap`` seconds."""
    return float(min(cap, 0.002 * 2.0 ** min(attempt, 6)) * random.random())
