"""An in-memory :class:`~chalicelib.settlement.repository.SettlementRepository` for unit tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from chalicelib.core.errors import WriteRejected
from chalicelib.core.periods import Period
from chalicelib.settlement.model import (
    CLOSED,
    CLOSING,
    EXPORTED,
    FAILED,
    READY,
    SCHEDULED,
    Payout,
    PeriodRecord,
    TransferBatch,
)

Key = dict[str, Any]


class FakeSettlementRepository:
    def __init__(self) -> None:
        self.period_records: dict[str, PeriodRecord] = {}
        self.payout_records: dict[tuple[str, str], Payout] = {}
        self.cursor: str | None = None
        self.batches: dict[str, TransferBatch] = {}
        self.lock: tuple[str, dt.datetime] | None = None
        self.fail_add_after: int | None = None  # crash injection: raise after this many new payouts

    def period(self, period_id: str) -> PeriodRecord | None:
        return self.period_records.get(period_id)

    def periods(self, limit: int) -> list[PeriodRecord]:
        ordered = sorted(self.period_records.values(), key=lambda r: Period.parse(r.period_id), reverse=True)
        return ordered[:limit]

    def mark_closing(self, period_id: str, now: dt.datetime) -> None:
        current = self.period_records.get(period_id)
        if current is None or current.state != CLOSED:
            self.period_records[period_id] = PeriodRecord(period_id, CLOSING)

    def mark_closed(self, record: PeriodRecord, now: dt.datetime) -> None:
        current = self.period_records.get(record.period_id)
        closed_at = current.closed_at if current and current.closed_at else now
        self.period_records[record.period_id] = dataclasses.replace(record, state=CLOSED, closed_at=closed_at)

    def last_closed(self) -> str | None:
        return self.cursor

    def advance_last_closed(self, period_id: str, expected: str | None) -> None:
        if self.cursor != expected:
            raise WriteRejected({"cursor"})
        self.cursor = period_id

    def payouts(self, period_id: str) -> Iterator[Payout]:
        yield from sorted((p for (pid, _), p in self.payout_records.items() if pid == period_id),
                          key=lambda p: p.merchant_id)

    def payout(self, period_id: str, merchant_id: str) -> Payout | None:
        return self.payout_records.get((period_id, merchant_id))

    def add_payout(self, payout: Payout) -> Payout | None:
        key = (payout.period_id, payout.merchant_id)
        if key in self.payout_records:
            return self.payout_records[key]
        if self.fail_add_after is not None:
            if self.fail_add_after <= 0:
                raise RuntimeError("injected crash while writing payouts")
            self.fail_add_after -= 1
        self.payout_records[key] = payout
        return None

    def merchant_payouts(self, merchant_id: str, *, limit: int, after: Key | None) -> tuple[list[Payout], Key | None]:
        rows = sorted((p for p in self.payout_records.values() if p.merchant_id == merchant_id),
                      key=lambda p: Period.parse(p.period_id), reverse=True)
        start = 0
        if after is not None:
            start = next((i + 1 for i, p in enumerate(rows) if p.period_id == after["period_id"]), len(rows))
        chunk = rows[start:start + limit]
        return chunk, ({"period_id": chunk[-1].period_id} if chunk and start + limit < len(rows) else None)

    def failed_payouts(self) -> Iterator[Payout]:
        yield from (p for p in self.payout_records.values() if p.status == FAILED)

    def set_payout_status(self, period_id: str, merchant_id: str, status: str, now: dt.datetime) -> Payout:
        current = self.payout_records.get((period_id, merchant_id))
        failed = set()
        if current is None or current.status != EXPORTED:
            failed.add("status")
        if self.lock is not None and self.lock[1] > now:
            failed.add("lock")
        if failed:
            raise WriteRejected(failed)
        assert current is not None
        updated = dataclasses.replace(current, status=status, status_changed_at=now)
        self.payout_records[(period_id, merchant_id)] = updated
        return updated

    def export_payout(self, payout: Payout, batch_id: str, now: dt.datetime) -> None:
        key = (payout.period_id, payout.merchant_id)
        current = self.payout_records[key]
        if current.status in (SCHEDULED, FAILED) and current.batch_id != batch_id:
            self.payout_records[key] = dataclasses.replace(current, status=EXPORTED, exported_at=now, batch_id=batch_id)
        elif current.batch_id != batch_id:
            raise WriteRejected({"status"})

    def batch(self, period_id: str) -> TransferBatch | None:
        return self.batches.get(period_id)

    def add_batch(self, batch: TransferBatch) -> None:
        if batch.period_id in self.batches:
            raise WriteRejected({"batch"})
        self.batches[batch.period_id] = batch

    def batch_ready(self, period_id: str, now: dt.datetime) -> None:
        self.batches[period_id] = dataclasses.replace(self.batches[period_id], state=READY, ready_at=now)

    def lock_transfers(self, period_id: str, now: dt.datetime, lease: dt.timedelta) -> bool:
        if self.lock is not None and self.lock[1] > now:
            return False
        self.lock = (period_id, now + lease)
        return True

    def unlock_transfers(self, period_id: str) -> None:
        if self.lock is not None and self.lock[0] == period_id:
            self.lock = None
