"""Consumer: find the shop behind a scanned QR payload."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.core.errors import InvalidQR
from chalicelib.http.edge import Ctx, json_response


def lookup(ctx: Ctx) -> Response:
    params = ctx.query_params({"qr"})
    payload = params.get("qr")
    if not payload:
        raise InvalidQR("qr パラメータにQRコードの内容を指定してください。", param="qr")
    merchant = ctx.container.merchants.lookup_qr(payload)
    return json_response(merchant.to_public())
