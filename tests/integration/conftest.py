"""Fixtures for tests that talk to the local engine (moto served single-threaded on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.engine import DEFAULT_REGION, DUMMY_CREDENTIALS, LocalEngine

# Credentials and region for any boto3 client built from the environment while the engine runs,
# so that nothing in the test session can reach real AWS with a developer's own credentials.
_SESSION_ENV = {
    "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
    "AWS_SESSION_TOKEN": DUMMY_CREDENTIALS["aws_session_token"],
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
    "AWS_REGION": DEFAULT_REGION,
}
# A named profile would override the dummy keys for clients built from the environment.
_SESSION_ENV_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


@pytest.fixture(scope="session")
def engine() -> Iterator[LocalEngine]:
    """One engine for the whole session; the environment is restored when the session ends.

    ``AWS_ENDPOINT_URL`` is deliberately not set session-wide: tests that build clients from the
    environment ask for ``engine_env`` so that other tests (e.g. ones using ``moto.mock_aws``)
    are not redirected to this server.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _SESSION_ENV.items():
            patch.setenv(name, value)
        for name in _SESSION_ENV_REMOVED:
            patch.delenv(name, raising=False)
        with LocalEngine() as running:
            yield running


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
