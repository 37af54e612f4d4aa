"""Merchant console API: history, one payment, cancel, CSV export, daily sales, contact."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.console.history import row
from chalicelib.console.ranges import parse_range
from chalicelib.core.clock import jst_iso
from chalicelib.http import openapi
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.edge import Ctx, json_response
from chalicelib.http.requests import limit_param, string_value

RANGE = [
    {"name": "from", "in": "query", "required": False, "schema": {"type": "string", "example": "2026-11-01T09:00"},
     "description": "JST, to the minute (or a date); default today"},
    {"name": "to", "in": "query", "required": False, "schema": {"type": "string", "example": "2026-11-01T17:59"},
     "description": "JST, to the minute, inclusive of its whole minute"},
]
TOTALS = {"completed_count": {"type": "integer"}, "completed_points": openapi.POINTS,
          "cancelled_count": {"type": "integer"}, "cancelled_points": openapi.POINTS}
openapi.register("merchant_transactions", response=(200, {"type": "object", "required": [
    "items", "next_cursor", "completed_count", "completed_points", "cancelled_count", "cancelled_points"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Payment"}},
                   "next_cursor": {"type": ["string", "null"]}, **TOTALS,
                   "from": {"type": "string"}, "to": {"type": "string"}}}),
    parameters=[*RANGE, {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 200}}])
openapi.register("merchant_payment", response=(200, {"$ref": "#/components/schemas/Payment"}))
openapi.register("merchant_cancel", response=(200, {"$ref": "#/components/schemas/Payment"}),
                 request={"type": "object", "additionalProperties": False, "required": ["confirm_payment_id"],
                          "properties": {"confirm_payment_id": {"type": "string"}}})
openapi.register("merchant_export", response=(201, {"type": "object", "required": ["url", "expires_at", "rows"],
    "properties": {"url": {"type": "string", "format": "uri"}, "expires_at": openapi.JST_TIME,
                   "rows": {"type": "integer"}, "filename": {"type": "string"}}}),
    request={"type": "object", "additionalProperties": False,
             "properties": {"from": {"type": "string"}, "to": {"type": "string"}}})
openapi.register("merchant_daily_sales", response=(200, {"type": "object", "properties": {
    "days": {"type": "array", "items": {"type": "object", "properties": {"date": {"type": "string"}, **TOTALS}}}}}),
    parameters=RANGE)
openapi.register("merchant_contact", response=(200, {"type": "object", "properties": {
    "merchant_phone": {"type": "string"}, "consumer_phone": {"type": "string"}, "hours": {"type": "string"}}}))
openapi.register("merchant_me", response=(200, {"type": "object"}))



def transactions(ctx: Ctx) -> Response:
    c = ctx.container
    mid = ctx.merchant_id
    params = ctx.query_params({"from", "to", "cursor", "limit"})
    rng = parse_range(params.get("from"), params.get("to"), c.clock.now())
    scope = f"merchant-tx|{mid}|{rng.start.isoformat()}|{rng.end.isoformat()}"
    cursor = decode_cursor(c.settings.session_secret, scope, params.get("cursor"))
    rows, totals, next_cursor = c.history.page(mid, rng, limit=limit_param(params.get("limit"), default=50),
                                               cursor=cursor)
    return json_response({
        "items": [row(p) for p in rows],
        "next_cursor": encode_cursor(c.settings.session_secret, scope, next_cursor),
        **totals.to_api(),
        "from": rng.from_label,
        "to": rng.to_label,
    })


def payment(ctx: Ctx, payment_id: str) -> Response:
    return json_response(row(ctx.container.cancels.merchant_payment(ctx.merchant_id, payment_id)))


def cancel(ctx: Ctx, payment_id: str) -> Response:
    body = ctx.body(allowed={"confirm_payment_id"}, required={"confirm_payment_id"})
    confirm = string_value(body["confirm_payment_id"], "confirm_payment_id", max_len=32)
    cancelled = ctx.container.cancels.cancel(merchant_id=ctx.merchant_id, payment_id=payment_id,
                                             confirm_payment_id=confirm, by=ctx.me.subject)
    return json_response(row(cancelled))


def export(ctx: Ctx) -> Response:
    c = ctx.container
    body = ctx.body(allowed={"from", "to"})
    raw_from = string_value(body["from"], "from", max_len=20) if body.get("from") is not None else None
    raw_to = string_value(body["to"], "to", max_len=20) if body.get("to") is not None else None
    rng = parse_range(raw_from, raw_to, c.clock.now())
    result = c.exports.export(ctx.merchant_id, rng)
    return json_response({"url": result.url, "expires_at": jst_iso(result.expires_at), "rows": result.rows,
                          "filename": result.filename, "from": rng.from_label, "to": rng.to_label}, status=201)


def daily_sales(ctx: Ctx) -> Response:
    c = ctx.container
    params = ctx.query_params({"from", "to"})
    rng = parse_range(params.get("from"), params.get("to"), c.clock.now())
    return json_response({"days": c.history.daily(ctx.merchant_id, rng), "from": rng.from_label,
                          "to": rng.to_label})


def contact(ctx: Ctx) -> Response:
    s = ctx.container.settings
    return json_response({
        "merchant_phone": s.contact_merchant_phone,
        "consumer_phone": s.contact_consumer_phone,
        "hours": s.contact_hours,
        "merchant_label": "加盟店専用お問い合わせ窓口",
        "consumer_label": "利用者向けお問い合わせ窓口",
    })


def me(ctx: Ctx) -> Response:
    merchant = ctx.container.merchants.get(ctx.merchant_id)
    return json_response({**merchant.to_public(), "login_id": ctx.me.subject, "status": merchant.status})
