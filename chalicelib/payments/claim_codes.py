"""Claim codes (受取コード): their format, their check character, and how a batch's codes are derived.

Invariants:
- A code is 16 Crockford base32 symbols (``0-9 A-Z`` without I, L, O, U); the last one is a check
  symbol over GF(32). Printed as ``XXXX-XXXX-XXXX-XXXX``.
- The check: read each symbol as an element of GF(32) = GF(2)[x]/(x^5 + x^2 + 1) and weight position
  ``i`` with ``α^(15-i)`` (α = x, a primitive element, so the 16 weights are distinct and nonzero);
  a code is valid when the weighted sum is 0. A single substitution (d → d + e, e ≠ 0) changes the
  sum by ``w·e`` ≠ 0; swapping adjacent different symbols changes it by ``(w_i + w_{i+1})(d_i + d_{i+1})``,
  a product of two nonzero elements (the weights differ), so every such typo is caught.
  (Crockford's own mod-37 check needs five symbols outside the alphabet; this one needs none.)
- Input is read as a person types it: case, spaces and hyphens (also their full-width forms) are
  ignored, I and L read as 1, O as 0.
- A batch's codes are ``HMAC(claim key, batch id, index)``: they can be shown again at export time
  without being stored. The store keeps only ``HMAC(claim key, code)`` of each, so a copy of the table
  reveals no unclaimed code. The claim key must therefore never change for the life of a batch.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from chalicelib.core.ids import CROCKFORD

CODE_LENGTH = 16
BODY_LENGTH = CODE_LENGTH - 1
_VALUE = {ch: n for n, ch in enumerate(CROCKFORD)}
_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)
# Hyphen-like characters a phone keyboard or a copied letter may carry (NFKC leaves some of them).
_IGNORED = str.maketrans("", "", " -\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70\u3000\t\r\n")
_READS_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def gf_mul(a: int, b: int) -> int:
    """Multiplication in GF(32) (carry-less, reduced by the field polynomial)."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _POLY
    return product


def _weights() -> tuple[int, ...]:
    powers = [1]
    for _ in range(CODE_LENGTH - 1):
        powers.append(gf_mul(powers[-1], 0b00010))
    return tuple(reversed(powers))  # position 15 (the check) has weight 1


WEIGHTS = _weights()


def _syndrome(symbols: str) -> int:
    total = 0
    for weight, ch in zip(WEIGHTS, symbols, strict=False):
        total ^= gf_mul(weight, _VALUE[ch])
    return total


def check_symbol(body: str) -> str:
    """The 16th symbol for a 15-symbol body: the one that makes the weighted sum zero."""
    if len(body) != BODY_LENGTH or any(ch not in _VALUE for ch in body):
        raise ValueError("a code body is 15 Crockford base32 symbols")
    return CROCKFORD[_syndrome(body)]  # the check's weight is 1 and −s = s in characteristic 2


def is_valid(code: str) -> bool:
    """True for a canonical 16-symbol code whose check symbol matches."""
    return len(code) == CODE_LENGTH and all(ch in _VALUE for ch in code) and _syndrome(code) == 0


def normalise(text: str) -> str:
    """What a person typed, in canonical form (no check: see :func:`parse`)."""
    return unicodedata.normalize("NFKC", text).translate(_IGNORED).upper().translate(_READS_AS)


def parse(text: str) -> str | None:
    """The canonical code, or None when ``text`` is not a well-formed code with a right check symbol."""
    code = normalise(text)
    return code if is_valid(code) else None


def display(code: str) -> str:
    """``XXXX-XXXX-XXXX-XXXX``."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def derive(claim_key: str, batch_id: str, index: int) -> str:
    """The ``index``-th code of a batch (0-based): 75 bits from the HMAC, then the check symbol."""
    digest = hmac.new(claim_key.encode("utf-8"), f"claim-code|{batch_id}|{index}".encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:10], "big") >> 5  # 80 bits, keep 75
    body = "".join(CROCKFORD[(bits >> (5 * (BODY_LENGTH - 1 - i))) & 31] for i in range(BODY_LENGTH))
    return body + check_symbol(body)


def code_hash(claim_key: str, code: str) -> str:
    """What the store keeps of a code: its keyed hash (a table copy cannot be searched for codes)."""
    return hmac.new(claim_key.encode("utf-8"), f"claim-hash|{code}".encode(), hashlib.sha256).hexdigest()[:40]
