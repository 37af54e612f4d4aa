"""Payouts after the close: the operator's marks, the merchant's 振込履歴, and their files
(the period report, a payout's detail and the Zengin 総合振込 file) as links that expire.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterator

from chalicelib.core.clock import Clock, csv_time
from chalicelib.core.errors import Conflict, NotFound, WriteRejected
from chalicelib.core.periods import Period
from chalicelib.merchants.repository import MerchantRepository
from chalicelib.payments.repository import PaymentRepository
from chalicelib.settlement import business_days
from chalicelib.settlement.calculation import MerchantTotals, aggregate_into
from chalicelib.settlement.closing import parse_period
from chalicelib.settlement.model import (
    AMOUNT_FIELDS,
    CLOSED,
    GENERATING,
    READY,
    SCHEDULED,
    Payout,
    TransferBatch,
    payout_key,
)
from chalicelib.settlement.repository import Key, SettlementRepository
from chalicelib.settlement.zengin import ZenginOriginator, ZenginTransfer, write_zengin
from chalicelib.store.files import Files, neutralise

BUSY = "ほかの振込ファイルを作成中です。少し待ってからもう一度お試しください。"
TRANSFER_LEASE = dt.timedelta(minutes=2)  # longer than the API's timeout: a live generation keeps it
REPORT_HEADER = ["期間", "店舗ID", "店舗名", "売上件数", "売上ポイント", "取消件数", "取消ポイント", "前期繰越",
                 "差引", "振込額", "次期繰越", "振込予定日", "状態"]
DETAIL_HEADER = ["種別", "日時", "決済ID", "店舗ID", "店舗名", "ポイント"]
STORE_SUBTOTAL, DETAIL_TOTAL = "店舗小計", "合計"


@dataclasses.dataclass(frozen=True)
class FileLink:
    url: str
    expires_at: dt.datetime
    rows: int
    filename: str
    total: int = 0


class PayoutService:
    def __init__(self, repo: SettlementRepository, payments: PaymentRepository, merchants: MerchantRepository,
                 files: Files, clock: Clock, *, direction: business_days.Direction, url_ttl_seconds: int,
                 originator: ZenginOriginator) -> None:
        self.repo = repo
        self.payments = payments
        self.merchants = merchants
        self.files = files
        self.clock = clock
        self.direction: business_days.Direction = direction
        self.url_ttl_seconds = url_ttl_seconds
        self.originator = originator

    # -- reads --------------------------------------------------------------------------------
    def payouts(self, period_id: str) -> list[Payout]:
        return list(self.repo.payouts(parse_period(period_id).id))

    def payout(self, period_id: str, merchant_id: str) -> Payout:
        payout = self.repo.payout(parse_period(period_id).id, merchant_id)
        if payout is None:
            raise NotFound("振込が見つかりません。", param="merchant_id")
        return payout

    def merchant_payouts(self, merchant_id: str, *, limit: int, after: Key | None) -> tuple[list[Payout], Key | None]:
        return self.repo.merchant_payouts(merchant_id, limit=limit, after=after)

    # -- payout states ------------------------------------------------------------------------
    def mark(self, period_id: str, merchant_id: str, status: str) -> Payout:
        """The operator confirms the bank's answer: ``exported`` -> ``paid`` or ``failed``."""
        self.payout(period_id, merchant_id)
        try:
            return self.repo.set_payout_status(parse_period(period_id).id, merchant_id, status, self.clock.now())
        except WriteRejected as exc:
            if "lock" in exc.reasons:
                raise Conflict("振込ファイルを作成中です。作成が終わってからもう一度お試しください。",
                               param="status") from None
            raise Conflict("振込ファイルに出力済み(exported)の振込だけを更新できます。", param="status") from None

    # -- files --------------------------------------------------------------------------------
    def _link(self, key: str, filename: str, rows: int, content_type: str = "text/csv; charset=utf-8",
              total: int = 0) -> FileLink:
        return FileLink(url=self.files.link(key, filename, self.url_ttl_seconds, content_type),
                        expires_at=self.clock.now() + dt.timedelta(seconds=self.url_ttl_seconds), rows=rows,
                        filename=filename, total=total)

    def report(self, period_id: str) -> FileLink:
        period = parse_period(period_id)
        rows = ([period.id, p.merchant_id, neutralise(p.name_ja), *(str(getattr(p, f)) for f in AMOUNT_FIELDS),
                 p.transfer_date.strftime("%Y/%m/%d"), p.status_label] for p in self.repo.payouts(period.id))
        filename = f"精算報告_{period.id}.csv"
        key = f"reports/{period.id}/{secrets.token_urlsafe(18)}/{filename}"
        return self._link(key, filename, self.files.write_csv(key, REPORT_HEADER, rows))

    def _store_names(self, merchant_id: str) -> dict[str, str]:
        merchant = self.merchants.get(merchant_id)
        names = {merchant_id: merchant.name_ja} if merchant is not None else {}
        names.update({s.store_id: s.name_ja for s in self.merchants.stores(merchant_id)})
        return names

    def detail(self, period_id: str, merchant_id: str) -> FileLink:
        """A payout's events (sales and cancellations stamped in its period), each with its shop, then one
        subtotal row per shop (its sales minus cancellations), their total, the balance carried in and
        out, and the payout: total + carried in - carried out = payout. Streamed: memory holds one page
        of events and one running total per shop."""
        period = parse_period(period_id)
        payout = self.payout(period.id, merchant_id)
        names = self._store_names(merchant_id)

        def rows() -> Iterator[list[str]]:
            by_store: dict[str, MerchantTotals] = {}
            after = None
            while True:
                events, after = self.payments.merchant_events(merchant_id, period.start_utc, period.end_utc,
                                                              after=after, limit=500)
                for e in events:
                    sale = e.kind == "sale"
                    store = e.store_id or merchant_id
                    aggregate_into(by_store.setdefault(store, MerchantTotals()), e)
                    yield ["売上" if sale else "取消", csv_time(e.at), e.payment_id, store,
                           neutralise(names.get(store, store)), str(e.amount if sale else -e.amount)]
                if after is None:
                    break
            # the default shop first, then the others in id order
            for store in sorted(by_store, key=lambda s: (s != merchant_id, s)):
                t = by_store[store]
                yield [STORE_SUBTOTAL, "", "", store, neutralise(names.get(store, store)),
                       str(t.sales_points - t.cancel_points)]
            net = sum(t.sales_points - t.cancel_points for t in by_store.values())
            yield [DETAIL_TOTAL, "", "", "", "", str(net)]
            yield ["前期繰越", "", "", "", "", str(payout.carried_in)]
            yield ["次期繰越", "", "", "", "", str(payout.carry_out)]
            yield ["振込額", "", "", "", "", str(payout.payout)]

        filename = f"振込明細_{period.id}_{merchant_id}.csv"
        key = f"reports/{period.id}/{merchant_id}/{secrets.token_urlsafe(18)}/{filename}"
        return self._link(key, filename, self.files.write_csv(key, DETAIL_HEADER, rows()))

    def zengin(self, period_id: str) -> FileLink:
        """The period's 総合振込 file: generated once, then the same bytes on every download.

        Generated under the transfer lock (payout marks answer 409 meanwhile): the payouts it pays
        are frozen first (this period's scheduled payouts and every earlier failed one not yet sent
        again), the file is written once, then each payout is marked exported in this batch. A
        generation that stopped half way is finished by the next request with the same frozen list.
        """
        period = parse_period(period_id)
        record = self.repo.period(period.id)
        if not record or record.state != CLOSED:
            raise Conflict("締めの済んでいない期間です。", param="period_id")
        batch = self.repo.batch(period.id)
        if batch is not None and batch.state == READY:
            return self._batch_link(batch)
        now = self.clock.now()
        if not self.repo.lock_transfers(period.id, now, TRANSFER_LEASE):
            raise Conflict(BUSY, param="period_id")
        try:
            batch = self.repo.batch(period.id) or self._freeze(period, now)
            payouts = [self._payout_of(key) for key in batch.payouts]
            if self.files.get(batch.file_key) is None:  # written once: a resumed run keeps the first bytes
                self.files.put(batch.file_key, self._file(period, payouts), "text/plain; charset=shift_jis")
            for payout in payouts:
                self.repo.export_payout(payout, period.id, now)
            self.repo.batch_ready(period.id, now)
        finally:
            self.repo.unlock_transfers(period.id)
        return self._batch_link(batch)

    def _freeze(self, period: Period, now: dt.datetime) -> TransferBatch:
        chosen = [p for p in self.repo.payouts(period.id) if p.status == SCHEDULED and p.payout > 0]
        chosen += [p for p in self.repo.failed_payouts() if (p.period_id, p.merchant_id) not in
                   {(c.period_id, c.merchant_id) for c in chosen}]
        if not chosen:
            raise Conflict("振込対象がありません。", param="period_id")
        batch = TransferBatch(period_id=period.id, state=GENERATING, payouts=tuple(payout_key(p) for p in chosen),
                              file_key=f"transfers/{period.id}/zengin_{period.id}.txt", transfers=len(chosen),
                              total=sum(p.payout for p in chosen), created_at=now)
        try:
            self.repo.add_batch(batch)
        except WriteRejected:  # cannot happen under the lock; answer as a busy moment rather than fail
            raise Conflict(BUSY, param="period_id") from None
        return batch

    def _payout_of(self, key: str) -> Payout:
        period_id, merchant_id = key.split("#", 1)
        payout = self.repo.payout(period_id, merchant_id)
        if payout is None:  # payouts are never deleted
            raise Conflict("振込データが見つかりません。", param="period_id")
        return payout

    def _file(self, period: Period, payouts: list[Payout]) -> bytes:
        banks = {m.merchant_id: m.bank for m in self.merchants.all()}
        transfers = []
        for p in payouts:
            bank = banks[p.merchant_id]
            transfers.append(ZenginTransfer(
                bank_code=bank.bank_code, bank_name_kana="", branch_code=bank.branch_code, branch_name_kana="",
                account_type=bank.account_type, account_number=bank.account_number, holder_kana=bank.holder_kana,
                amount=p.payout))
        return write_zengin(self.originator, transfers, business_days.transfer_date(period, self.direction))

    def _batch_link(self, batch: TransferBatch) -> FileLink:
        return self._link(batch.file_key, f"zengin_{batch.period_id}.txt", batch.transfers,
                          "text/plain; charset=shift_jis", total=batch.total)
