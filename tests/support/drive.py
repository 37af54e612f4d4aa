"""Driving the services directly in tests: grants, shops and payments in one line each."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from chalicelib.bootstrap import Container
from chalicelib.http.routes.payments import render_created
from chalicelib.merchants.bank import bank_account
from chalicelib.merchants.service import Registration
from chalicelib.payments.commands import GrantRequest
from chalicelib.payments.grants import GrantOutcome
from chalicelib.payments.service import PayCommand

BANK = {"bank_code": "0001", "branch_code": "123", "account_type": 1, "account_number": "1234567",
        "holder_kana": "オナガワショウテン"}


def grant(c: Container, consumer_id: str, points: int, expires_on: str | dt.date,
          grant_id: str | None = None) -> GrantOutcome:
    day = dt.date.fromisoformat(expires_on) if isinstance(expires_on, str) else expires_on
    return c.grants.grant(GrantRequest(consumer_id=consumer_id, points=points, expires_on=day, grant_id=grant_id))


def register(c: Container, name_ja: str = "女川商店", name_en: str = "ONAGAWA SHOTEN",
             bank: dict[str, Any] | None = None, **kwargs: Any) -> Registration:
    """A shop whose login works at once: its password is given (as for the demo shop), so it is not
    an initial one to change. Tests of the first login register through the API instead."""
    kwargs.setdefault("password", "shop-pass-" + uuid.uuid4().hex[:12])
    return c.merchants.register(name_ja=name_ja, name_en=name_en, mcc=None, bank=bank_account(**(bank or BANK)),
                                **kwargs)


def pay(c: Container, consumer_id: str, merchant_id: str, amount: int, key: str | None = None) -> dict[str, Any]:
    """A payment through the service (as the API makes it); the 201 body."""
    key = key or uuid.uuid4().hex
    result = c.payments.pay(PayCommand(consumer_id=consumer_id, idempotency_key=key, amount=amount,
                                       store_id=merchant_id, fingerprint=key), render_created)
    body: dict[str, Any] = json.loads(result.body)
    return body


def add_store(c: Container, merchant_id: str, name_ja: str = "女川商店 駅前店", name_en: str = "ONAGAWA EKIMAE") -> str:
    """A second (third, ...) shop of the merchant, as the operator adds it; its id."""
    return c.merchants.add_store(merchant_id, name_ja=name_ja, name_en=name_en, mcc=None).store_id
