"""Every answer a test receives, checked against the OpenAPI document the app serves.

A documented route must answer only statuses its operation lists, with a body that validates
against the listed schema; a ``/v1`` path the document does not know must answer 404, and a
method the path does not document 405. A failure names the operation, the status and the problem.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema


class Conformance:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.paths = [(self._pattern(path), path, ops) for path, ops in document["paths"].items()]
        self.checked = 0

    @staticmethod
    def _pattern(path: str) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")

    @functools.cache  # noqa: B019 - one instance per test session
    def _validator(self, pointer: str) -> jsonschema.Draft202012Validator:
        schema = {"$ref": pointer, "components": self.document["components"]}
        return jsonschema.Draft202012Validator(schema)

    def check(self, method: str, path: str, status: int, content_type: str, body: Any) -> None:
        path = path.split("?", 1)[0]
        if not path.startswith("/v1/"):
            return
        found = next(((template, ops) for pattern, template, ops in self.paths if pattern.match(path)), None)
        if found is None:
            assert status == 404, f"{method} {path}: undocumented path answered {status}, expected 404"
            return
        template, ops = found
        op = ops.get(method.lower())
        if op is None:
            assert status in (404, 405), f"{method} {template}: undocumented method answered {status}"
            return
        responses = op["responses"]
        assert str(status) in responses, (
            f"{method} {template} ({op['operationId']}) answered {status}, "
            f"documented: {sorted(responses)}: {body!r}"[:600])
        content = responses[str(status)].get("content", {})
        if "application/json" in content and "json" in content_type:
            schema = content["application/json"]["schema"]
            if "$ref" in schema:
                errors = sorted(self._validator(schema["$ref"]).iter_errors(body), key=str)
                assert not errors, f"{method} {template} {status}: {errors[0].message} at {list(errors[0].path)}"
        self.checked += 1
