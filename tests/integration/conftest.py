"""Fixtures for tests that talk to the local engine (moto served single-threaded on 127.0.0.1)."""

from __future__ import annotations

import pytest

from devstack.engine import LocalEngine

# The session-wide `engine` fixture lives in tests/conftest.py: one moto server for the whole run,
# so every request of every test is serialised by the same single-threaded server.


@pytest.fixture
def clean_engine(engine: LocalEngine) -> LocalEngine:
    """The session engine with every table, bucket and object removed before the test."""
    engine.reset()
    return engine


@pytest.fixture
def engine_env(engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> LocalEngine:
    """The session engine, with ``AWS_ENDPOINT_URL`` and friends pointing at it for one test."""
    for name, value in engine.client_environment().items():
        monkeypatch.setenv(name, value)
    return engine
