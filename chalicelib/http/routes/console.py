"""Merchant console API: who am I, history, the live feed, one payment, cancel, CSV export, daily sales,
contact."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from chalicelib.accounts.scope import ALL as ALL_STAFF
from chalicelib.accounts.scope import OWNER_MANAGER as OWNER_MANAGER_STAFF
from chalicelib.accounts.scope import require_today, require_today_moment
from chalicelib.core.clock import jst_iso, parse_utc_key, utc_key
from chalicelib.core.errors import AlreadyCancelled, CancelWindowExpired, InvalidRequest, NotFound
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.routes.payments import PaymentOut, payment_fields
from chalicelib.http.routing import Ctx, Routes
from chalicelib.http.schemas import Cursor, JstTime, Limit, Link, Points
from chalicelib.merchants.model import Store
from chalicelib.payments.model import CANCELLED, Payment

if TYPE_CHECKING:  # the console's modules load with its first route
    from chalicelib.console.history import Totals
    from chalicelib.console.live import Position
    from chalicelib.console.ranges import Range

routes = Routes(__name__)
MERCHANT = ["merchant"]
# Who among a merchant's staff may call each route (SPEC §6a): see accounts.scope.
EVERYONE, OWNER_MANAGER = ALL_STAFF, OWNER_MANAGER_STAFF

RangeFrom = Annotated[str, Meta(max_length=20, description="JST, to the minute (2026-11-01T09:00) or a date; "
                                                          "default today")]
RangeTo = Annotated[str, Meta(max_length=20, description="JST, to the minute, inclusive of its whole minute")]


class RangeQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    from_: RangeFrom = msgspec.field(default="", name="from")
    to: RangeTo = ""


StatusFilter = Annotated[Literal["", "completed", "cancelled"],
                         Meta(description="only completed or only cancelled rows (the totals stay the range's)")]
StoreId = Annotated[str, Meta(max_length=64, description="only this shop of the merchant (its default shop's id "
                                                         "is the merchant id); none: every shop the member may see")]


class StoreRangeQuery(RangeQuery, frozen=True, forbid_unknown_fields=True):
    store_id: StoreId = ""


class HistoryQuery(StoreRangeQuery, frozen=True, forbid_unknown_fields=True):
    cursor: Cursor = ""
    limit: Limit | UnsetType = UNSET
    status: StatusFilter = ""


class LiveQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    after: Annotated[str, Meta(max_length=2048, description="the cursor of the previous poll; none: from the "
                                                             "start of today (JST)")] = ""
    store_id: StoreId = ""


class LiveItem(msgspec.Struct, kw_only=True):
    kind: Literal["payment", "cancellation"]
    payment_id: str
    amount: Points
    at: Annotated[str, Meta(description="the payment's or the cancellation's time, JST ISO-8601")]
    store_id: str


class LiveOut(msgspec.Struct, kw_only=True):
    items: list[LiveItem]
    cursor: Annotated[str, Meta(description="pass as ?after= on the next poll")]
    server_time: JstTime


class HistoryRow(PaymentOut, kw_only=True):
    name_en: str
    status_label: str


class TotalsOut(msgspec.Struct, kw_only=True):
    completed_count: int
    completed_points: Points
    cancelled_count: int
    cancelled_points: Points


class HistoryOut(TotalsOut, kw_only=True):
    items: list[HistoryRow]
    next_cursor: str | None
    from_: str = msgspec.field(name="from")
    to: str


class CancelBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    confirm_payment_id: Annotated[str, Meta(min_length=1, max_length=32, description="the 決済ID, typed again")]


class ExportBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    from_: RangeFrom | None = msgspec.field(default=None, name="from")
    to: RangeTo | None = None
    store_id: StoreId | None = None


class ExportQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    store_id: StoreId = ""


class StoreOut(msgspec.Struct, kw_only=True):
    store_id: str
    merchant_id: str
    name_ja: str
    name_en: str
    mcc: str
    status: Literal["active", "suspended"]
    is_default: Annotated[bool, Meta(description="the merchant's default shop (its id is the merchant id)")]
    created_at: JstTime


class StoreList(msgspec.Struct):
    items: list[StoreOut]


class ExportOut(Link, kw_only=True):
    from_: str = msgspec.field(name="from")
    to: str


class DayOut(TotalsOut, kw_only=True):
    date: str


class DailyOut(msgspec.Struct, kw_only=True):
    days: list[DayOut]
    from_: str = msgspec.field(name="from")
    to: str


class MerchantContact(msgspec.Struct):
    name: str
    hours: str
    phone: str
    address: str


class ConsumerContact(msgspec.Struct):
    name: str
    hours: str
    phone: str


class ContactOut(msgspec.Struct):
    merchant: Annotated[MerchantContact, Meta(description="事業者向けの窓口")]
    consumer: Annotated[ConsumerContact, Meta(description="利用者向けの窓口(お客さまにご案内する番号)")]


class MeOut(msgspec.Struct, kw_only=True):
    merchant_id: str
    name_ja: str
    name_en: str
    login_id: str
    status: Annotated[str, Meta(description="active; suspended: payments to the shop are refused (the "
                                            "console still shows history and payouts)")]
    staff_id: str
    staff_role: Literal["owner", "manager", "clerk"]
    store_ids: Annotated[list[str] | None, Meta(description="the shops this person may see; null: every shop")]
    staff_name: str = ""


def store_out(s: Store) -> StoreOut:
    return StoreOut(store_id=s.store_id, merchant_id=s.merchant_id, name_ja=s.name_ja, name_en=s.name_en, mcc=s.mcc,
                    status="active" if s.active else "suspended", is_default=s.is_default,
                    created_at=jst_iso(s.created_at))


def history_row(p: Payment) -> HistoryRow:
    label = "取消" if p.status == CANCELLED else "完了"
    return HistoryRow(**payment_fields(p), name_en=p.name_en, status_label=label)  # type: ignore[arg-type]


def parse_range(raw_from: str, raw_to: str, ctx: Ctx) -> Range:
    from chalicelib.console.ranges import parse_range as parse

    return parse(raw_from or None, raw_to or None, ctx.container.clock.now())


def totals_fields(t: Totals) -> dict[str, int]:
    return t.as_dict()


@routes.route("/v1/merchant/me", summary="ログイン中の店舗と、自分の役割・担当店舗", roles=MERCHANT,
              response=MeOut, staff_roles=EVERYONE)
def merchant_me(ctx: Ctx) -> MeOut:
    m = ctx.container.merchants.get(ctx.merchant_id)
    me = ctx.me
    account = ctx.container.account_repo.get(me.subject)
    return MeOut(merchant_id=m.merchant_id, name_ja=m.name_ja, name_en=m.name_en, login_id=me.subject,
                 status=m.status, staff_id=me.staff_id or "owner", staff_role=me.staff_role or "owner",  # type: ignore[arg-type]
                 store_ids=list(me.store_ids) if me.store_ids is not None else None,
                 staff_name=account.name if account is not None else "")


@routes.route("/v1/merchant/transactions", summary="取引履歴(分単位の期間、件数と合計)。レジ担当は今日の分だけ",
              roles=MERCHANT, query=HistoryQuery, response=HistoryOut, errors=[NotFound], staff_roles=EVERYONE)
def merchant_transactions(ctx: Ctx, query: HistoryQuery) -> HistoryOut:
    c = ctx.container
    mid = ctx.merchant_id
    rng = parse_range(query.from_, query.to, ctx)
    require_today(ctx.staff_role, rng.start, rng.end, c.clock.now())
    stores = ctx.store_filter(query.store_id)  # a partial scope sees its own shops only
    scope = f"merchant-tx|{mid}|{rng.start.isoformat()}|{rng.end.isoformat()}"
    if query.status:
        scope += f"|{query.status}"
    if stores is not None:
        scope += "|" + ",".join(sorted(stores))
    cursor = decode_cursor(c.cursor_secret, scope, query.cursor)
    page = c.history.page(mid, rng, limit=query.limit or 50, cursor=cursor, status=query.status or None,
                          stores=stores)
    return HistoryOut(items=[history_row(p) for p in page.rows],
                      next_cursor=encode_cursor(c.cursor_secret, scope, page.cursor),
                      from_=rng.from_label, to=rng.to_label, **totals_fields(page.totals))


def _position_key(p: Position) -> dict[str, Any]:
    base = p.watermark
    return {"w": utc_key(base), "s": [[round((s.at - base).total_seconds() * 1000), s.payment_id,
                                          "S" if s.kind == "sale" else "C"] for s in p.seen]}


def _position(key: dict[str, Any] | None) -> Position | None:
    from chalicelib.console.live import Position, Seen

    if key is None:
        return None
    try:
        base = parse_utc_key(key["w"])
        seen = tuple(Seen(base + dt.timedelta(milliseconds=int(ms)), str(pid), "sale" if kind == "S" else "cancel")
                     for ms, pid, kind in key["s"])
    except (KeyError, TypeError, ValueError):
        raise InvalidRequest("after が正しくありません。", param="after") from None
    return Position(base, seen)


@routes.route("/v1/merchant/live", summary="ライブ: 前回以降の決済と取消(古い順、1回50件まで)", roles=MERCHANT,
              query=LiveQuery, response=LiveOut, errors=[NotFound], staff_roles=EVERYONE)
def merchant_live(ctx: Ctx, query: LiveQuery) -> LiveOut:
    c = ctx.container
    mid = ctx.merchant_id
    stores = ctx.store_filter(query.store_id)  # another merchant's shop → 404; outside the scope → 403
    one = next(iter(stores)) if stores is not None and len(stores) == 1 else None
    secret = c.cursor_secret
    scope = f"merchant-live|{mid}|{query.store_id}"
    page = c.live.poll(mid, _position(decode_cursor(secret, scope, query.after)), store_id=one)
    items = [LiveItem(kind="payment" if e.kind == "sale" else "cancellation", payment_id=e.payment_id,
                      amount=e.amount, at=jst_iso(e.at), store_id=e.store_id) for e in page.events
             if stores is None or e.store_id in stores]
    cursor = encode_cursor(secret, scope, _position_key(page.position))
    assert cursor is not None
    return LiveOut(items=items, cursor=cursor, server_time=jst_iso(c.clock.now()))


@routes.route("/v1/merchant/payments/{payment_id}", summary="取引情報(自店の決済1件)。レジ担当は今日の分だけ",
              roles=MERCHANT, response=HistoryRow, staff_roles=EVERYONE)
def merchant_payment(ctx: Ctx, payment_id: str) -> HistoryRow:
    payment = ctx.container.cancels.merchant_payment(ctx.merchant_id, payment_id)  # another merchant's: 404
    ctx.require_store(payment.store_id)
    require_today_moment(ctx.staff_role, payment.completed_at, ctx.container.clock.now())
    return history_row(payment)


@routes.route("/v1/merchant/payments/{payment_id}/cancel", "POST", summary="取消(決済IDの確認つき)", roles=MERCHANT,
              body=CancelBody, response=HistoryRow, errors=[AlreadyCancelled, CancelWindowExpired],
              staff_roles=OWNER_MANAGER)
def merchant_cancel(ctx: Ctx, payment_id: str, body: CancelBody) -> HistoryRow:
    c = ctx.container
    # A payment of a shop outside the member's scope answers 403 before anything is written (another
    # merchant's answers 404 from the same read).
    ctx.require_store(c.cancels.merchant_payment(ctx.merchant_id, payment_id).store_id)
    cancelled = c.cancels.cancel(merchant_id=ctx.merchant_id, payment_id=payment_id,
                                 confirm_payment_id=body.confirm_payment_id, by=ctx.me.subject)
    ctx.audit("payment_cancel", cancelled.payment_id, detail=f"{cancelled.amount} pt")
    return history_row(cancelled)


@routes.route("/v1/merchant/exports", "POST", summary="CSV形式でエクスポート(store_id: 本文またはクエリで店舗を指定)",
              roles=MERCHANT, status=201, body=ExportBody, query=ExportQuery, response=ExportOut, errors=[NotFound],
              staff_roles=OWNER_MANAGER)
def merchant_export(ctx: Ctx, body: ExportBody, query: ExportQuery) -> ExportOut:
    c = ctx.container
    rng = parse_range(body.from_ or "", body.to or "", ctx)
    if body.store_id and query.store_id and body.store_id != query.store_id:
        raise InvalidRequest("store_id が本文とクエリで違います。", param="store_id")
    requested = body.store_id or query.store_id
    stores = ctx.store_filter(requested)  # a partial scope exports its own shops only
    result = c.exports.export(ctx.merchant_id, rng, stores)
    detail = f"{result.rows} rows" + (f", 店舗 {','.join(sorted(stores))}" if stores is not None else "")
    ctx.audit("export", f"{rng.from_label}〜{rng.to_label}", detail=detail)
    return ExportOut(url=result.url, expires_at=jst_iso(result.expires_at), rows=result.rows,
                     filename=result.filename, from_=rng.from_label, to=rng.to_label)


@routes.route("/v1/merchant/sales/daily", summary="日別売上(グラフ用)", roles=MERCHANT, query=StoreRangeQuery,
              response=DailyOut, errors=[NotFound], staff_roles=OWNER_MANAGER)
def merchant_daily_sales(ctx: Ctx, query: StoreRangeQuery) -> DailyOut:
    c = ctx.container
    rng = parse_range(query.from_, query.to, ctx)
    stores = ctx.store_filter(query.store_id)  # from the per-shop day totals: a partial scope sees its shops'
    days = [DayOut(date=d.day.isoformat(), **totals_fields(d.totals))
            for d in c.history.daily(ctx.merchant_id, rng, stores=stores)]
    return DailyOut(days=days, from_=rng.from_label, to=rng.to_label)


@routes.route("/v1/merchant/stores", summary="店舗一覧(自分の担当店舗だけ)", roles=MERCHANT, response=StoreList,
              staff_roles=EVERYONE)
def merchant_stores(ctx: Ctx) -> StoreList:
    scope = ctx.me.store_ids
    stores = ctx.container.merchants.stores(ctx.merchant_id)
    return StoreList(items=[store_out(s) for s in stores if scope is None or s.store_id in scope])


@routes.route("/v1/merchant/contact", summary="お問い合わせ先", roles=MERCHANT, response=ContactOut,
              staff_roles=EVERYONE)
def merchant_contact(ctx: Ctx) -> ContactOut:
    s = ctx.container.settings
    return ContactOut(
        merchant=MerchantContact(name=s.contact_merchant_name, hours=s.contact_merchant_hours,
                                 phone=s.contact_merchant_phone, address=s.contact_merchant_address),
        consumer=ConsumerContact(name=s.contact_consumer_name, hours=s.contact_consumer_hours,
                                 phone=s.contact_consumer_phone))
