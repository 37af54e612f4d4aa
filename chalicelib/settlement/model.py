"""Settlement records: periods as closed, and payouts with their state.

Invariants:
- One payout per merchant and period, written once at close and never recomputed; afterwards only
  its ``status`` moves: ``scheduled`` -> ``exported`` (in a transfer file) -> ``paid`` | ``failed``;
  a failed payout is exported again later. A zero payout is ``carried`` (nothing to transfer).
- ``sales_points - cancel_points + carried_in = net = payout + carry_out`` with ``payout >= 0`` and
  ``carry_out <= 0``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

SCHEDULED, EXPORTED, PAID, FAILED, CARRIED = "scheduled", "exported", "paid", "failed", "carried"
STATUS_LABEL = {SCHEDULED: "振込予定", EXPORTED: "振込手続中", PAID: "振込済", FAILED: "振込不能", CARRIED: "繰越"}
OPEN, DUE, CLOSING, CLOSED = "open", "due", "closing", "closed"
AMOUNT_FIELDS = ("sales_count", "sales_points", "cancel_count", "cancel_points", "carried_in", "net", "payout",
                 "carry_out")


@dataclasses.dataclass(frozen=True)
class PeriodRecord:
    period_id: str
    state: str  # CLOSING | CLOSED
    closed_at: dt.datetime | None = None
    payouts_count: int = 0
    payouts_total: int = 0
    sales_points: int = 0
    cancel_points: int = 0


@dataclasses.dataclass(frozen=True)
class Payout:
    period_id: str
    merchant_id: str
    name_ja: str
    sales_count: int
    sales_points: int
    cancel_count: int
    cancel_points: int
    carried_in: int
    net: int
    payout: int
    carry_out: int
    transfer_date: dt.date
    processing_start_date: dt.date
    status: str
    created_at: dt.datetime
    exported_at: dt.datetime | None = None
    status_changed_at: dt.datetime | None = None
    batch_id: str | None = None  # the period whose transfer file carried it last

    def amounts(self) -> tuple[int, ...]:
        return tuple(getattr(self, f) for f in AMOUNT_FIELDS)

    @property
    def status_label(self) -> str:
        return STATUS_LABEL.get(self.status, self.status)


@dataclasses.dataclass(frozen=True)
class PeriodStatus:
    """A period as the operator sees it in the list."""

    period_id: str
    start: dt.datetime
    end: dt.datetime
    state: str
    closed_at: dt.datetime | None
    payouts_count: int
    payouts_total: int
    transfer_date: dt.date
    sales_points: int = 0  # so far, for a period still open
    cancel_points: int = 0


GENERATING, READY = "generating", "ready"


@dataclasses.dataclass(frozen=True)
class TransferBatch:
    """A period's bank transfer file. Its payouts are frozen when it is first generated; the file is
    written once and every later download returns the same bytes."""

    period_id: str
    state: str  # GENERATING | READY
    payouts: tuple[str, ...]  # "<period>#<merchant>" of each payout it pays
    file_key: str
    transfers: int
    total: int
    created_at: dt.datetime
    ready_at: dt.datetime | None = None


def payout_key(payout: Payout) -> str:
    return f"{payout.period_id}#{payout.merchant_id}"
