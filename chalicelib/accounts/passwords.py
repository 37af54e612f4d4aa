"""Passwords: stdlib scrypt (memory-hard) hashes, and the rules a new password must follow.

Format: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` so parameters can be raised later and old
hashes still verify. Verification runs in constant time; a dummy hash is verified for unknown
login IDs so that both failures cost the same.

A new password (SPEC §8): at least 10 characters, not the login ID, not one of the commonly breached
passwords listed in ``common_passwords.txt`` (compared without case, and with trailing digits and
punctuation removed, so ``Password2024!`` counts as ``password``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from pathlib import Path

from chalicelib.core.errors import InvalidRequest

N, R, P, DKLEN = 2**14, 8, 1, 32
MIN_LENGTH = 10
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=DKLEN)
    return "$".join(
        ["scrypt", str(N), str(R), str(P), base64.b64encode(salt).decode(), base64.b64encode(digest).decode()]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(hash_b64)
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected),
            maxmem=128 * int(n) * int(r) * int(p) + 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


@functools.cache
def _dummy_hash() -> str:
    # Made on the first unknown login ID, not at import: a cold start should not pay for scrypt.
    return hash_password(secrets.token_urlsafe(16))


def burn_dummy_verification(password: str) -> None:
    """Spend the same time as a real verification (used when the login ID is unknown)."""
    verify_password(password, _dummy_hash())


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _stem(password: str) -> str:
    return re.sub(r"[\d\W_]+$", "", password.strip().lower())


def check_new_password(password: str, login_id: str) -> None:
    """``InvalidRequest`` (param ``new_password``) with the rule a person must follow, if broken."""
    if len(password) < MIN_LENGTH:
        raise InvalidRequest(f"新しいパスワードは{MIN_LENGTH}文字以上にしてください。", param="new_password")
    if len(password) > MAX_LENGTH:
        raise InvalidRequest(f"新しいパスワードは{MAX_LENGTH}文字以内にしてください。", param="new_password")
    if password.strip().lower() == login_id.strip().lower() or login_id.strip().lower() in password.lower():
        raise InvalidRequest("ログインIDを含むパスワードは使えません。", param="new_password")
    common = common_passwords()
    if password.strip().lower() in common or _stem(password) in common:
        raise InvalidRequest("よく使われていて推測されやすいパスワードです。別のパスワードにしてください。",
                             param="new_password")
    if len(set(password)) < 4:
        raise InvalidRequest("同じ文字の繰り返しが多すぎます。別のパスワードにしてください。", param="new_password")
