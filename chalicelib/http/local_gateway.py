"""Local-only: make ``chalice local`` and ``chalice.test.Client`` answer unknown routes like the
deployed API does.

API Gateway answers a path with no resource with 403 "Missing Authentication Token"; the deployed
stack replaces that body through a ``AWS::ApiGateway::GatewayResponse`` (see infrastructure/) with
our 404 ``not_found`` error. Chalice's local gateway imitates the raw API Gateway answer, so on the
local stage we wrap it the same way. In Lambda ``chalice.local`` is not packaged, and nothing here runs.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from chalicelib.http.errors import JSON_HEADERS, error_body

_installed = False


def install() -> None:
    """Patch chalice's local gateway if it is loaded: ``chalice local`` and ``chalice.test`` import it
    before the app. A deployed function never has it, and a plain ``import app`` does not pay for it."""
    global _installed
    if _installed or "chalice.local" not in sys.modules:
        return
    from chalice import local
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
    # http.server answers a method it has no ``do_<METHOD>`` for with its own HTML 501; API Gateway
    # passes any method to the resource, and the app answers 405 in the JSON error shape.
    def any_method(self: Any, name: str) -> Any:
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    local.ChaliceRequestHandler.__getattr__ = any_method  # type: ignore[attr-defined]
    _installed = True
