"""Operator routes for merchants: register, list, QR images, printable letter, status, password."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.edge import Ctx, json_response
from chalicelib.http.requests import limit_param, string_value
from chalicelib.payments.qr_images import qr_letter_html
from chalicelib.payments.qr_images import qr_png as render_png
from chalicelib.payments.qr_images import qr_svg as render_svg


def register_merchant(ctx: Ctx) -> Response:
    body = ctx.body(allowed={"name_ja", "name_en", "mcc", "bank"}, required={"name_ja", "name_en", "bank"})
    reg = ctx.container.merchants.register(
        name_ja=body["name_ja"], name_en=body["name_en"], mcc=body.get("mcc"), bank=body["bank"]
    )
    return json_response(
        {
            **reg.merchant.to_admin(),
            "merchant_id": reg.merchant.merchant_id,
            "login_id": reg.merchant.login_id,
            "initial_password": reg.initial_password,
            "qr_payload": reg.qr_payload,
        },
        status=201,
    )


def list_merchants(ctx: Ctx) -> Response:
    params = ctx.query_params({"cursor", "limit"})
    secret = ctx.container.settings.session_secret
    start = decode_cursor(secret, "admin-merchants", params.get("cursor"))
    items, last = ctx.container.merchants.page(limit=limit_param(params.get("limit"), default=100), start_key=start)
    return json_response({
        "items": [m.to_admin() for m in items],
        "next_cursor": encode_cursor(secret, "admin-merchants", last),
    })


def get_merchant(ctx: Ctx, merchant_id: str) -> Response:
    merchant = ctx.container.merchants.get(merchant_id)
    return json_response({**merchant.to_admin(), "qr_payload": ctx.container.merchants.qr_payload(merchant)})


def qr_png(ctx: Ctx, merchant_id: str) -> Response:
    service = ctx.container.merchants
    payload = service.qr_payload(service.get(merchant_id))
    return Response(body=render_png(payload), status_code=200,
                    headers={"Content-Type": "image/png", "Cache-Control": "private, max-age=300"})


def qr_svg(ctx: Ctx, merchant_id: str) -> Response:
    service = ctx.container.merchants
    payload = service.qr_payload(service.get(merchant_id))
    return Response(body=render_svg(payload).decode("utf-8"), status_code=200,
                    headers={"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "private, max-age=300"})


def letter(ctx: Ctx, merchant_id: str) -> Response:
    """The printable letter. POST with ``{"initial_password"}`` prints the password just issued by
    register or reset-password (the store keeps only its hash, so it cannot be printed later)."""
    password = None
    if ctx.request.method == "POST":
        body = ctx.body(allowed={"initial_password"}, required={"initial_password"})
        password = string_value(body["initial_password"], "initial_password", max_len=64)
    service = ctx.container.merchants
    merchant = service.get(merchant_id)
    settings = ctx.container.settings
    base = settings.public_base_url or f"http://{ctx.header('host') or '127.0.0.1:8000'}"
    html = qr_letter_html(
        payload=service.qr_payload(merchant), name_ja=merchant.name_ja, name_en=merchant.name_en,
        merchant_id=merchant.merchant_id, login_id=merchant.login_id, initial_password=password,
        console_url=f"{base}/console/", contact_phone=settings.contact_merchant_phone,
    )
    return Response(body=html, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


def set_status(ctx: Ctx, merchant_id: str, status: str) -> Response:
    merchant = ctx.container.merchants.set_status(merchant_id, status)
    return json_response(merchant.to_admin())


def reset_password(ctx: Ctx, merchant_id: str) -> Response:
    merchant, password = ctx.container.merchants.reset_password(merchant_id)
    return json_response({**merchant.to_admin(), "initial_password": password})
