"""Settlement: closing periods exactly once, payouts with carry-over, reports and the bank file.

Why no event can commit into a closed period (the grace)
---------------------------------------------------------
A sale or a cancellation takes its timestamp from the clock immediately before its DynamoDB
transaction, and the request that does it runs inside an API Lambda whose timeout is 30 seconds
(.chalice/config.json). So an event stamped before a period's end ``E`` commits before ``E + 30 s``
or never. A period is closed only when ``now >= E + grace`` with ``grace`` (default 5 minutes,
``SETTLEMENT_GRACE_MINUTES``, at least 1) longer than that timeout: by then every event of the
period has either committed or failed, and the close reads a frozen set. Events stamped at or after
``E`` belong to the next period by construction (half-open periods).

Exactly once
------------
Periods close in order; each close reads the frozen events of its period and the carries of the
previous (closed, frozen) period, so it computes the same payouts every time. Each payout is written
with ``attribute_not_exists``; a second or concurrent close finds it there, checks it is identical
and moves on; a close that crashed half way is completed by the next run. The period is marked
closed only after every payout exists. Result: one payout per merchant and period, never two, never none.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Any

from chalicelib.core.clock import Clock, jst_iso, parse_utc_key, utc_key
from chalicelib.core.errors import Conflict, InvalidRequest, NotFound
from chalicelib.merchants.service import MerchantService
from chalicelib.payments import records as r
from chalicelib.settlement import business_days
from chalicelib.settlement.calculation import PayoutLine, aggregate, payout_lines
from chalicelib.settlement.periods import Period, period_of
from chalicelib.settlement.zengin import ZenginOriginator, ZenginTransfer, write_zengin
from chalicelib.store.s3 import SpoolingUpload, neutralise, presign, write_csv
from chalicelib.store.table import ConditionFailed, Table

CURSOR_PK = "SETTLEMENT#CURSOR"
PAYOUT_FIELDS = ("sales_count", "sales_points", "cancel_count", "cancel_points", "carried_in", "net", "payout",
                 "carry_out")
STATUS_LABEL = {"scheduled": "振込予定", "exported": "振込手続中", "paid": "振込済", "failed": "振込不能",
                "carried": "繰越"}


class PayoutMismatch(Exception):
    """A payout already stored differs from the recomputed one: the ledger changed after close."""


def period_pk(period_id: str) -> str:
    return "PERIOD#" + period_id


def payouts_pk(period_id: str) -> str:
    return "PAYOUT#" + period_id


def parse_period(period_id: str) -> Period:
    try:
        return Period.parse(period_id)
    except ValueError:
        raise NotFound("期間が見つかりません(例: 2026-11-1)。", param="period_id") from None


@dataclasses.dataclass(frozen=True)
class CloseResult:
    period_id: str
    payouts: int
    payout_total: int
    already_closed: bool


class PayoutWriter:
    """The adapter that stores payouts; tests replace it to inject a crash half way."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def put(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """Store the payout unless it exists; returns the existing item when it does."""
        try:
            self.table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed as exc:
            return exc.item or self.table.get(item["pk"], item["sk"])
        return None


class SettlementService:
    def __init__(self, table: Table, s3: Any, bucket: str, clock: Clock, merchants: MerchantService, *,
                 grace: dt.timedelta, direction: str, start: Period, url_ttl_seconds: int,
                 originator: ZenginOriginator, writer: PayoutWriter | None = None) -> None:
        self.table, self.s3, self.bucket, self.clock, self.merchants = table, s3, bucket, clock, merchants
        self.grace = grace
        self.direction = direction
        self.start = start
        self.url_ttl_seconds = url_ttl_seconds
        self.originator = originator
        self.writer = writer or PayoutWriter(table)

    # -- reading the ledger -------------------------------------------------------------------
    def events(self, period: Period, merchant_id: str | None = None) -> Iterator[dict[str, Any]]:
        values = {":p": r.period_events_pk(period.id)}
        condition = "gsi3pk = :p"
        if merchant_id:
            condition += " AND begins_with(gsi3sk, :m)"
            values[":m"] = merchant_id + "#"
        yield from self.table.query(index="gsi3", key_condition=condition, values=values)

    def payouts(self, period_id: str) -> Iterator[dict[str, Any]]:
        yield from self.table.query(key_condition="pk = :p", values={":p": payouts_pk(period_id)}, consistent=True)

    def period_item(self, period: Period) -> dict[str, Any] | None:
        return self.table.get(period_pk(period.id), "PERIOD")

    def is_due(self, period: Period, now: dt.datetime) -> bool:
        return now >= period.end_utc + self.grace

    # -- closing ------------------------------------------------------------------------------
    def close(self, period_id: str) -> CloseResult:
        period = parse_period(period_id)
        now = self.clock.now()
        if period < self.start:
            raise InvalidRequest(f"精算は {self.start.id} からです。", param="period_id")
        if not self.is_due(period, now):
            raise Conflict(f"期間 {period.id} はまだ締められません(終了 {jst_iso(period.end_utc)} の"
                           f"{int(self.grace.total_seconds() // 60)}分後から)。", param="period_id")
        existing = self.period_item(period)
        if existing and existing.get("state") == "closed":
            return CloseResult(period.id, int(existing["payouts_count"]), int(existing["payouts_total"]), True)
        if period != self.start:
            previous = self.period_item(period.previous())
            if not previous or previous.get("state") != "closed":
                raise Conflict(f"先に前の期間 {period.previous().id} を締めてください。", param="period_id")
        self._mark(period, "closing", now)

        carried_in = {} if period == self.start else {
            str(p["merchant_id"]): int(p["carry_out"]) for p in self.payouts(period.previous().id)
            if int(p["carry_out"]) != 0}
        totals = aggregate(self.events(period))
        transfer = business_days.transfer_date(period, self.direction)  # type: ignore[arg-type]
        lines = payout_lines(period.id, totals, carried_in, transfer)
        names = {m.merchant_id: m.name_ja for m in self.merchants.all()} if lines else {}
        total = 0
        for line in lines:
            item = self._payout_item(line, names.get(line.merchant_id, ""), period, now)
            found = self.writer.put(item)
            if found is not None and any(int(found[f]) != int(item[f]) for f in PAYOUT_FIELDS):
                raise PayoutMismatch(f"stored payout {period.id}/{line.merchant_id} differs from the ledger")
            total += line.payout
        self._mark(period, "closed", now, payouts_count=len(lines), payouts_total=total,
                   sales_points=sum(t.sales_points for t in totals.values()),
                   cancel_points=sum(t.cancel_points for t in totals.values()))
        self._advance_cursor(period)
        return CloseResult(period.id, len(lines), total, False)

    def _advance_cursor(self, period: Period) -> None:
        """Remember the newest closed period (period ids of one year-month sort as strings; the
        comparison is made on parsed periods, and a concurrent close that got further wins)."""
        item = self.table.get(CURSOR_PK, "CURSOR")
        if item is not None and Period.parse(str(item["last_closed"])) >= period:
            return
        with contextlib.suppress(ConditionFailed):  # another close moved it meanwhile
            self.table.update(CURSOR_PK, "CURSOR", update="SET last_closed = :p",
                              condition="attribute_not_exists(last_closed) OR last_closed = :old",
                              values={":p": period.id, ":old": item["last_closed"] if item else ""},
                              return_new=False)

    def close_due(self) -> list[CloseResult]:
        """Close, in order, every period whose end plus the grace has passed (catching up)."""
        now = self.clock.now()
        cursor = self.table.get(CURSOR_PK, "CURSOR")
        period = Period.parse(str(cursor["last_closed"])).next() if cursor else self.start
        results = []
        while self.is_due(period, now):
            results.append(self.close(period.id))
            period = period.next()
        return results

    def _mark(self, period: Period, state: str, now: dt.datetime, **extra: int) -> None:
        names = {"#s": "state"}
        sets = ["#s = :s", "period_id = :id", "gsi1pk = :g", "gsi1sk = :id", "updated_at = :t"]
        values: dict[str, Any] = {":s": state, ":id": period.id, ":g": "PERIODS", ":t": utc_key(now)}
        if state == "closed":
            sets.append("closed_at = if_not_exists(closed_at, :t)")
        for i, (key, value) in enumerate(extra.items()):
            sets.append(f"{key} = :x{i}")
            values[f":x{i}"] = value
        condition = None
        if state != "closed":  # never move a closed period back to closing
            condition = "attribute_not_exists(#s) OR #s <> :closed"
            values[":closed"] = "closed"
        with contextlib.suppress(ConditionFailed):  # a concurrent close finished first
            self.table.update(period_pk(period.id), "PERIOD", update="SET " + ", ".join(sets), condition=condition,
                              names=names, values=values, return_new=False)

    def _payout_item(self, line: PayoutLine, name_ja: str, period: Period, now: dt.datetime) -> dict[str, Any]:
        return {
            "pk": payouts_pk(period.id), "sk": "M#" + line.merchant_id, "kind": "payout",
            "period_id": period.id, "merchant_id": line.merchant_id, "name_ja": name_ja,
            **{f: getattr(line, f) for f in PAYOUT_FIELDS},
            "transfer_date": line.transfer_date.isoformat(),
            "processing_start_date": period.end_jst.date().isoformat(),
            "status": line.status, "created_at": utc_key(now),
            "gsi1pk": "PAYOUTS#" + line.merchant_id, "gsi1sk": period.id,
        }

    # -- views --------------------------------------------------------------------------------
    def periods(self, count: int = 24) -> list[dict[str, Any]]:
        now = self.clock.now()
        current = period_of(now)
        stored = {str(i["period_id"]): i for i in self.table.query(
            index="gsi1", key_condition="gsi1pk = :g", values={":g": "PERIODS"}, forward=False, limit=200)}
        out = []
        period = current
        for _ in range(count):
            if period < self.start:
                break
            item = stored.get(period.id, {})
            state = item.get("state") or ("due" if self.is_due(period, now) else "open")
            out.append({
                "period_id": period.id, "start": jst_iso(period.start_utc), "end": jst_iso(period.end_utc),
                "state": state,
                "closed_at": jst_iso(parse_utc_key(str(item["closed_at"]))) if item.get("closed_at") else None,
                "payouts_count": int(item.get("payouts_count", 0)), "payouts_total": int(item.get("payouts_total", 0)),
                "transfer_date": business_days.transfer_date(period, self.direction).isoformat(),  # type: ignore[arg-type]
            })
            period = period.previous()
        return out

    def merchant_payouts(self, merchant_id: str, *, limit: int, start_key: dict[str, Any] | None
                         ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        page = self.table.query_page(index="gsi1", key_condition="gsi1pk = :g",
                                     values={":g": "PAYOUTS#" + merchant_id}, forward=False, limit=limit,
                                     start_key=start_key)
        return [payout_view(i) for i in page.items], page.last_key

    def payout(self, period_id: str, merchant_id: str) -> dict[str, Any]:
        item = self.table.get(payouts_pk(parse_period(period_id).id), "M#" + merchant_id)
        if item is None:
            raise NotFound("振込が見つかりません。", param="merchant_id")
        return item

    # -- payout states ------------------------------------------------------------------------
    def mark(self, period_id: str, merchant_id: str, status: str) -> dict[str, Any]:
        """The operator confirms the bank's answer: ``exported`` -> ``paid`` or ``failed``."""
        self.payout(period_id, merchant_id)
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": status, ":exported": "exported", ":t": utc_key(self.clock.now())}
        update = "SET #s = :s, status_changed_at = :t"
        if status == "failed":
            update += ", gsi2pk = :f, gsi2sk = :k"
            values.update({":f": "PAYOUTS#failed", ":k": f"{period_id}#{merchant_id}"})
        try:
            item = self.table.update(payouts_pk(period_id), "M#" + merchant_id, update=update,
                                     condition="#s = :exported", names=names, values=values)
        except ConditionFailed:
            raise Conflict("振込ファイルに出力済み(exported)の振込だけを更新できます。", param="status") from None
        assert item is not None
        return payout_view(item, admin=True)

    # -- files --------------------------------------------------------------------------------
    def _upload_csv(self, key: str, filename: str, header: list[str], rows: Iterator[list[str]]) -> tuple[str, int]:
        upload = SpoolingUpload(self.s3, self.bucket, key, "text/csv; charset=utf-8")
        count = write_csv(upload, header, rows)
        return presign(self.s3, self.bucket, key, filename, self.url_ttl_seconds), count

    def expires_at(self) -> dt.datetime:
        return self.clock.now() + dt.timedelta(seconds=self.url_ttl_seconds)

    def report(self, period_id: str) -> tuple[str, int]:
        period = parse_period(period_id)
        header = ["期間", "店舗ID", "店舗名", "売上件数", "売上ポイント", "取消件数", "取消ポイント", "前期繰越",
                  "差引", "振込額", "次期繰越", "振込予定日", "状態"]
        rows = ([period.id, p["merchant_id"], neutralise(str(p.get("name_ja", ""))),
                 *(str(p[f]) for f in PAYOUT_FIELDS), str(p["transfer_date"]),
                 STATUS_LABEL.get(str(p["status"]), str(p["status"]))]
                for p in self.payouts(period.id))
        filename = f"精算報告_{period.id}.csv"
        return self._upload_csv(f"reports/{period.id}/{secrets.token_urlsafe(18)}/{filename}", filename, header, rows)

    def detail(self, period_id: str, merchant_id: str) -> tuple[str, int]:
        period = parse_period(period_id)
        self.payout(period.id, merchant_id)
        header = ["種別", "日時", "決済ID", "ポイント"]
        rows = (["売上" if e["kind"] == "sale" else "取消",
                 jst_iso(parse_utc_key(str(e["completed_at"] if e["kind"] == "sale" else e["cancelled_at"]))),
                 str(e["payment_id"]), str(e["amount"] if e["kind"] == "sale" else -int(e["amount"]))]
                for e in self.events(period, merchant_id))
        filename = f"振込明細_{period.id}_{merchant_id}.csv"
        key = f"reports/{period.id}/{merchant_id}/{secrets.token_urlsafe(18)}/{filename}"
        return self._upload_csv(key, filename, header, rows)

    def zengin(self, period_id: str) -> tuple[str, int, int]:
        """The 総合振込 file: this period's unpaid positive payouts and earlier failed ones."""
        period = parse_period(period_id)
        item = self.period_item(period)
        if not item or item.get("state") != "closed":
            raise Conflict("締めの済んでいない期間です。", param="period_id")
        chosen = [p for p in self.payouts(period.id) if p["status"] in ("scheduled", "exported", "failed")]
        chosen += [p for p in self.table.query(index="gsi2", key_condition="gsi2pk = :f",
                                               values={":f": "PAYOUTS#failed"})
                   if p["status"] == "failed" and p["period_id"] != period.id]
        if not chosen:
            raise Conflict("振込対象がありません。", param="period_id")
        banks = {m.merchant_id: m.bank for m in self.merchants.all()}
        transfers = []
        for p in chosen:
            bank = banks[str(p["merchant_id"])]
            transfers.append(ZenginTransfer(
                bank_code=bank.bank_code, bank_name_kana="", branch_code=bank.branch_code, branch_name_kana="",
                account_type=bank.account_type, account_number=bank.account_number, holder_kana=bank.holder_kana,
                amount=int(p["payout"])))
        data = write_zengin(self.originator, transfers, business_days.transfer_date(period, self.direction))  # type: ignore[arg-type]
        filename = f"zengin_{period.id}.txt"
        key = f"reports/{period.id}/{secrets.token_urlsafe(18)}/{filename}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="text/plain; charset=shift_jis")
        now = utc_key(self.clock.now())
        for p in chosen:
            self.table.update(str(p["pk"]), str(p["sk"]), update="SET #s = :e, exported_at = :t REMOVE gsi2pk, gsi2sk",
                              condition="#s IN (:a, :e, :f)", names={"#s": "status"},
                              values={":e": "exported", ":a": "scheduled", ":f": "failed", ":t": now},
                              return_new=False)
        return presign(self.s3, self.bucket, key, filename, self.url_ttl_seconds), len(transfers), sum(
            t.amount for t in transfers)


def payout_view(item: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
    return {
        "period_id": item["period_id"], "merchant_id": item["merchant_id"], "name_ja": item.get("name_ja", ""),
        "processing_start_date": item["processing_start_date"], "transfer_date": item["transfer_date"],
        "amount": int(item["payout"]), **{f: int(item[f]) for f in PAYOUT_FIELDS},
        "status": item["status"], "status_label": STATUS_LABEL.get(str(item["status"]), str(item["status"])),
        "detail_url": f"/v1/admin/periods/{item['period_id']}/payouts/{item['merchant_id']}/detail" if admin
        else f"/v1/merchant/payouts/{item['period_id']}/detail",
    }
