"""Requests that change money, declared once: each Struct decodes a JSON body strictly (points
only as JSON integers, unknown fields refused) and is the schema the API documents for it.

Rules a JSON Schema cannot say (an expiry not in the past, a configurable maximum) are checked by
the services, which raise ``InvalidRequest`` naming the same field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta

CONSUMER_ID_MAX = 64
MAX_GRANT_POINTS = 1_000_000

# No "#" (it separates key parts), no control characters, no spaces at either end.
CONSUMER_ID_PATTERN = r"^[^#\s\x00-\x1f\x7f]([^#\x00-\x1f\x7f]*[^#\s\x00-\x1f\x7f])?$"
ConsumerId = Annotated[str, Meta(min_length=1, max_length=CONSUMER_ID_MAX, pattern=CONSUMER_ID_PATTERN,
                                 description="pseudonymous consumer id (the identity provider's sub)")]
GrantId = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[!-~]+$",
                              description="idempotency key of the grant (printable ASCII, no spaces)")]
Points = Annotated[int, Meta(ge=1, description="points (1 point = 1 yen), a JSON integer")]


class GrantRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Grant points to one consumer. ``grant_id`` makes it idempotent (generated when absent)."""

    consumer_id: ConsumerId
    points: Annotated[int, Meta(ge=1, le=MAX_GRANT_POINTS, description="points to add")]
    expires_on: Annotated[dt.date, Meta(description="last JST day the points can be spent")]
    grant_id: GrantId | None = None


class PaymentRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Pay a shop: its scanned QR payload, its shop id or its merchant id (the default shop), and the
    amount. Exactly one of ``qr``, ``store_id`` and ``merchant_id``."""

    amount: Points
    qr: Annotated[str, Meta(min_length=1, max_length=512)] | None = None
    merchant_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    store_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


MAX_CLAIM_BATCH = 10_000
ClaimBatchId = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                                   description="batch id, the idempotency key of the batch (letters, digits, - and _)")]


class ClaimBatchRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Issue ``count`` one-time claim codes worth ``points`` each. ``batch_id`` makes it idempotent."""

    count: Annotated[int, Meta(ge=1, le=MAX_CLAIM_BATCH, description="how many codes")]
    points: Annotated[int, Meta(ge=1, le=MAX_GRANT_POINTS,
                                description="points per code (at most the configured per-payment maximum)")]
    expires_on: Annotated[dt.date, Meta(description="last JST day the codes can be claimed and their points spent")]
    batch_id: ClaimBatchId | None = None


class ClaimRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Claim a code: as typed (case, spaces and hyphens are ignored)."""

    code: Annotated[str, Meta(min_length=1, max_length=64, description="受取コード, e.g. XXXX-XXXX-XXXX-XXXX")]
