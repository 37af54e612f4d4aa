"""The OpenAPI document is generated from the route declarations and holds for every answer.

Every functional test's answers pass through :mod:`tests.support.conformance`; these tests show
that the check has teeth and that the statuses a person meets most (401, 405, 415, 429) are listed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, conformance
from tests.support.conformance import Conformance


def op(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"][path][method]
    return operation


def test_login_lists_every_answer_it_can_give(api: Api) -> None:
    doc = api.get("/v1/openapi.json").body
    assert set(op(doc, "/v1/auth/login", "post")["responses"]) == {"200", "400", "401", "405", "415", "429"}
    pay = op(doc, "/v1/payments", "post")
    assert {"201", "400", "401", "403", "405", "409", "415"} <= set(pay["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"] for p in pay["parameters"])
    schema = pay["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PaymentRequest"}


def test_points_are_integers_and_unknown_fields_are_refused_in_the_schemas(api: Api) -> None:
    schemas = api.get("/v1/openapi.json").body["components"]["schemas"]
    request = schemas["PaymentRequest"]
    assert request["additionalProperties"] is False and request["required"] == ["amount"]
    assert request["properties"]["amount"]["type"] == "integer" and request["properties"]["amount"]["minimum"] == 1
    assert schemas["Error"]["required"] == ["error"]


def test_wrong_method_and_media_type_answer_the_documented_json_errors(api: Api, operator_token: str) -> None:
    wrong_method = api.call("DELETE", "/v1/wallet")
    assert (wrong_method.status, wrong_method.error_code) == (405, "invalid_request")
    wrong_type = api.call("POST", "/v1/auth/login", raw=b"login_id=a", headers={"Content-Type": "text/plain"})
    assert (wrong_type.status, wrong_type.error_code) == (415, "invalid_request")
    unknown = api.get("/v1/no-such-thing")
    assert (unknown.status, unknown.error_code) == (404, "not_found")


def test_the_check_fails_an_undocumented_status_or_a_body_off_its_schema(api: Api) -> None:
    checker = Conformance(api.get("/v1/openapi.json").body)
    before = conformance().checked
    api.get("/v1/health")
    assert conformance().checked == before + 1
    with pytest.raises(AssertionError, match="answered 418"):
        checker.check("GET", "/v1/health", 418, "application/json", {})
    with pytest.raises(AssertionError, match="is not of type"):
        checker.check("GET", "/v1/health", 200, "application/json", {"status": 1})
    with pytest.raises(AssertionError, match="undocumented path"):
        checker.check("GET", "/v1/nowhere", 200, "application/json", {})
