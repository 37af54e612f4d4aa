"""OpenAPI fuzzing (schemathesis), bounded: every documented operation, called as its role with
generated valid and invalid input, over real HTTP on the local stack.

Checks on every answer: no 5xx, the status is documented for the operation, the body matches the
documented schema, the content type is the documented one. A handful of examples per operation
keeps the run within about a minute here; ``FUZZ_EXAMPLES`` raises it for a deeper run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from chalicelib import bootstrap
from chalicelib.http.openapi import document
from tests.support import drive
from tests.support.api import Api
from tests.support.local_api import serve_app
from tests.support.stack import Stack, build_stack
from tests.support.stack import test_env as stack_env

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
# Schema-valid input may still be refused by a business rule (a QR payload with a bad CRC, an expiry
# in the past), so "positive data is accepted" is not checked; everything else is.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.response_schema_conformance,
          checks.content_type_conformance, checks.unsupported_method, checks.negative_data_rejection,
          checks.missing_required_header, checks.ignored_auth]
OPERATOR = ("fuzz-operator", "fuzz-operator-pass")


def _schema() -> Any:
    from chalicelib.config import load_settings

    env = stack_env(Path("/nonexistent"))
    return schemathesis.openapi.from_dict(document(load_settings(env)))


schema = _schema()


@pytest.fixture(scope="module")
def served(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The app over HTTP, with one shop, one funded consumer and a token per role."""
    stack: Stack = build_stack(engine, tmp_path_factory.mktemp("fuzz-keys"))
    c = stack.container
    c.accounts.create(login_id=OPERATOR[0], role="operator", password=OPERATOR[1], merchant_id=None)
    reg = drive.register(c)
    drive.grant(c, "FUZZ-CONSUMER", 100_000, "2027-12-31")
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as client:
        api = Api(client)
        tokens = {"operator": api.login(*OPERATOR),
                  "merchant": api.login(reg.merchant.login_id, reg.initial_password),
                  "consumer": stack.consumer_token("FUZZ-CONSUMER", ttl=3 * 3600)}
    with serve_app() as base:
        yield base, tokens
    bootstrap.override(None)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_as_its_role(case: Any, served: tuple[str, dict[str, str]]) -> None:
    base, tokens = served
    roles = case.operation.definition.raw.get("x-roles", ["public"])
    headers = {"Authorization": f"Bearer {tokens[roles[0]]}"} if roles[0] in tokens else {}
    if case.operation.path == "/v1/payments" and case.method.upper() == "POST":
        headers["Idempotency-Key"] = os.urandom(8).hex()
    case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)
