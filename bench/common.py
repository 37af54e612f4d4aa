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
from devstack.provision import provision

TABLE = BUCKET = "onagawa-points-bench"


def start_stack(clock: Clock | None = None) -> tuple[LocalEngine, bootstrap.Container, Path]:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    engine = LocalEngine().start()
    os.environ.update(engine.client_environment())
    provision(engine.endpoint, TABLE, BUCKET)
    keys = Path(tempfile.mkdtemp(prefix="bench-keys-"))
    env = {
        "STAGE": "local", "TABLE_NAME": TABLE, "BUCKET_NAME": BUCKET,
        "SESSION_SECRET": "bench-session-secret-0123456789-abcdefgh",
        "CONSUMER_JWT_ISSUER": "http://127.0.0.1:8000/dev-issuer", "CONSUMER_JWT_AUDIENCE": "onagawa-points",
        "CONSUMER_JWKS_PATH": str(keys / "jwks.json"), "DEV_ISSUER_KEY_PATH": str(keys / "key.pem"),
        "DEV_ISSUER_ENABLED": "1",
    }
    dev_issuer.ensure_keys(env["DEV_ISSUER_KEY_PATH"], env["CONSUMER_JWKS_PATH"])
    container = bootstrap.Container(settings=load_settings(env), clock=clock or SystemClock())
    bootstrap.override(container)
    return engine, container, keys


class RequestCounter:
    """Counts the DynamoDB API calls a botocore client makes (registered on its event system)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def reset(self) -> None:
        self.calls.clear()


def emit(name: str, value: float | int | str) -> None:
    if isinstance(value, float):
        print(f"{name}: {value:.3f}", flush=True)
    else:
        print(f"{name}: {value}", flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def today_plus(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()
