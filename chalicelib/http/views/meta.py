"""The OpenAPI document and a health check."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.http.edge import Ctx, json_response
from chalicelib.http.openapi import build_document


def openapi(ctx: Ctx) -> Response:
    include_dev = ctx.container.settings.is_local
    return json_response(build_document(include_dev=include_dev))


def health(ctx: Ctx) -> Response:
    return json_response({"status": "ok"})
