"""Consumer token checks (SPEC §8): Cognito ID and access tokens each by their own claims, the key set
through PyJWKClient with a refresh limit for unknown kids, and 503 when it cannot be fetched."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient, PyJWKClientConnectionError

from chalicelib.accounts.consumer_jwt import (
    KEY_SET_LIFESPAN,
    UNKNOWN_KID_REFRESH,
    CognitoIssuer,
    ConsumerTokens,
    RemoteKeys,
)
from chalicelib.core.errors import ServiceUnavailable, Unauthenticated

ISSUER = "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_TESTPOOL"
CLIENT = "app-client-1"
KEYS = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in ("k1", "k2")}


def jwk(kid: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEYS[kid].public_key()))
    return {**doc, "kid": kid, "alg": "RS256", "use": "sig"}


class FakeEndpoint(PyJWKClient):
    """PyJWKClient with the HTTP fetch replaced: serves ``published`` kids, or fails when ``down``."""

    def __init__(self) -> None:
        super().__init__("https://example.invalid/jwks.json", cache_jwk_set=True, lifespan=KEY_SET_LIFESPAN)
        self.published = ["k1"]
        self.down = False
        self.requests = 0

    def fetch_data(self) -> Any:
        self.requests += 1
        if self.down:
            raise PyJWKClientConnectionError("unreachable")
        return {"keys": [jwk(k) for k in self.published]}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def token(claims: dict[str, Any], kid: str = "k1", key: Any = None, alg: str = "RS256") -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "3f1c-resident", "iat": now, "exp": now + 600, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key if key is not None else KEYS[kid], algorithm=alg, headers={"kid": kid})


ACCESS = {"token_use": "access", "client_id": CLIENT}
ID = {"token_use": "id", "aud": CLIENT}


@pytest.fixture
def setup() -> tuple[ConsumerTokens, FakeEndpoint, Clock]:
    endpoint, clock = FakeEndpoint(), Clock()
    keys = RemoteKeys(endpoint.uri, monotonic=clock, client=endpoint)
    return ConsumerTokens([CognitoIssuer(issuer=ISSUER, client_id=CLIENT, keys=keys)]), endpoint, clock


def test_access_and_id_tokens_each_pass_by_their_own_claims(setup: Any) -> None:
    tokens, _, _ = setup
    assert tokens.verify(token(ACCESS)).subject == "3f1c-resident"
    assert tokens.verify(token(ID)).subject == "3f1c-resident"


@pytest.mark.parametrize("claims", [
    {"token_use": "access", "client_id": "another-client"},
    {"token_use": "access", "client_id": CLIENT, "aud": CLIENT},  # an access token never has aud
    {"token_use": "id", "aud": "another-client"},
    {"token_use": "id", "client_id": CLIENT},  # an ID token names the client in aud
    {"token_use": "refresh", "client_id": CLIENT},
    {"client_id": CLIENT},  # no token_use
    {**ACCESS, "iss": ISSUER + "X"},
    {**ACCESS, "iss": "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_OTHER"},
    {**ACCESS, "exp": int(time.time()) - 60},
    {**ACCESS, "iat": None},
    {**ACCESS, "sub": ""},
    {**ACCESS, "sub": "x" * 65},
])
def test_tokens_with_the_wrong_claims_are_refused(setup: Any, claims: dict[str, Any]) -> None:
    tokens, _, _ = setup
    with pytest.raises(Unauthenticated):
        tokens.verify(token(claims))


def test_other_algorithms_and_forged_signatures_are_refused(setup: Any) -> None:
    tokens, _, _ = setup
    forged = [
        jwt.encode({**ACCESS, "iss": ISSUER, "sub": "s", "iat": 1, "exp": 2**31}, "secret-of-32-bytes-or-more-000000",
                   algorithm="HS256", headers={"kid": "k1"}),
        token(ACCESS, kid="k1", key=KEYS["k2"]),  # signed with another key under k1's name
        jwt.encode({**ACCESS, "iss": ISSUER, "sub": "s"}, None, algorithm="none"),
        "not-a-token",
        "a.b.c",  # not base64 JSON
        "e30.e30.c2ln",  # {} header: no alg, no kid
        "W10.e30.c2ln",  # a JSON list as the header
        token(ACCESS) + "." + "x" * 9000,  # four segments, oversized
    ]
    for bad in forged:
        with pytest.raises(Unauthenticated):
            tokens.verify(bad)


def test_the_key_set_is_fetched_once_and_cached(setup: Any) -> None:
    tokens, endpoint, clock = setup
    for _ in range(20):
        tokens.verify(token(ACCESS))
        clock.t += 30
    assert endpoint.requests == 1


def test_unknown_kids_refresh_the_key_set_at_most_once_a_minute(setup: Any) -> None:
    tokens, endpoint, clock = setup
    tokens.verify(token(ACCESS))
    clock.t += UNKNOWN_KID_REFRESH  # a minute after the first fetch
    for _ in range(50):  # a stream of made-up kids, one per second
        with pytest.raises(Unauthenticated):
            tokens.verify(token(ACCESS, kid="k2"))
        clock.t += 1
    # one refresh at the first unknown kid, then nothing until a minute later
    assert endpoint.requests == 2
    clock.t += 11
    with pytest.raises(Unauthenticated):
        tokens.verify(token(ACCESS, kid="k2"))
    assert endpoint.requests == 3


def test_a_rotated_key_is_picked_up_by_the_refresh(setup: Any) -> None:
    tokens, endpoint, clock = setup
    tokens.verify(token(ACCESS))
    endpoint.published = ["k1", "k2"]
    clock.t += UNKNOWN_KID_REFRESH
    assert tokens.verify(token(ACCESS, kid="k2")).subject == "3f1c-resident"


def test_an_unreachable_key_set_answers_503_and_known_keys_survive_an_outage(setup: Any) -> None:
    tokens, endpoint, clock = setup
    endpoint.down = True
    with pytest.raises(ServiceUnavailable):
        tokens.verify(token(ACCESS))
    with pytest.raises(ServiceUnavailable):
        tokens.verify(token(ACCESS))
    assert endpoint.requests == 1  # the failure is not retried for every request
    endpoint.down = False
    clock.t += 11
    tokens.verify(token(ACCESS))
    endpoint.down = True
    clock.t += KEY_SET_LIFESPAN + 1  # the cached set is due for a refresh that fails
    assert tokens.verify(token(ACCESS)).subject == "3f1c-resident"
    clock.t += UNKNOWN_KID_REFRESH + 11
    with pytest.raises(ServiceUnavailable):
        tokens.verify(token(ACCESS, kid="k2"))


def test_a_token_of_an_issuer_not_configured_is_refused_without_a_fetch(setup: Any) -> None:
    tokens, endpoint, _ = setup
    with pytest.raises(Unauthenticated):
        tokens.verify(token({**ACCESS, "iss": "https://evil.example/pool"}))
    assert endpoint.requests == 0
