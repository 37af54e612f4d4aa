"""Consumer routes (shop lookup, pay, own payments, wallet) and the operator's grant and ledger check."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidQR,
    InvalidRequest,
    MerchantUnavailable,
)
from chalicelib.http.bodies import encode
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.routing import Ctx, HeaderParam, Reply, Routes
from chalicelib.http.schemas import JstTime, PageQuery, Points
from chalicelib.payments.commands import GrantRequest, PaymentRequest
from chalicelib.payments.model import Payment
from chalicelib.payments.service import PayCommand, fingerprint, validate_idempotency_key

routes = Routes(__name__)
CONSUMER = ["consumer"]
OPERATOR = ["operator"]


class LookupQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    qr: Annotated[str, Meta(min_length=1, max_length=512, description="the scanned QR payload")]


class ShopOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    merchant_id: str
    name_ja: str
    name_en: str
    store_id: Annotated[str | None, Meta(description="an added shop's id (absent for the merchant's default shop, "
                                                     "whose id is merchant_id: SPEC §11's shape)")] = None


class PaymentOut(msgspec.Struct, kw_only=True):
    payment_id: Annotated[str, Meta(description="決済ID (10 characters, Crockford base32)")]
    merchant_id: str
    store_id: Annotated[str, Meta(description="the shop paid at (the default shop has the merchant id)")]
    store_name: Annotated[str, Meta(description="the shop's name")]
    consumer_id: str
    name_ja: str
    amount: Points
    status: Literal["completed", "cancelled"]
    completed_at: JstTime
    cancelled_at: JstTime | None


class PaymentCreated(PaymentOut, kw_only=True):
    balance_after: Points


class PaymentList(msgspec.Struct):
    items: list[PaymentOut]
    next_cursor: str | None


class LotOut(msgspec.Struct):
    expires_on: str
    points: Points


class WalletOut(msgspec.Struct):
    consumer_id: str
    balance: Points
    lots: list[LotOut]
    expired: Points
    as_of: JstTime


class GrantOut(msgspec.Struct):
    grant_id: str
    consumer_id: str
    points: Points
    expires_on: str


def payment_fields(p: Payment) -> dict[str, object]:
    return {"payment_id": p.payment_id, "merchant_id": p.merchant_id, "store_id": p.store_id,
            "store_name": p.store_name, "consumer_id": p.consumer_id,
            "name_ja": p.name_ja, "amount": p.amount, "status": p.status,
            "completed_at": jst_iso(p.completed_at),
            "cancelled_at": jst_iso(p.cancelled_at) if p.cancelled_at else None}


def payment_out(p: Payment) -> PaymentOut:
    return PaymentOut(**payment_fields(p))  # type: ignore[arg-type]


def render_created(payment: Payment, balance_after: int) -> str:
    """The 201 body of a payment, as stored for idempotent replays."""
    created = PaymentCreated(**payment_fields(payment), balance_after=balance_after)  # type: ignore[arg-type]
    return encode(created).decode("utf-8")


IDEMPOTENCY_KEY = HeaderParam("Idempotency-Key", True, {"type": "string", "minLength": 1, "maxLength": 255},
                              "one key per payment attempt: a retry with the same key and body replays the answer")


def _canonical(body: PaymentRequest) -> bytes:
    """The body as the same-body check compares it: without ``store_id`` when absent, so that keys
    stored before the field existed still match a retry of the same request."""
    fields = msgspec.structs.asdict(body)
    if fields["store_id"] is None:
        del fields["store_id"]
    return encode(fields)


@routes.route("/v1/merchants/lookup", summary="QRコードから店舗を調べる", roles=CONSUMER, query=LookupQuery,
              response=ShopOut, errors=[InvalidQR, MerchantUnavailable])
def lookup_merchant(ctx: Ctx, query: LookupQuery) -> ShopOut:
    s = ctx.container.merchants.lookup_qr(query.qr)
    return ShopOut(merchant_id=s.merchant_id, name_ja=s.name_ja, name_en=s.name_en,
                   store_id=None if s.store_id == s.merchant_id else s.store_id)


@routes.route("/v1/payments", "POST", summary="ポイントで支払う", roles=CONSUMER, status=201, body=PaymentRequest,
              response=PaymentCreated, headers=[IDEMPOTENCY_KEY],
              errors=[InvalidQR, InsufficientPoints, MerchantUnavailable, IdempotencyKeyReused,
                      IdempotencyInProgress])
def create_payment(ctx: Ctx, body: PaymentRequest) -> Reply:
    c = ctx.container
    key = validate_idempotency_key(ctx.header("idempotency-key"))
    if sum(x is not None for x in (body.qr, body.merchant_id, body.store_id)) != 1:
        raise InvalidRequest("qr・store_id・merchant_id のどれか一つを指定してください。", param="qr")
    if body.qr is not None:
        store_id = c.merchants.merchant_id_from_qr(body.qr)  # the QR's merchant-id field names the shop
    else:
        store_id = str(body.store_id or body.merchant_id)

    result = c.payments.pay(PayCommand(consumer_id=ctx.me.subject, idempotency_key=key, amount=body.amount,
                                       store_id=store_id, fingerprint=fingerprint(_canonical(body)),
                                       default_only=body.merchant_id is not None),
                            render_created)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return Reply(result.body, status=result.status, headers=headers)


@routes.route("/v1/payments/{payment_id}", summary="自分の決済の詳細", roles=CONSUMER, response=PaymentOut)
def get_payment(ctx: Ctx, payment_id: str) -> PaymentOut:
    return payment_out(ctx.container.payments.consumer_payment(ctx.me.subject, payment_id))


@routes.route("/v1/wallet", summary="ポイント残高と有効期限ごとの内訳", roles=CONSUMER, response=WalletOut)
def get_wallet(ctx: Ctx) -> WalletOut:
    c = ctx.container
    now = c.clock.now()
    wallet = c.payments.wallet(ctx.me.subject)
    return WalletOut(consumer_id=ctx.me.subject, balance=wallet.balance(now),
                     lots=[LotOut(day.isoformat(), pts) for day, pts in wallet.breakdown(now)],
                     expired=wallet.expired(now), as_of=jst_iso(now))


@routes.route("/v1/wallet/payments", summary="自分の利用履歴", roles=CONSUMER, query=PageQuery, response=PaymentList)
def wallet_payments(ctx: Ctx, query: PageQuery) -> PaymentList:
    c = ctx.container
    scope = f"wallet-payments|{ctx.me.subject}"
    after = decode_cursor(c.cursor_secret, scope, query.cursor)
    items, last = c.payments.consumer_history(ctx.me.subject, limit=query.limit or 20, after=after)
    return PaymentList(items=[payment_out(p) for p in items],
                       next_cursor=encode_cursor(c.cursor_secret, scope, last))


@routes.route("/v1/admin/grants", "POST", summary="利用者にポイントを付与", roles=OPERATOR, status=201,
              body=GrantRequest, response=GrantOut, errors=[IdempotencyKeyReused])
def create_grant(ctx: Ctx, body: GrantRequest) -> Reply:
    outcome = ctx.container.grants.grant(body)
    g = outcome.grant
    headers = {} if outcome.created else {"Idempotent-Replayed": "true"}
    if outcome.created:  # a replay granted nothing
        ctx.audit("grant", g.consumer_id, detail=f"{g.grant_id}: {g.points} pt, {g.expires_on.isoformat()}")
    return Reply(GrantOut(g.grant_id, g.consumer_id, g.points, g.expires_on.isoformat()), headers=headers)
