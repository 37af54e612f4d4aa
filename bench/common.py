"""Shared set-up for benchmarks: a local engine, the provisioned store, a container, and output."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from chalicelib import bootstrap
from chalicelib.accounts import dev_issuer
from chalicelib.config import load_settings
from chalicelib.core.clock import Clock, SystemClock
from devstack.engine import LocalEngine
from devstack.provision import ensure_app_secret, provision

TABLE = BUCKET = "onagawa-points-bench"


def start_stack(clock: Clock | None = None) -> tuple[LocalEngine, bootstrap.Container, Path]:
    engine = LocalEngine().start()
    os.environ.update(engine.client_environment())
    pool = provision(engine.endpoint, TABLE, BUCKET).user_pool
    ensure_app_secret(engine.endpoint, "onagawa-points/bench/app-secrets")
    _, container, keys = _container(clock, pool.environment(engine.endpoint) if pool else None)
    return engine, container, keys


def _container(clock: Clock | None, extra: dict[str, str] | None = None) -> tuple[None, bootstrap.Container, Path]:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    keys = Path(tempfile.mkdtemp(prefix="bench-keys-"))
    env = {
        "STAGE": "local", "TABLE_NAME": TABLE, "BUCKET_NAME": BUCKET,
        "SECRETS_NAME": "onagawa-points/bench/app-secrets",
        "CONSUMER_JWT_ISSUER": "http://127.0.0.1:8000/dev-issuer", "CONSUMER_JWT_AUDIENCE": "onagawa-points",
        "CONSUMER_JWKS_PATH": str(keys / "jwks.json"), "DEV_ISSUER_KEY_PATH": str(keys / "key.pem"),
        "DEV_ISSUER_ENABLED": "1",
        **(extra or {}),
    }
    dev_issuer.ensure_keys(env["DEV_ISSUER_KEY_PATH"], env["CONSUMER_JWKS_PATH"])
    container = bootstrap.Container(settings=load_settings(env), clock=clock or SystemClock())
    # moto's Query sorts the whole index on every page: at 100k rows a page takes longer than the
    # product's 5 s read timeout, so benchmarks wait longer (and never retry a slow answer).
    from chalicelib.store.connection import bind

    container.__dict__["store_binding"] = bind(TABLE, region=bootstrap.region(), read_timeout=600, max_attempts=1)
    bootstrap.override(container)
    return None, container, keys


def start_remote_stack(clock: Clock | None = None) -> tuple[Any, bootstrap.Container]:
    """The local engine in its own process (so its memory is not the client's), provisioned."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from devstack.engine import DEFAULT_REGION, DUMMY_CREDENTIALS

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "devstack.engine", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": DEFAULT_REGION, "AWS_REGION": DEFAULT_REGION,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": DUMMY_CREDENTIALS["aws_session_token"],
    })
    try:
        pool = provision(endpoint, TABLE, BUCKET).user_pool
        ensure_app_secret(endpoint, "onagawa-points/bench/app-secrets")
        _, container, _ = _container(clock, pool.environment(endpoint) if pool else None)
    except BaseException:
        proc.terminate()
        raise
    return proc, container


class RequestCounter:
    """Counts the DynamoDB API calls a botocore client makes (registered on its event system)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def reset(self) -> None:
        self.calls.clear()


def raw_client() -> Any:
    """A bare boto3 DynamoDB client (floors and seeding), patient with moto's slow large queries."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", config=Config(read_timeout=600, retries={"mode": "standard", "max_attempts": 1},
                                                   max_pool_connections=32))


def av(value: Any) -> dict[str, Any]:
    """A plain value as a DynamoDB attribute value (ints only, as the store writes them)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {k: av(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [av(v) for v in value]}
    raise TypeError(type(value).__name__)


def avs(values: dict[str, Any]) -> dict[str, Any]:
    return {k: av(v) for k, v in values.items()}


class BatchWriter:
    """Seeds items 25 at a time with BatchWriteItem (no transactions: moto copies the table per one).
    Items are store models (serialized as the repositories would) or attribute-value dicts."""

    def __init__(self, client: Any, table: str) -> None:
        self.client, self.table = client, table
        self.batch: list[dict[str, Any]] = []

    def add(self, item: Any) -> None:
        self.batch.append(item.serialize() if hasattr(item, "serialize") else item)
        if len(self.batch) == 25:
            self.flush()

    def flush(self) -> None:
        request: dict[str, Any] = {self.table: [{"PutRequest": {"Item": i}} for i in self.batch]}
        while request and self.batch:
            request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        self.batch.clear()


def bare_query_rows(client: Any, **kwargs: Any) -> int:
    """The floor: a plain boto3 Query, page by page, counting rows and decoding nothing."""
    rows = 0
    while True:
        resp = client.query(**kwargs)
        rows += len(resp["Items"])
        if "LastEvaluatedKey" not in resp:
            return rows
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def emit(name: str, value: float | int | str) -> None:
    if isinstance(value, float):
        print(f"{name}: {value:.3f}", flush=True)
    else:
        print(f"{name}: {value}", flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def today_plus(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


class Seeder:
    """Writes payments (and cancellations) as the repository would, with their day and period totals,
    by BatchWriteItem: seeding 100,000 payments one transaction at a time would take hours on moto.
    Totals are summed here and written once each (shard 0), as the transactions would have left them."""

    def __init__(self, writer: BatchWriter) -> None:
        from chalicelib.payments.aggregates import AggregateKey, Counts

        self.writer = writer
        self.totals: dict[AggregateKey, Counts] = {}

    def sale(self, payment: Any) -> None:
        from chalicelib.payments.aggregates import Counts, sale_deltas
        from chalicelib.payments.dynamo import payment_item

        self.writer.add(payment_item(payment, "k" + payment.payment_id))
        for key, counts in sale_deltas(payment):
            self.totals.setdefault(key, Counts()).add(counts)

    def cancel(self, payment: Any, at: dt.datetime) -> None:
        """``payment`` as sold; stores it cancelled (call instead of ``sale``, after it)."""
        import msgspec

        from chalicelib.payments.aggregates import Counts, cancel_deltas
        from chalicelib.payments.dynamo import cancel_item, payment_item

        self.writer.add(payment_item(msgspec.structs.replace(payment, status="cancelled", cancelled_at=at),
                                     "k" + payment.payment_id))
        self.writer.add(cancel_item(payment, at, "bench"))
        for key, counts in cancel_deltas(payment, at):
            self.totals.setdefault(key, Counts()).add(counts)

    def flush(self) -> None:
        from chalicelib.payments.aggregates import DAY
        from chalicelib.store.models import (
            DayAggItem,
            PeriodAggItem,
            agg_pk,
            day_agg_sk,
            period_agg_sk,
            period_aggs_pk,
        )

        for key, counts in self.totals.items():
            fields = {f: getattr(counts, f) for f in counts.__struct_fields__}
            if key.scope == DAY:
                self.writer.add(DayAggItem(agg_pk(key.merchant_id), day_agg_sk(key.bucket, key.store_id, 0),
                                           merchant_id=key.merchant_id, store_id=key.store_id, day=key.bucket,
                                           **fields))
            else:
                self.writer.add(PeriodAggItem(agg_pk(key.merchant_id), period_agg_sk(key.bucket, key.store_id, 0),
                                              merchant_id=key.merchant_id, store_id=key.store_id,
                                              period_id=key.bucket, gsi1pk=period_aggs_pk(key.bucket),
                                              gsi1sk=f"{key.merchant_id}#{key.store_id}#0", **fields))
        self.totals.clear()
        self.writer.flush()
