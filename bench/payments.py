"""Benchmark: the payment path.

1. DynamoDB requests per successful payment through the whole app (target: one GetItem of the
   wallet and one TransactWriteItems, nothing else).
   The consumer signs in to the local engine's Cognito user pool, as on a deployed stage; the token
   check's cost with a warm key cache is printed against PyJWT's bare RS256 decode.
2. Payments per second through the whole app (chalice.test.Client: routing, RS256 token check,
   JSON parsing, the service, the response) against the single-threaded moto server, as a ratio
   to the floor: the same GetItem + TransactWriteItems (six items) issued directly with boto3, in the same run,
   interleaved in rounds so both see the same machine load.
"""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # no access log lines between the figures
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import json
import random
import time
import uuid
from typing import Any

from chalice.test import Client

from app import app
from bench.common import RequestCounter, avs, emit, median, raw_client, start_stack, today_plus
from chalicelib.core.clock import jst_date, utc_key
from chalicelib.core.ids import new_id
from chalicelib.core.periods import period_of
from chalicelib.store.connection import client as store_client
from tests.support import drive

ROUNDS = 6
PER_ROUND = 60  # moto deep-copies the table on every transaction: keep it small and fair
BANK = {"bank_code": "0001", "branch_code": "001", "account_type": 1, "account_number": "1234567",
        "holder_kana": "ﾍﾞﾝﾁ"}


def main() -> None:
    engine, c, _ = start_stack()
    try:
        merchant = drive.register(c, name_ja="ベンチ商店", name_en="BENCH SHOP", bank=BANK).merchant
        token, resident = cognito_token(c)  # a resident of the local engine's user pool, as deployed
        drive.grant(c, resident, 1_000_000, today_plus(365))
        drive.grant(c, "BENCH-FLOOR", 1_000_000, today_plus(365))
        token_check_cost(c, token)
        counter = RequestCounter(store_client())
        floor_client = raw_client()
        client = Client(app, stage_name="local")
        client.__enter__()
        body = json.dumps({"merchant_id": merchant.merchant_id, "amount": 1}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def app_round(n: int) -> float:
            started = time.perf_counter()
            for _ in range(n):
                resp = client.http.post("/v1/payments", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                                        body=body)
                assert resp.status_code == 201, resp.body
            return n / (time.perf_counter() - started)

        def floor_round(n: int) -> float:
            started = time.perf_counter()
            for _ in range(n):
                floor_payment(c, floor_client, merchant.merchant_id)
            return n / (time.perf_counter() - started)

        app_round(5)  # warm: merchant cache, JWKS, connections
        counter.reset()
        app_round(50)
        per_payment = {name: count / 50 for name, count in counter.calls.items()}
        emit("dynamodb_requests_per_payment", sum(per_payment.values()))
        for name in sorted(per_payment):
            emit(f"{name}_per_payment", per_payment[name])
        floor_round(5)
        # moto copies the whole table on every transaction, so later rounds are slower: alternate
        # which side goes first so neither always runs on the bigger table.
        app_rates, floor_rates = [], []
        for i in range(ROUNDS):
            if i % 2 == 0:
                app_rates.append(app_round(PER_ROUND))
                floor_rates.append(floor_round(PER_ROUND))
            else:
                floor_rates.append(floor_round(PER_ROUND))
                app_rates.append(app_round(PER_ROUND))
        app_rate, floor_rate = median(app_rates), median(floor_rates)
        emit("app_payments_per_second", app_rate)
        emit("floor_payments_per_second", floor_rate)
        emit("ratio_vs_floor", floor_rate / app_rate)
        emit("target_ratio", 1.3)
        client.__exit__(None, None, None)
    finally:
        engine.stop()


def cognito_token(c: object) -> tuple[str, str]:
    """An access token of the pool (sign-up, confirmation, sign-in through the API's own adapter)."""
    import jwt

    from chalicelib.bootstrap import Container

    assert isinstance(c, Container) and c.settings.cognito_enabled
    c.residents.sign_up("bench@example.jp", "bench-password-1")
    c.residents.confirm("bench@example.jp", "000000")
    access = c.residents.sign_in("bench@example.jp", "bench-password-1").access_token
    return access, str(jwt.decode(access, options={"verify_signature": False})["sub"])


def token_check_cost(c: object, token: str, n: int = 2000) -> None:
    """The consumer token check with a warm key cache, against its floor: PyJWT's RS256 decode with
    the key already in hand (what any verifier must do)."""
    import jwt

    from chalicelib.bootstrap import Container

    assert isinstance(c, Container)
    tokens = c.consumer_tokens
    tokens.verify(token)  # warm: the key set fetched once
    header = jwt.get_unverified_header(token)
    issuer = next(iter(tokens.issuers.values()))
    key = issuer.keys.key(header["kid"])  # type: ignore[union-attr]
    app_times, floor_times = [], []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n // 5):
            tokens.verify(token)
        app_times.append((time.perf_counter() - started) / (n // 5))
        started = time.perf_counter()
        for _ in range(n // 5):
            jwt.decode(token, key=key, algorithms=["RS256"], options={"verify_aud": False})
        floor_times.append((time.perf_counter() - started) / (n // 5))
    app_us, floor_us = median(app_times) * 1e6, median(floor_times) * 1e6
    emit("token_check_microseconds", app_us)
    emit("token_check_floor_microseconds", floor_us)
    emit("token_check_ratio_vs_floor", app_us / floor_us)
    emit("key_set_fetches", getattr(issuer.keys, "fetches", 0))


def floor_payment(c: object, ddb: Any, merchant_id: str) -> None:
    """The bare minimum a payment needs: read the wallet, write the same six items atomically (wallet,
    payment, the shop's status check, idempotency record, a shard of the day's and the period's total)."""
    from chalicelib.bootstrap import Container

    assert isinstance(c, Container)
    table = c.settings.table_name
    now = c.clock.now()
    wallet = ddb.get_item(TableName=table, Key=avs({"pk": "WALLET#BENCH-FLOOR", "sk": "WALLET"}),
                          ConsistentRead=True)["Item"]
    version = int(wallet["version"]["N"])
    lot = wallet["lots"]["L"][0]["M"]
    lots = [{"id": lot["id"]["S"], "exp": lot["exp"]["S"], "pts": int(lot["pts"]["N"]) - 1}]
    pid, at, key = new_id(10), utc_key(now), uuid.uuid4().hex
    day, period, shard = jst_date(now).isoformat(), period_of(now).id, random.randrange(8)
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": avs({"pk": "WALLET#BENCH-FLOOR", "sk": "WALLET"}),
                    "UpdateExpression": "SET lots = :lots, version = :next", "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": avs({":lots": lots, ":next": version + 1, ":v": version})}},
        {"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(pk)", "Item": avs({
            "pk": f"PAYMENT#{pid}", "sk": "PAYMENT", "merchant_id": merchant_id, "consumer_id": "BENCH-FLOOR",
            "amount": 1, "status": "completed", "completed_at": at, "shares": lots,
            "gsi1pk": f"M#{merchant_id}", "gsi1sk": f"{at}#{pid}", "gsi2pk": "C#BENCH-FLOOR", "gsi2sk": f"{at}#{pid}",
            "gsi3pk": "P#floor", "gsi3sk": f"{merchant_id}#{at}#{pid}#S"})}},
        {"ConditionCheck": {"TableName": table, "Key": avs({"pk": f"MERCHANT#{merchant_id}", "sk": "PROFILE"}),
                            "ConditionExpression": "#s = :a", "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": avs({":a": "active"})}},
        {"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(pk)", "Item": avs({
            "pk": f"IDEM#BENCH-FLOOR#{key}", "sk": "IDEM", "fingerprint": "x", "status": 201, "response": "{}",
            "ttl": int(now.timestamp()) + 86400})}},
        total_update(table, merchant_id, f"D#{day}#{merchant_id}#{shard}", {}),
        total_update(table, merchant_id, f"P#{period}#{merchant_id}#{shard}",
                     {"gsi1pk": f"PAGG#{period}", "gsi1sk": f"{merchant_id}#{merchant_id}#{shard}"}),
    ])


def total_update(table: str, merchant_id: str, sk: str, keys: dict[str, str]) -> dict[str, Any]:
    """A sale added to one shard of a total (the day's or the period's), as SPEC §7's totals need."""
    sets = {"merchant_id": merchant_id, "store_id": merchant_id, **keys}
    names = {f"#a{i}": k for i, k in enumerate(sets)}
    values = {f":a{i}": v for i, v in enumerate(sets.values())}
    return {"Update": {
        "TableName": table, "Key": avs({"pk": f"AGG#{merchant_id}", "sk": sk}),
        "UpdateExpression": "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets)))
                            + " ADD sales_count :one, sales_points :one",
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": avs({**values, ":one": 1})}}


if __name__ == "__main__":
    main()
