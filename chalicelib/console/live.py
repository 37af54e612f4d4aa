"""The live feed: a merchant's new payments and cancellations since the client's last poll.

A poll is one read of the merchant's event index (``merchant_events_since``) from a watermark.
With nothing new it is one query that returns nothing, whatever the day's volume.

Invariants:
- Every event is delivered once per client, oldest first, at most ``limit`` per poll, however
  the client's polls and the commits interleave.
- An event is stamped before its transaction commits (and the index follows the table a moment
  later), so an event can become visible after a newer one was delivered. The watermark therefore
  trails the clock by :data:`SETTLE`, longer than the API function's timeout (the latest a stamped
  payment can still commit) plus the index's lag; the events delivered at or after the watermark are
  remembered in the position (``seen``) so that re-reading that short window delivers nothing twice.
  A quiet till re-reads nothing; a busy one re-reads only the last ``SETTLE`` seconds of its events.
- Without a position the feed starts at the beginning of the current JST day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from chalicelib.core.clock import JST, Clock, jst_date
from chalicelib.payments.model import LedgerEvent
from chalicelib.payments.repository import PaymentRepository

SETTLE = dt.timedelta(seconds=35)  # > the API function's 30 s timeout + the index's lag
MAX_SEEN = 40  # keeps the signed position short enough for a query string
LIMIT = 50


@dataclasses.dataclass(frozen=True)
class Seen:
    at: dt.datetime
    payment_id: str
    kind: str  # "sale" | "cancel"


@dataclasses.dataclass(frozen=True)
class Position:
    """Where a client is: events before ``watermark`` are all delivered, and so are ``seen``."""

    watermark: dt.datetime
    seen: tuple[Seen, ...] = ()


@dataclasses.dataclass(frozen=True)
class LivePage:
    events: list[LedgerEvent]
    position: Position


def start_of_day(now: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(jst_date(now), dt.time(0, 0), tzinfo=JST)


class LiveFeed:
    def __init__(self, payments: PaymentRepository, clock: Clock, settle: dt.timedelta = SETTLE) -> None:
        self.payments = payments
        self.clock = clock
        self.settle = settle

    def poll(self, merchant_id: str, position: Position | None, *, store_id: str | None = None,
             limit: int = LIMIT) -> LivePage:
        now = self.clock.now()
        if position is None:
            position = Position(watermark=start_of_day(now))
        known = {(s.payment_id, s.kind) for s in position.seen}
        # Reading len(seen) more than the limit: the seen ones can crowd out no new event.
        read = self.payments.merchant_events_since(merchant_id, position.watermark, limit=limit + len(known))
        more = len(read) == limit + len(known)
        fresh = [e for e in read if (e.payment_id, e.kind) not in known][:limit]
        watermark = max(position.watermark, now - self.settle)
        if more and fresh:  # events after the last one returned wait for the next poll
            watermark = max(position.watermark, min(watermark, fresh[-1].at))
        seen = [s for s in position.seen if s.at >= watermark]
        seen += [Seen(e.at, e.payment_id, e.kind) for e in fresh if e.at >= watermark]
        if len(seen) > MAX_SEEN:  # a burst: narrow the window rather than grow the position
            seen = sorted(seen, key=lambda s: s.at)[-MAX_SEEN:]
            watermark = seen[0].at
        visible = [e for e in fresh if store_id is None or e.store_id == store_id]
        return LivePage(visible, Position(watermark, tuple(seen)))
