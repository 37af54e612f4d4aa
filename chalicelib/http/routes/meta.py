"""The OpenAPI document and a health check."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.http.routing import Ctx, Routes, json_response
from chalicelib.http.schemas import Ok

routes = Routes(__name__)


@routes.route("/v1/openapi.json", summary="この API の OpenAPI 3 定義", response="application/json")
def openapi(ctx: Ctx) -> Response:
    from chalicelib.http.openapi import document

    return json_response(document(ctx.container.settings))


@routes.route("/v1/health", summary="死活監視", response=Ok)
def health(ctx: Ctx) -> Ok:
    return Ok()
