"""Test stack: the single-threaded moto engine, a provisioned table and bucket, settings, tokens."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Any

from chalicelib import bootstrap
from chalicelib.accounts import dev_issuer
from chalicelib.config import Settings, load_settings
from chalicelib.core.clock import Clock, FixedClock
from devstack.engine import LocalEngine
from devstack.provision import ensure_app_secret, provision

TABLE = "onagawa-points-local"
BUCKET = "onagawa-points-local"
ISSUER = "http://127.0.0.1:8000/dev-issuer"
AUDIENCE = "onagawa-points"
SECRETS_NAME = "onagawa-points/test/app-secrets"


def test_env(keys_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "STAGE": "local",
        "TABLE_NAME": TABLE,
        "BUCKET_NAME": BUCKET,
        "SECRETS_NAME": SECRETS_NAME,
        "CONSUMER_JWT_ISSUER": ISSUER,
        "CONSUMER_JWT_AUDIENCE": AUDIENCE,
        "CONSUMER_JWKS_PATH": str(keys_dir / "dev-issuer-jwks.json"),
        "DEV_ISSUER_ENABLED": "1",
        "DEV_ISSUER_KEY_PATH": str(keys_dir / "dev-issuer-key.pem"),
    }
    env.update(extra or {})
    return env


@dataclasses.dataclass
class Stack:
    engine: LocalEngine
    settings: Settings
    container: bootstrap.Container
    keys_dir: Path

    def consumer_token(self, consumer_id: str, *, now: dt.datetime | None = None, ttl: int = 3600) -> str:
        return dev_issuer.issue_token(
            self.settings.dev_issuer_key_path, consumer_id=consumer_id, issuer=ISSUER, audience=AUDIENCE,
            now=now or dt.datetime.now(dt.UTC), ttl_seconds=ttl,
        )

    def ledger(self, now: dt.datetime | None = None) -> Any:
        """The conservation check over everything stored (the nightly job, run now)."""
        if now is not None and hasattr(self.container.clock, "set"):
            self.container.clock.set(now)
        return self.container.ledger.run()

    def all_items(self) -> list[dict[str, Any]]:
        """Every stored item as plain values (numbers as int), straight from the table."""
        self.container.store_binding  # noqa: B018
        client = store_client()
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": TABLE}
        while True:
            resp = client.scan(**kwargs)
            items.extend(decode_item(i) for i in resp["Items"])
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def build_stack(engine: LocalEngine, keys_dir: Path, clock: Clock | None = None,
                extra_env: dict[str, str] | None = None) -> Stack:
    engine.reset()
    provisioned = provision(engine.endpoint, TABLE, BUCKET)
    ensure_app_secret(engine.endpoint, SECRETS_NAME)
    clear_secret_cache()
    assert provisioned.user_pool is not None
    env = test_env(keys_dir, {**provisioned.user_pool.environment(engine.endpoint), **(extra_env or {})})
    dev_issuer.ensure_keys(env["DEV_ISSUER_KEY_PATH"], env["CONSUMER_JWKS_PATH"])
    os.environ.update(engine.client_environment())
    settings = load_settings(env)
    container = bootstrap.Container(settings=settings, clock=clock or FixedClock(
        dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)))
    bootstrap.override(container)
    return Stack(engine=engine, settings=settings, container=container, keys_dir=keys_dir)


def store_client() -> Any:
    from chalicelib.store.connection import client

    return client()


def _value(av: dict[str, Any]) -> Any:
    (kind, raw), = av.items()
    if kind == "N":
        return int(raw)
    if kind == "M":
        return {k: _value(v) for k, v in raw.items()}
    if kind == "L":
        return [_value(v) for v in raw]
    if kind == "NULL":
        return None
    return raw


def decode_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in item.items()}


def clear_secret_cache() -> None:
    """Powertools caches the secret per process: a new engine has new keys."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
