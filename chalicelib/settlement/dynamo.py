"""The DynamoDB implementation of :mod:`chalicelib.settlement.repository`: the only code that knows how
these records are stored (``store.models``), and where storage failures become domain outcomes."""


from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from chalicelib.core.errors import WriteRejected
from chalicelib.settlement.model import EXPORTED, FAILED, READY, SCHEDULED, Payout, PeriodRecord, TransferBatch
from chalicelib.settlement.repository import Key
from chalicelib.store import connection as db
from chalicelib.store.models import (
    CURSOR_PK,
    CURSOR_SK,
    FAILED_PAYOUTS_PK,
    PERIODS_INDEX_PK,
    TRANSFER_LOCK_PK,
    TRANSFER_LOCK_SK,
    CursorItem,
    PayoutItem,
    PeriodItem,
    TransferBatchItem,
    TransferLockItem,
    batch_pk,
    merchant_payouts_pk,
    payout_sk,
    payouts_pk,
    period_pk,
)


def payout_from_item(item: PayoutItem) -> Payout:
    return Payout(
        period_id=item.period_id, merchant_id=item.merchant_id, name_ja=item.name_ja or "",
        sales_count=item.sales_count, sales_points=item.sales_points, cancel_count=item.cancel_count,
        cancel_points=item.cancel_points, carried_in=item.carried_in, net=item.net, payout=item.payout,
        carry_out=item.carry_out, transfer_date=item.transfer_date, processing_start_date=item.processing_start_date,
        status=item.status, created_at=item.created_at, exported_at=item.exported_at,
        status_changed_at=item.status_changed_at, batch_id=item.batch_id,
    )


def payout_item(p: Payout) -> PayoutItem:
    return PayoutItem(
        payouts_pk(p.period_id), payout_sk(p.merchant_id), period_id=p.period_id, merchant_id=p.merchant_id,
        name_ja=p.name_ja, sales_count=p.sales_count, sales_points=p.sales_points, cancel_count=p.cancel_count,
        cancel_points=p.cancel_points, carried_in=p.carried_in, net=p.net, payout=p.payout, carry_out=p.carry_out,
        transfer_date=p.transfer_date, processing_start_date=p.processing_start_date, status=p.status,
        created_at=p.created_at, gsi1pk=merchant_payouts_pk(p.merchant_id), gsi1sk=p.period_id,
    )


def _period_from_item(item: PeriodItem) -> PeriodRecord:
    return PeriodRecord(period_id=item.period_id, state=item.state, closed_at=item.closed_at,
                        payouts_count=item.payouts_count or 0, payouts_total=item.payouts_total or 0,
                        sales_points=item.sales_points or 0, cancel_points=item.cancel_points or 0)


class DynamoSettlementRepository:
    def period(self, period_id: str) -> PeriodRecord | None:
        try:
            return _period_from_item(PeriodItem.get(period_pk(period_id), "PERIOD", consistent_read=True))
        except PeriodItem.DoesNotExist:
            return None

    def periods(self, limit: int) -> list[PeriodRecord]:
        items, _ = db.page(PeriodItem.query(PERIODS_INDEX_PK, index_name="gsi1", scan_index_forward=False,
                                            limit=limit, page_size=limit), limit)
        return [_period_from_item(i) for i in items]

    def _base(self, period_id: str, state: str, now: dt.datetime) -> tuple[PeriodItem, list[Any]]:
        item = PeriodItem(period_pk(period_id), "PERIOD")
        return item, [PeriodItem.state.set(state), PeriodItem.period_id.set(period_id),
                      PeriodItem.gsi1pk.set(PERIODS_INDEX_PK), PeriodItem.gsi1sk.set(period_id),
                      PeriodItem.updated_at.set(now)]

    def mark_closing(self, period_id: str, now: dt.datetime) -> None:
        item, actions = self._base(period_id, "closing", now)
        # never move a closed period back to closing; a concurrent close finishing first is fine
        with contextlib.suppress(db.ConditionFailed):
            db.update(item, actions, condition=PeriodItem.state.does_not_exist() | (PeriodItem.state != "closed"))

    def mark_closed(self, record: PeriodRecord, now: dt.datetime) -> None:
        item, actions = self._base(record.period_id, "closed", now)
        actions += [PeriodItem.closed_at.set(PeriodItem.closed_at | now),
                    PeriodItem.payouts_count.set(record.payouts_count),
                    PeriodItem.payouts_total.set(record.payouts_total),
                    PeriodItem.sales_points.set(record.sales_points),
                    PeriodItem.cancel_points.set(record.cancel_points)]
        db.update(item, actions)

    def last_closed(self) -> str | None:
        try:
            return CursorItem.get(CURSOR_PK, CURSOR_SK, consistent_read=True).last_closed
        except CursorItem.DoesNotExist:
            return None

    def advance_last_closed(self, period_id: str, expected: str | None) -> None:
        item = CursorItem(CURSOR_PK, CURSOR_SK)
        condition = CursorItem.last_closed.does_not_exist() if expected is None else \
            CursorItem.last_closed == expected
        try:
            db.update(item, [CursorItem.last_closed.set(period_id)], condition=condition)
        except db.ConditionFailed:
            raise WriteRejected({"cursor"}) from None

    def payouts(self, period_id: str) -> Iterator[Payout]:
        for item in PayoutItem.query(payouts_pk(period_id), consistent_read=True):
            yield payout_from_item(item)

    def payout(self, period_id: str, merchant_id: str) -> Payout | None:
        try:
            return payout_from_item(PayoutItem.get(payouts_pk(period_id), payout_sk(merchant_id),
                                                   consistent_read=True))
        except PayoutItem.DoesNotExist:
            return None

    def add_payout(self, payout: Payout) -> Payout | None:
        try:
            db.save(payout_item(payout), condition=PayoutItem.pk.does_not_exist())
        except db.ConditionFailed:
            return self.payout(payout.period_id, payout.merchant_id)
        return None

    def merchant_payouts(self, merchant_id: str, *, limit: int, after: Key | None) -> tuple[list[Payout], Key | None]:
        items, last = db.page(PayoutItem.query(merchant_payouts_pk(merchant_id), index_name="gsi1",
                                               scan_index_forward=False, limit=limit, page_size=limit + 1,
                                               last_evaluated_key=after), limit)
        return [payout_from_item(i) for i in items], last

    def failed_payouts(self) -> Iterator[Payout]:
        for item in PayoutItem.query(FAILED_PAYOUTS_PK, index_name="gsi2"):
            payout = payout_from_item(item)
            if payout.status == FAILED:
                yield payout

    def set_payout_status(self, period_id: str, merchant_id: str, status: str, now: dt.datetime) -> Payout:
        item = PayoutItem(payouts_pk(period_id), payout_sk(merchant_id))
        actions: list[Any] = [PayoutItem.status.set(status), PayoutItem.status_changed_at.set(now)]
        if status == FAILED:  # into the index of payouts to send again
            actions += [PayoutItem.gsi2pk.set(FAILED_PAYOUTS_PK), PayoutItem.gsi2sk.set(f"{period_id}#{merchant_id}")]
        tx = db.Transaction()
        tx.update("status", item, actions, condition=PayoutItem.status == EXPORTED)
        # A mark while a transfer file is being generated would race its choice of payouts.
        tx.check("lock", TransferLockItem, TRANSFER_LOCK_PK, TRANSFER_LOCK_SK,
                 condition=TransferLockItem.until.does_not_exist() | (TransferLockItem.until < now))
        try:
            tx.commit()
        except db.TransactionCancelled as exc:
            raise WriteRejected(exc.conditions) from None
        payout = self.payout(period_id, merchant_id)
        assert payout is not None
        return payout

    def export_payout(self, payout: Payout, batch_id: str, now: dt.datetime) -> None:
        item = PayoutItem(payouts_pk(payout.period_id), payout_sk(payout.merchant_id))
        try:
            db.update(item, [PayoutItem.status.set(EXPORTED), PayoutItem.exported_at.set(now),
                             PayoutItem.batch_id.set(batch_id), PayoutItem.gsi2pk.remove(), PayoutItem.gsi2sk.remove()],
                      condition=PayoutItem.status.is_in(SCHEDULED, FAILED))
        except db.ConditionFailed:
            current = self.payout(payout.period_id, payout.merchant_id)
            if current is None or current.batch_id != batch_id:
                raise WriteRejected({"status"}) from None
            # already in this batch (and maybe marked paid or failed since): a resumed run leaves it

    # -- transfer batches -------------------------------------------------------------------------
    def batch(self, period_id: str) -> TransferBatch | None:
        try:
            item = TransferBatchItem.get(batch_pk(period_id), "BATCH", consistent_read=True)
        except TransferBatchItem.DoesNotExist:
            return None
        keys = tuple(str(k) for k in item.payouts or ())
        return TransferBatch(period_id=item.period_id, state=item.state, payouts=keys,
                             file_key=item.file_key, transfers=item.transfers or 0, total=item.total or 0,
                             created_at=item.created_at, ready_at=item.ready_at)

    def add_batch(self, batch: TransferBatch) -> None:
        try:
            db.save(TransferBatchItem(batch_pk(batch.period_id), "BATCH", period_id=batch.period_id, state=batch.state,
                                      payouts=list(batch.payouts), file_key=batch.file_key, transfers=batch.transfers,
                                      total=batch.total, created_at=batch.created_at),
                    condition=TransferBatchItem.pk.does_not_exist())
        except db.ConditionFailed:
            raise WriteRejected({"batch"}) from None

    def batch_ready(self, period_id: str, now: dt.datetime) -> None:
        db.update(TransferBatchItem(batch_pk(period_id), "BATCH"),
                  [TransferBatchItem.state.set(READY), TransferBatchItem.ready_at.set(now)])

    def lock_transfers(self, period_id: str, now: dt.datetime, lease: dt.timedelta) -> bool:
        try:
            db.save(TransferLockItem(TRANSFER_LOCK_PK, TRANSFER_LOCK_SK, period_id=period_id, until=now + lease),
                    condition=TransferLockItem.pk.does_not_exist() | (TransferLockItem.until < now))
        except db.ConditionFailed:
            return False
        return True

    def unlock_transfers(self, period_id: str) -> None:
        with contextlib.suppress(db.ConditionFailed):  # someone else's lock (ours expired): leave it
            db.delete(TransferLockItem(TRANSFER_LOCK_PK, TRANSFER_LOCK_SK),
                      condition=TransferLockItem.period_id == period_id)
