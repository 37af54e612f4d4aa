"""Where periods, payouts, transfer batches and the close cursor are kept (the port)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Protocol

from chalicelib.settlement.model import Payout, PeriodRecord, TransferBatch

Key = dict[str, Any]


class SettlementRepository(Protocol):
    def period(self, period_id: str) -> PeriodRecord | None: ...

    def periods(self, limit: int) -> list[PeriodRecord]:
        """Stored periods, newest first."""

    def mark_closing(self, period_id: str, now: dt.datetime) -> None:
        """Record that a close started (never moves a closed period back)."""

    def mark_closed(self, record: PeriodRecord, now: dt.datetime) -> None: ...

    def last_closed(self) -> str | None: ...

    def advance_last_closed(self, period_id: str, expected: str | None) -> None:
        """Move the cursor to ``period_id`` if it still is ``expected``; ``WriteRejected`` otherwise."""

    def payouts(self, period_id: str) -> Iterator[Payout]: ...

    def payout(self, period_id: str, merchant_id: str) -> Payout | None: ...

    def add_payout(self, payout: Payout) -> Payout | None:
        """Store the payout unless one exists for its merchant and period; returns the existing one."""

    def merchant_payouts(self, merchant_id: str, *, limit: int, after: Key | None) -> tuple[list[Payout], Key | None]:
        """Newest period first."""

    def failed_payouts(self) -> Iterator[Payout]: ...

    def set_payout_status(self, period_id: str, merchant_id: str, status: str, now: dt.datetime) -> Payout:
        """``exported`` -> ``paid`` | ``failed``, in one write that also checks no transfer file is being
        generated: ``WriteRejected({"status"})`` from any other state, ``({"lock"})`` while one is."""

    def export_payout(self, payout: Payout, batch_id: str, now: dt.datetime) -> None:
        """``scheduled`` | ``failed`` -> ``exported`` in the batch (out of the failed index); a payout
        already carried by this same batch is left as it is, whatever was marked since (a generation
        that resumes)."""

    # -- transfer batches -------------------------------------------------------------------------
    def batch(self, period_id: str) -> TransferBatch | None: ...

    def add_batch(self, batch: TransferBatch) -> None:
        """Freeze a batch's payouts; ``WriteRejected({"batch"})`` if the period has one."""

    def batch_ready(self, period_id: str, now: dt.datetime) -> None: ...

    def lock_transfers(self, period_id: str, now: dt.datetime, lease: dt.timedelta) -> bool:
        """Take the transfer lock unless another generation holds it (its lease not yet over)."""

    def unlock_transfers(self, period_id: str) -> None: ...
