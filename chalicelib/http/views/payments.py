"""Consumer payments and wallet, and the operator's single grant."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import InvalidRequest
from chalicelib.http import openapi
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.edge import Ctx, json_response
from chalicelib.http.requests import limit_param, points_value, string_value
from chalicelib.payments.ledger import check_conservation
from chalicelib.payments.qr import decode_merchant_qr
from chalicelib.payments.service import PayCommand, validate_idempotency_key

PAYMENT = {
    "type": "object",
    "required": ["payment_id", "merchant_id", "consumer_id", "amount", "status", "completed_at", "cancelled_at"],
    "properties": {
        "payment_id": {"type": "string", "description": "決済ID (10 characters, Crockford base32)"},
        "merchant_id": {"type": "string"}, "consumer_id": {"type": "string"}, "name_ja": {"type": "string"},
        "amount": openapi.POINTS, "status": {"type": "string", "enum": ["completed", "cancelled"]},
        "completed_at": openapi.JST_TIME, "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
PAGE = [
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
]
openapi.register("create_payment", response=(201, {"allOf": [{"$ref": "#/components/schemas/Payment"}, {
    "type": "object", "required": ["balance_after"], "properties": {"balance_after": openapi.POINTS}}]}),
    request={"type": "object", "additionalProperties": False, "required": ["amount"],
             "properties": {"qr": {"type": "string"}, "merchant_id": {"type": "string"},
                            "amount": {"type": "integer", "minimum": 1}}},
    parameters=[{"name": "Idempotency-Key", "in": "header", "required": True,
                 "schema": {"type": "string", "minLength": 1, "maxLength": 255}}],
    schemas={"Payment": PAYMENT})
openapi.register("get_payment", response=(200, {"$ref": "#/components/schemas/Payment"}))
openapi.register("get_wallet", response=(200, {"type": "object", "required": ["balance", "lots", "expired"],
    "properties": {"balance": openapi.POINTS, "expired": openapi.POINTS,
                   "lots": {"type": "array", "items": {"type": "object", "properties": {
                       "expires_on": {"type": "string", "format": "date"}, "points": openapi.POINTS}}}}}))
openapi.register("wallet_payments", response=(200, {"type": "object", "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Payment"}},
    "next_cursor": {"type": ["string", "null"]}}}), parameters=PAGE)
openapi.register("create_grant", response=(201, {"type": "object", "required": [
    "grant_id", "consumer_id", "points", "expires_on"], "properties": {
    "grant_id": {"type": "string"}, "consumer_id": {"type": "string"}, "points": openapi.POINTS,
    "expires_on": {"type": "string", "format": "date"}}}),
    request={"type": "object", "additionalProperties": False, "required": ["consumer_id", "points", "expires_on"],
             "properties": {"consumer_id": {"type": "string"}, "points": {"type": "integer", "minimum": 1},
                            "expires_on": {"type": "string", "format": "date"}, "grant_id": {"type": "string"}}})


def create_payment(ctx: Ctx) -> Response:
    c = ctx.container
    key = validate_idempotency_key(ctx.header("idempotency-key"))
    body = ctx.body(allowed={"qr", "merchant_id", "amount"}, required={"amount"})
    amount = points_value(body["amount"], "amount", maximum=c.settings.max_payment_points)
    if ("qr" in body) == ("merchant_id" in body):
        raise InvalidRequest("qr か merchant_id のどちらか一方を指定してください。", param="qr")
    if "qr" in body:
        qr = string_value(body["qr"], "qr", max_len=512)
        merchant_id = decode_merchant_qr(qr, guid=c.settings.scheme_guid).merchant_id
    else:
        merchant_id = string_value(body["merchant_id"], "merchant_id", max_len=64)
    result = c.payments.pay(PayCommand(consumer_id=ctx.me.subject, idempotency_key=key, amount=amount,
                                       merchant_id=merchant_id, request_body=body))
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return json_response(result.body, status=result.status, headers=headers)


def get_payment(ctx: Ctx, payment_id: str) -> Response:
    return json_response(ctx.container.payments.consumer_payment(ctx.me.subject, payment_id).to_api())


def get_wallet(ctx: Ctx) -> Response:
    c = ctx.container
    now = c.clock.now()
    wallet = c.payments.wallet(ctx.me.subject)
    return json_response({
        "consumer_id": ctx.me.subject,
        "balance": wallet.balance(now),
        "lots": [{"expires_on": day.isoformat(), "points": pts} for day, pts in wallet.breakdown(now)],
        "expired": wallet.expired(now),
        "as_of": jst_iso(now),
    })


def wallet_payments(ctx: Ctx) -> Response:
    c = ctx.container
    params = ctx.query_params({"cursor", "limit"})
    scope = f"wallet-payments|{ctx.me.subject}"
    start = decode_cursor(c.settings.session_secret, scope, params.get("cursor"))
    items, last = c.payments.consumer_history(ctx.me.subject, limit=limit_param(params.get("limit"), default=20),
                                              start_key=start)
    return json_response({"items": [p.to_api() for p in items],
                          "next_cursor": encode_cursor(c.settings.session_secret, scope, last)})


def create_grant(ctx: Ctx) -> Response:
    body = ctx.body(allowed={"consumer_id", "points", "expires_on", "grant_id"},
                    required={"consumer_id", "points", "expires_on"})
    service = ctx.container.grants
    outcome = service.grant(service.command(consumer_id=body["consumer_id"], points=body["points"],
                                            expires_on=body["expires_on"], grant_id=body.get("grant_id")))
    headers = {} if outcome.created else {"Idempotent-Replayed": "true"}
    return json_response(outcome.grant.to_api(), status=201, headers=headers)


openapi.register("admin_ledger_check", response=(200, {"type": "object", "required": ["ok", "difference"],
                                                     "properties": {
    "ok": {"type": "boolean"}, "difference": {"type": "integer"}, "granted": openapi.POINTS,
    "wallet_balances": openapi.POINTS, "sales_outstanding": openapi.POINTS, "expired": openapi.POINTS,
    "problems": {"type": "array", "items": {"type": "string"}}}}))


def ledger_check(ctx: Ctx) -> Response:
    c = ctx.container
    report = check_conservation(c.table.scan(), c.clock.now())
    return json_response({
        "ok": report.ok, "difference": report.difference, "granted": report.granted,
        "wallet_balances": report.wallet_balances, "sales_outstanding": report.sales_outstanding,
        "expired": report.expired, "wallets": report.wallets, "payments": report.payments,
        "problems": report.problems[:100],
    })
