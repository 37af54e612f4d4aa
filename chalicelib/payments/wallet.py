"""The consumer's wallet: lots of points with an expiry, spent soonest-expiring first.

Invariants (all amounts are ``int`` points):
- A lot is spendable while ``now <= expires_at`` (expiry is the last millisecond of a JST day).
- ``balance(now)`` is the sum of spendable lots; lots past their expiry count as expired.
- A debit takes from the soonest-expiring spendable lots, removes emptied lots, and sweeps every
  expired lot into ``expired_points``; it never leaves a negative lot and never creates points:
  ``sum(lots) + expired_points`` before == after + amount.
- A refund (cancellation) returns each source share to the lot it came from; a share whose lot has
  expired since goes to ``expired_points`` instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from chalicelib.core.clock import jst_date, parse_utc_key, utc_key
from chalicelib.core.errors import InsufficientPoints


class Lot(msgspec.Struct, frozen=True):
    lot_id: str
    expires_at: dt.datetime
    points: int

    def spendable(self, now: dt.datetime) -> bool:
        return now <= self.expires_at

    def to_item(self) -> dict[str, Any]:
        return {"id": self.lot_id, "exp": utc_key(self.expires_at), "pts": self.points}

    @classmethod
    def from_item(cls, raw: Mapping[str, Any]) -> Lot:
        return cls(lot_id=str(raw["id"]), expires_at=parse_utc_key(str(raw["exp"])), points=int(raw["pts"]))


class Share(msgspec.Struct, frozen=True):
    """The part of a payment that came from one lot (recorded on the payment for refunds)."""

    lot_id: str
    expires_at: dt.datetime
    points: int

    def to_item(self) -> dict[str, Any]:
        return {"id": self.lot_id, "exp": utc_key(self.expires_at), "pts": self.points}

    @classmethod
    def from_item(cls, raw: Mapping[str, Any]) -> Share:
        return cls(lot_id=str(raw["id"]), expires_at=parse_utc_key(str(raw["exp"])), points=int(raw["pts"]))


class Wallet(msgspec.Struct, frozen=True):
    consumer_id: str
    version: int
    lots: tuple[Lot, ...]
    expired_points: int = 0

    @classmethod
    def empty(cls, consumer_id: str) -> Wallet:
        return cls(consumer_id=consumer_id, version=0, lots=())

    def balance(self, now: dt.datetime) -> int:
        return sum(lot.points for lot in self.lots if lot.spendable(now))

    def expired(self, now: dt.datetime) -> int:
        """Swept expired points plus lots that expired but have not been swept yet."""
        return self.expired_points + sum(lot.points for lot in self.lots if not lot.spendable(now))

    def breakdown(self, now: dt.datetime) -> list[tuple[dt.date, int]]:
        by_day: dict[dt.date, int] = {}
        for lot in self.lots:
            if lot.spendable(now) and lot.points > 0:
                day = jst_date(lot.expires_at)
                by_day[day] = by_day.get(day, 0) + lot.points
        return sorted(by_day.items())

    def total_held(self) -> int:
        return sum(lot.points for lot in self.lots) + self.expired_points


class Debit(msgspec.Struct, frozen=True):
    lots: tuple[Lot, ...]
    shares: tuple[Share, ...]
    swept_points: int
    balance_after: int


def _order(lots: Iterable[Lot]) -> list[Lot]:
    return sorted(lots, key=lambda lot: (lot.expires_at, lot.lot_id))


def plan_debit(wallet: Wallet, amount: int, now: dt.datetime) -> Debit:
    if amount <= 0:
        raise ValueError("amount must be positive")
    available = wallet.balance(now)
    if available < amount:
        raise InsufficientPoints(balance=available, amount=amount)
    remaining = amount
    kept: list[Lot] = []
    shares: list[Share] = []
    swept = 0
    for lot in _order(wallet.lots):
        if not lot.spendable(now):
            swept += lot.points
            continue
        take = min(lot.points, remaining)
        if take:
            shares.append(Share(lot.lot_id, lot.expires_at, take))
            remaining -= take
        if lot.points - take > 0:
            kept.append(msgspec.structs.replace(lot, points=lot.points - take))
    assert remaining == 0
    return Debit(lots=tuple(kept), shares=tuple(shares), swept_points=swept, balance_after=available - amount)


class Refund(msgspec.Struct, frozen=True):
    lots: tuple[Lot, ...]
    to_expired: int
    balance_after: int


def plan_refund(wallet: Wallet, shares: Sequence[Share], now: dt.datetime) -> Refund:
    by_id = {lot.lot_id: lot for lot in wallet.lots}
    to_expired = 0
    for share in shares:
        if now > share.expires_at:
            to_expired += share.points
            continue
        current = by_id.get(share.lot_id)
        if current is None:
            by_id[share.lot_id] = Lot(share.lot_id, share.expires_at, share.points)
        else:
            by_id[share.lot_id] = msgspec.structs.replace(current, points=current.points + share.points)
    lots = tuple(_order(by_id.values()))
    refunded = sum(s.points for s in shares) - to_expired
    return Refund(lots=lots, to_expired=to_expired, balance_after=wallet.balance(now) + refunded)
