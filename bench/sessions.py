"""Benchmark: what a server-side session costs an authenticated call.

1. DynamoDB requests per authenticated call (target: one GetItem of the session; one UpdateItem more
   at most once per five minutes of use, when the session slides).
2. Latency: medians of 200 calls each, interleaved in rounds so both sides see the same load:
   - ``health``: an unauthenticated route (routing, JSON, no store);
   - ``contact``: a merchant route that reads nothing but the session;
   - ``floor_getitem``: the session's GetItem issued directly with boto3.
   The session's cost is ``contact - health``; its ratio to the floor shows what the app adds to the
   one read (target under 1.5: decoding and checking the item, nothing more).
"""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import json
import time

from chalice.test import Client

from app import app
from bench.common import RequestCounter, avs, emit, median, raw_client, start_stack
from chalicelib.store.connection import client as store_client
from tests.support import drive

CALLS = 200
ROUNDS = 5


def main() -> None:
    engine, c, _ = start_stack()
    try:
        password = "bench-shop-password-1"
        merchant = drive.register(c, name_ja="ベンチ商店", name_en="BENCH SHOP", password=password).merchant
        client = Client(app, stage_name="local")
        client.__enter__()
        login = client.http.post("/v1/auth/login", headers={"Content-Type": "application/json"},
                                 body=json.dumps({"login_id": merchant.login_id, "password": password}).encode())
        assert login.status_code == 200, login.body
        token = json.loads(login.body)["token"]
        session_id = token.split(".")[2]
        auth = {"Authorization": f"Bearer {token}"}
        floor = raw_client()
        key = avs({"pk": f"LOGIN#{merchant.login_id.lower()}", "sk": f"SESSION#{session_id}"})
        assert "Item" in floor.get_item(TableName=c.settings.table_name, Key=key), "session key layout changed"

        def timed(call: object) -> list[float]:
            assert callable(call)
            out = []
            for _ in range(CALLS // ROUNDS):
                started = time.perf_counter()
                call()
                out.append(time.perf_counter() - started)
            return out

        def health() -> None:
            assert client.http.get("/v1/health").status_code == 200

        def contact() -> None:
            resp = client.http.get("/v1/merchant/contact", headers=auth)
            assert resp.status_code == 200, resp.body

        def floor_getitem() -> None:
            floor.get_item(TableName=c.settings.table_name, Key=key)

        for warm in (health, contact, floor_getitem):
            timed(warm)
        counter = RequestCounter(store_client())
        for _ in range(50):
            contact()
        emit("dynamodb_requests_per_authenticated_call", sum(counter.calls.values()) / 50)
        emit("getitem_per_authenticated_call", counter.calls["GetItem"] / 50)
        emit("session_writes_per_authenticated_call", counter.calls["UpdateItem"] / 50)
        samples: dict[str, list[float]] = {"health": [], "contact": [], "floor_getitem": []}
        for i in range(ROUNDS):
            order = [("health", health), ("contact", contact), ("floor_getitem", floor_getitem)]
            for name, call in order[i % 3:] + order[:i % 3]:
                samples[name].extend(timed(call))
        med = {name: median(values) * 1000 for name, values in samples.items()}
        for name, value in med.items():
            emit(f"{name}_median_ms", value)
        session_cost = med["contact"] - med["health"]
        emit("session_cost_ms", session_cost)
        emit("session_cost_vs_floor_getitem", session_cost / med["floor_getitem"])
        emit("target_ratio", 1.5)
        client.__exit__(None, None, None)
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
