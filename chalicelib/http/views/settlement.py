"""Settlement routes: operator periods, close, payouts, report, Zengin, marks; merchant 振込履歴."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.core.clock import jst_iso
from chalicelib.http import openapi
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.edge import Ctx, json_response
from chalicelib.http.requests import limit_param
from chalicelib.settlement.service import payout_view

LINK = (200, {"type": "object", "required": ["url", "expires_at"], "properties": {
    "url": {"type": "string", "format": "uri"}, "expires_at": openapi.JST_TIME}})
PAYOUT = {"type": "object", "properties": {
    "period_id": {"type": "string"}, "merchant_id": {"type": "string"}, "name_ja": {"type": "string"},
    "processing_start_date": {"type": "string", "format": "date"},
    "transfer_date": {"type": "string", "format": "date"}, "amount": openapi.POINTS,
    "status": {"type": "string", "enum": ["scheduled", "exported", "paid", "failed", "carried"]},
    "detail_url": {"type": "string"}}}
openapi.register("admin_periods", response=(200, {"type": "object", "properties": {"items": {"type": "array"}}}))
openapi.register("admin_close_period", response=(200, {"type": "object"}))
openapi.register("admin_period_payouts", response=(200, {"type": "object", "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Payout"}}}}), schemas={"Payout": PAYOUT})
openapi.register("admin_period_report", response=LINK)
openapi.register("admin_period_zengin", response=LINK)
openapi.register("admin_mark_paid", response=(200, {"$ref": "#/components/schemas/Payout"}))
openapi.register("admin_mark_failed", response=(200, {"$ref": "#/components/schemas/Payout"}))
openapi.register("admin_payout_detail", response=LINK)
openapi.register("merchant_payouts", response=(200, {"type": "object", "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Payout"}},
    "next_cursor": {"type": ["string", "null"]}}}))
openapi.register("merchant_payout_detail", response=LINK)


def periods(ctx: Ctx) -> Response:
    return json_response({"items": ctx.container.settlement.periods()})


def close(ctx: Ctx, period_id: str) -> Response:
    result = ctx.container.settlement.close(period_id)
    return json_response({"period_id": result.period_id, "payouts_count": result.payouts,
                          "payouts_total": result.payout_total, "already_closed": result.already_closed,
                          "state": "closed"})


def period_payouts(ctx: Ctx, period_id: str) -> Response:
    from chalicelib.settlement.service import parse_period

    svc = ctx.container.settlement
    return json_response({"items": [payout_view(p, admin=True) for p in svc.payouts(parse_period(period_id).id)]})


def report(ctx: Ctx, period_id: str) -> Response:
    svc = ctx.container.settlement
    url, rows = svc.report(period_id)
    return json_response({"url": url, "expires_at": jst_iso(svc.expires_at()), "rows": rows})


def zengin(ctx: Ctx, period_id: str) -> Response:
    svc = ctx.container.settlement
    url, count, total = svc.zengin(period_id)
    return json_response({"url": url, "expires_at": jst_iso(svc.expires_at()), "count": count, "total": total})


def mark(ctx: Ctx, period_id: str, merchant_id: str, status: str) -> Response:
    return json_response(ctx.container.settlement.mark(period_id, merchant_id, status))


def payout_detail(ctx: Ctx, period_id: str, merchant_id: str) -> Response:
    svc = ctx.container.settlement
    url, rows = svc.detail(period_id, merchant_id)
    return json_response({"url": url, "expires_at": jst_iso(svc.expires_at()), "rows": rows})



def merchant_payouts(ctx: Ctx) -> Response:
    c = ctx.container
    mid = ctx.merchant_id
    params = ctx.query_params({"cursor", "limit"})
    scope = f"merchant-payouts|{mid}"
    start = decode_cursor(c.settings.session_secret, scope, params.get("cursor"))
    items, last = c.settlement.merchant_payouts(mid, limit=limit_param(params.get("limit"), default=24),
                                                start_key=start)
    return json_response({"items": items, "next_cursor": encode_cursor(c.settings.session_secret, scope, last)})


def merchant_payout_detail(ctx: Ctx, period_id: str) -> Response:
    return payout_detail(ctx, period_id, ctx.merchant_id)
