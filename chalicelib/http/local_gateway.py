"""Local-only: make ``chalice local`` and ``chalice.test.Client`` answer unknown routes like the
deployed API does.

API Gateway answers a path with no resource with 403 "Missing Authentication Token"; the deployed
stack replaces that body through a ``AWS::ApiGateway::GatewayResponse`` (see infrastructure/) with
our 404 ``not_found`` error. Chalice's local gateway imitates the raw API Gateway answer, so on the
local stage we wrap it the same way. In Lambda ``chalice.local`` is not packaged, and nothing here runs.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.http.errors import JSON_HEADERS, error_body

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    try:
        from chalice import local
    except ImportError:  # deployed: API Gateway's GatewayResponse does this job
        return
    original = local.LocalGateway.handle_request

    def handle_request(self: Any, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Any:
        try:
            return original(self, method, path, headers, body)
        except local.ForbiddenError as exc:
            if b"Missing Authentication Token" not in (exc.body or b""):
                raise
            return {
                "statusCode": 404,
                "headers": dict(JSON_HEADERS),
                "multiValueHeaders": {},
                "body": json.dumps(error_body("not_found", "このURLはありません。"), ensure_ascii=False),
            }

    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    _installed = True
