from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib import bootstrap
from devstack.engine import LocalEngine
from tests.support.stack import Stack, build_stack

os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("AWS_DEFAULT_REGION", "ap-northeast-1")


@pytest.fixture(scope="session")
def engine() -> Iterator[LocalEngine]:
    """moto served single-threaded on 127.0.0.1: each request is atomic, as in DynamoDB."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):  # a profile would override the dummy keys
        os.environ.pop(name, None)
    with LocalEngine() as eng:
        saved = {k: os.environ.get(k) for k in eng.client_environment()}
        os.environ.update(eng.client_environment())
        yield eng
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dev-issuer")


@pytest.fixture
def stack(engine: LocalEngine, keys_dir: Path) -> Iterator[Stack]:
    """A fresh table and bucket, settings for the local stage, and a fixed clock."""
    s = build_stack(engine, keys_dir)
    yield s
    bootstrap.override(None)
