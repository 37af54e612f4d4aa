"""Settlement routes: operator periods, close, payouts, report, Zengin, marks; merchant 振込履歴."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from chalicelib.accounts.scope import OWNER_MANAGER as OWNER_MANAGER_STAFF
from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.routing import Ctx, Routes
from chalicelib.http.schemas import JstTime, Link, PageQuery, Points
from chalicelib.settlement.ledger import LedgerReport

if TYPE_CHECKING:  # settlement's modules load with its first route, not with every cold start
    from chalicelib.settlement.model import Payout
    from chalicelib.settlement.payouts import FileLink

routes = Routes(__name__)
OPERATOR = ["operator"]
MERCHANT = ["merchant"]
OWNER_MANAGER = OWNER_MANAGER_STAFF
PayoutStatus = Literal["scheduled", "exported", "paid", "failed", "carried"]


class PeriodOut(msgspec.Struct):
    period_id: str
    start: JstTime
    end: JstTime
    state: Literal["open", "due", "closing", "closed"]
    closed_at: JstTime | None
    payouts_count: int
    payouts_total: Points
    transfer_date: str
    sales_points: Points
    cancel_points: Points


class PeriodList(msgspec.Struct):
    items: list[PeriodOut]


class CloseOut(msgspec.Struct):
    period_id: str
    payouts_count: int
    payouts_total: Points
    already_closed: bool
    state: str = "closed"


class PayoutOut(msgspec.Struct, kw_only=True):
    period_id: str
    merchant_id: str
    name_ja: str
    processing_start_date: str
    transfer_date: str
    amount: Points
    sales_count: int
    sales_points: Points
    cancel_count: int
    cancel_points: Points
    carried_in: int
    net: int
    payout: Points
    carry_out: int
    status: PayoutStatus
    status_label: str
    detail_url: str


class PayoutList(msgspec.Struct):
    items: list[PayoutOut]
    next_cursor: str | None = None


class ZenginOut(Link, kw_only=True):
    count: int
    total: Points


def payout_out(p: Payout, *, admin: bool) -> PayoutOut:
    detail = (f"/v1/admin/periods/{p.period_id}/payouts/{p.merchant_id}/detail" if admin
              else f"/v1/merchant/payouts/{p.period_id}/detail")
    return PayoutOut(
        period_id=p.period_id, merchant_id=p.merchant_id, name_ja=p.name_ja,
        processing_start_date=p.processing_start_date.isoformat(), transfer_date=p.transfer_date.isoformat(),
        amount=p.payout, sales_count=p.sales_count, sales_points=p.sales_points, cancel_count=p.cancel_count,
        cancel_points=p.cancel_points, carried_in=p.carried_in, net=p.net, payout=p.payout, carry_out=p.carry_out,
        status=p.status, status_label=p.status_label, detail_url=detail)  # type: ignore[arg-type]


def link_out(link: FileLink) -> Link:
    return Link(url=link.url, expires_at=jst_iso(link.expires_at), rows=link.rows, filename=link.filename)


@routes.route("/v1/admin/periods", summary="精算期間の一覧と状態", roles=OPERATOR, response=PeriodList)
def admin_periods(ctx: Ctx) -> PeriodList:
    return PeriodList(items=[
        PeriodOut(period_id=p.period_id, start=jst_iso(p.start), end=jst_iso(p.end), state=p.state,  # type: ignore[arg-type]
                  closed_at=jst_iso(p.closed_at) if p.closed_at else None, payouts_count=p.payouts_count,
                  payouts_total=p.payouts_total, transfer_date=p.transfer_date.isoformat(),
                  sales_points=p.sales_points, cancel_points=p.cancel_points)
        for p in ctx.container.closing.periods()])


@routes.route("/v1/admin/periods/{period_id}/close", "POST", summary="期限の来た精算期間を今すぐ締める",
              roles=OPERATOR, response=CloseOut, errors=[Conflict])
def admin_close_period(ctx: Ctx, period_id: str) -> CloseOut:
    result = ctx.container.closing.close(period_id)
    if not result.already_closed:
        ctx.audit("period_close", period_id, detail=f"{result.payouts} payouts, {result.payout_total} pt")
    return CloseOut(period_id=result.period_id, payouts_count=result.payouts, payouts_total=result.payout_total,
                    already_closed=result.already_closed)


@routes.route("/v1/admin/periods/{period_id}/payouts", summary="期間の振込一覧", roles=OPERATOR, response=PayoutList)
def admin_period_payouts(ctx: Ctx, period_id: str) -> PayoutList:
    return PayoutList(items=[payout_out(p, admin=True) for p in ctx.container.payouts.payouts(period_id)])


@routes.route("/v1/admin/periods/{period_id}/report", summary="精算報告CSV(全店舗)", roles=OPERATOR, response=Link)
def admin_period_report(ctx: Ctx, period_id: str) -> Link:
    return link_out(ctx.container.payouts.report(period_id))


@routes.route("/v1/admin/periods/{period_id}/zengin", summary="全銀 総合振込ファイル", roles=OPERATOR,
              response=ZenginOut, errors=[Conflict])
def admin_period_zengin(ctx: Ctx, period_id: str) -> ZenginOut:
    link = ctx.container.payouts.zengin(period_id)
    ctx.audit("zengin", period_id, detail=f"{link.rows} transfers, {link.total} pt")
    return ZenginOut(url=link.url, expires_at=jst_iso(link.expires_at), rows=link.rows, filename=link.filename,
                     count=link.rows, total=link.total)


@routes.route("/v1/admin/periods/{period_id}/payouts/{merchant_id}/paid", "POST", summary="振込済にする",
              roles=OPERATOR, response=PayoutOut, errors=[Conflict])
def admin_mark_paid(ctx: Ctx, period_id: str, merchant_id: str) -> PayoutOut:
    out = payout_out(ctx.container.payouts.mark(period_id, merchant_id, "paid"), admin=True)
    ctx.audit("payout_paid", f"{period_id}/{merchant_id}")
    return out


@routes.route("/v1/admin/periods/{period_id}/payouts/{merchant_id}/failed", "POST",
              summary="振込不能にする(次の振込ファイルに入る)", roles=OPERATOR, response=PayoutOut, errors=[Conflict])
def admin_mark_failed(ctx: Ctx, period_id: str, merchant_id: str) -> PayoutOut:
    out = payout_out(ctx.container.payouts.mark(period_id, merchant_id, "failed"), admin=True)
    ctx.audit("payout_failed", f"{period_id}/{merchant_id}")
    return out


@routes.route("/v1/admin/periods/{period_id}/payouts/{merchant_id}/detail", summary="振込明細CSV", roles=OPERATOR,
              response=Link)
def admin_payout_detail(ctx: Ctx, period_id: str, merchant_id: str) -> Link:
    return link_out(ctx.container.payouts.detail(period_id, merchant_id))


@routes.route("/v1/merchant/payouts", summary="振込履歴", roles=MERCHANT, query=PageQuery, response=PayoutList,
              staff_roles=OWNER_MANAGER)
def merchant_payouts(ctx: Ctx, query: PageQuery) -> PayoutList:
    c = ctx.container
    mid = ctx.merchant_id
    ctx.require_every_store()  # a payout is the whole merchant's money
    scope = f"merchant-payouts|{mid}"
    after = decode_cursor(c.cursor_secret, scope, query.cursor)
    items, last = c.payouts.merchant_payouts(mid, limit=query.limit or 24, after=after)
    return PayoutList(items=[payout_out(p, admin=False) for p in items],
                      next_cursor=encode_cursor(c.cursor_secret, scope, last))


@routes.route("/v1/merchant/payouts/{period_id}/detail", summary="振込明細CSV", roles=MERCHANT, response=Link,
              staff_roles=OWNER_MANAGER)
def merchant_payout_detail(ctx: Ctx, period_id: str) -> Link:
    ctx.require_every_store()
    return link_out(ctx.container.payouts.detail(period_id, ctx.merchant_id))


@routes.route("/v1/admin/ledger/check", summary="ポイント保存則の検査結果(毎晩の検査の最新)", roles=OPERATOR,
              response=LedgerReport, errors=[NotFound])
def admin_ledger_check(ctx: Ctx) -> LedgerReport:
    report = ctx.container.ledger.latest()
    if report is None:
        raise NotFound("まだ検査が実行されていません(毎日 0:30 に実行されます)。")
    return report


@routes.route("/v1/admin/ledger/check", "POST", summary="ポイント保存則の検査を今すぐ実行(全ウォレットを読む)",
              roles=OPERATOR, response=LedgerReport)
def admin_run_ledger_check(ctx: Ctx) -> LedgerReport:
    from chalicelib.http import jobs

    report = jobs.run_ledger_check()
    ctx.audit("ledger_check", "ledger")
    return report
