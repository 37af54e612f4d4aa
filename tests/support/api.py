"""A small JSON client over ``chalice.test.Client`` so tests read like the API they exercise."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from chalice.test import Client

from chalicelib.http import local_gateway
from tests.support.conformance import Conformance

local_gateway.install()  # chalice.test loaded chalice.local: unknown routes answer like API Gateway's


@dataclasses.dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"]["code"])
        return None


_conformance: Conformance | None = None


def conformance() -> Conformance:
    """Built once from the document the app serves on the local stage."""
    global _conformance
    if _conformance is None:
        from chalicelib import bootstrap
        from chalicelib.http.openapi import document

        _conformance = Conformance(document(bootstrap.container().settings))
    return _conformance


class Api:
    """Calls the app in-process; every answer is checked against the OpenAPI document."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        hdrs = {"Host": "127.0.0.1:8000"}
        if body is not None or raw is not None:
            hdrs["Content-Type"] = "application/json"
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        resp = self.client.http.request(method, path, headers=hdrs, body=data)
        content_type = resp.headers.get("Content-Type") or resp.headers.get("content-type") or ""
        parsed: Any = resp.body
        if "json" in content_type and resp.body:
            parsed = json.loads(resp.body)
        conformance().check(method, path, resp.status_code, content_type, parsed)
        return Reply(resp.status_code, parsed, dict(resp.headers), resp.body)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def login(self, login_id: str, password: str, *, keep_initial: bool = False) -> str:
        """A session token. An account that must change its initial password changes it here (to
        ``password + "-Changed1"``) unless ``keep_initial``: most tests are about something else."""
        reply = self.post("/v1/auth/login", {"login_id": login_id, "password": password})
        assert reply.status == 200, reply.body
        token = str(reply.body["token"])
        if reply.body["must_change_password"] and not keep_initial:
            changed = self.post("/v1/auth/password", {"current_password": password,
                                                      "new_password": changed_password(password)}, token=token)
            assert changed.status == 200, changed.body
            token = str(changed.body["token"])
        return token


def changed_password(initial: str) -> str:
    return initial + "-Changed1"
