"""Hypothesis stateful test: random grants, claim-code batches and claims, payments, idempotent retries
and expiry, with the conservation rule of SPEC §2 checked against the real store after every step."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, MultipleResults, RuleBasedStateMachine, initialize, invariant, multiple, rule

from chalicelib.core.clock import JST, FixedClock
from chalicelib.core.errors import (
    ClaimCodeNotFound,
    ClaimCodeUsed,
    IdempotencyKeyReused,
    InsufficientPoints,
    TooManyAttempts,
)
from chalicelib.http.routes.payments import render_created
from chalicelib.payments import claim_codes
from chalicelib.payments.commands import ClaimBatchRequest
from chalicelib.payments.service import PayCommand
from devstack.engine import LocalEngine
from tests.support import drive
from tests.support.stack import Stack, build_stack

pytestmark = pytest.mark.slow
CONSUMERS = ["C-A", "C-B", "C-C"]


def make_machine(engine: LocalEngine, keys_dir: Path) -> type[RuleBasedStateMachine]:
    class Ledger(RuleBasedStateMachine):
        keys = Bundle("keys")
        codes = Bundle("codes")

        @initialize()
        def start(self) -> None:
            self.clock = FixedClock(dt.datetime(2026, 11, 1, 10, 0, tzinfo=JST))
            self.stack: Stack = build_stack(engine, keys_dir, clock=self.clock)
            c = self.stack.container
            self.merchant = drive.register(c, name_ja="店", name_en="SHOP").merchant
            self.granted = 0
            self.model_paid = 0
            self.bodies: dict[tuple[str, str], dict[str, int | str]] = {}
            self.succeeded: set[tuple[str, str]] = set()
            self.batches: dict[str, list[int]] = {}  # batch -> [issued, claimed] points
            self.claimed: set[str] = set()

        @rule(consumer=st.sampled_from(CONSUMERS), points=st.integers(1, 3000), days=st.integers(0, 40))
        def grant(self, consumer: str, points: int, days: int) -> None:
            today = self.clock.now().astimezone(JST).date()
            drive.grant(self.stack.container, consumer, points, today + dt.timedelta(days=days))
            self.granted += points

        @rule(target=codes, count=st.integers(1, 3), points=st.integers(1, 2000), days=st.integers(0, 30))
        def issue(self, count: int, points: int, days: int) -> MultipleResults[tuple[str, str, int]]:
            c = self.stack.container
            batch_id = f"B{len(self.batches)}"
            today = self.clock.now().astimezone(JST).date()
            c.claims.create_batch(ClaimBatchRequest(count=count, points=points,
                                                    expires_on=today + dt.timedelta(days=days), batch_id=batch_id))
            self.batches[batch_id] = [count * points, 0]
            key = c.keys().claim_key
            return multiple(*((batch_id, claim_codes.derive(key, batch_id, i), points) for i in range(count)))

        @rule(code=codes, consumer=st.sampled_from(CONSUMERS), typo=st.booleans())
        def claim(self, code: tuple[str, str, int], consumer: str, typo: bool) -> None:
            batch_id, text, points = code
            if typo:
                text = text[:-1] + ("0" if text[-1] != "0" else "1")
            try:
                claimed = self.stack.container.claims.claim(consumer, text)
            except (ClaimCodeUsed, ClaimCodeNotFound, TooManyAttempts) as exc:
                assert typo or text in self.claimed or not isinstance(exc, ClaimCodeUsed)
                return
            assert not typo and text not in self.claimed and claimed.points == points
            self.claimed.add(text)
            self.batches[batch_id][1] += points
            self.granted += points  # a claimed code is a grant

        @rule(target=keys, consumer=st.sampled_from(CONSUMERS), amount=st.integers(1, 2500))
        def pay(self, consumer: str, amount: int) -> tuple[str, str]:
            key = uuid.uuid4().hex
            body: dict[str, int | str] = {"merchant_id": self.merchant.merchant_id, "amount": amount}
            self.bodies[(consumer, key)] = body
            if self._pay(consumer, key, body):
                self.succeeded.add((consumer, key))
            return consumer, key

        @rule(entry=keys, change=st.booleans())
        def retry(self, entry: tuple[str, str], change: bool) -> None:
            consumer, key = entry
            body = dict(self.bodies[entry])
            if change and entry in self.succeeded:
                body["amount"] = int(body["amount"]) + 1
                with pytest.raises(IdempotencyKeyReused):
                    self._pay(consumer, key, body)
            elif entry in self.succeeded:
                before = self._paid_total()
                assert self._pay(consumer, key, body)
                assert self._paid_total() == before  # a retry never debits again

        @rule(hours=st.integers(1, 24 * 20))
        def time_passes(self, hours: int) -> None:
            self.clock.advance(hours=hours)

        def _pay(self, consumer: str, key: str, body: dict[str, int | str]) -> bool:
            """True when the payment went through (first time or replayed); a refused one writes nothing."""
            payments = self.stack.container.payments
            try:
                payments.pay(PayCommand(consumer_id=consumer, idempotency_key=key, amount=int(body["amount"]),
                                        store_id=str(body["merchant_id"]),
                                        fingerprint=json.dumps(body, sort_keys=True)), render_created)
            except InsufficientPoints:
                return False
            return True

        def _paid_total(self) -> int:
            return sum(i["amount"] for i in self.stack.all_items() if i["sk"] == "PAYMENT")

        @invariant()
        def conserved(self) -> None:
            if not hasattr(self, "stack"):
                return
            report = self.stack.ledger(self.clock.now())
            assert report.granted == self.granted
            assert {b.batch_id: [b.issued, b.claimed] for b in report.claim_batches} == self.batches
            assert report.ok, (report.difference, report.problems)

    return Ledger


def test_conservation_holds_after_every_step(engine: LocalEngine, keys_dir: Path) -> None:
    machine = make_machine(engine, keys_dir)
    machine.TestCase.settings = settings(max_examples=15, stateful_step_count=20, deadline=None,
                                         suppress_health_check=list(HealthCheck))
    machine.TestCase().runTest()
