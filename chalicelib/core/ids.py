"""Identifiers people read aloud or type: Crockford base32, upper-case, no I/L/O/U."""

from __future__ import annotations

import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(length: int = 10) -> str:
    """A random Crockford base32 string; 10 characters carry 50 bits."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(length))


def normalize_crockford(text: str) -> str:
    """Map what a person might type (lower case, O for 0, I/L for 1, hyphens) to canonical form."""
    table = str.maketrans({"O": "0", "I": "1", "L": "1"})
    return text.strip().upper().replace("-", "").replace(" ", "").translate(table)


def is_crockford(text: str, length: int | None = None) -> bool:
    if length is not None and len(text) != length:
        return False
    return bool(text) and all(ch in CROCKFORD for ch in text)


def new_login_id() -> str:
    """A shop's private login ID: unrelated to its merchant id (which the QR code prints)."""
    return "ogw" + new_id(8).lower()


def new_secret_password(length: int = 12) -> str:
    """An initial password printed on a letter: unambiguous characters only."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
