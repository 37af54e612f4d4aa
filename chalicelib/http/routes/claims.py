"""Claim codes (受取コード): the operator's batches, their CSV and letters; the consumer's claim."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from chalice.app import Response
from msgspec import UNSET, Meta, UnsetType

from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import (
    ClaimCodeNotFound,
    ClaimCodeUsed,
    IdempotencyKeyReused,
    NotFound,
    TooManyAttempts,
)
from chalicelib.http.routing import Ctx, Reply, Routes
from chalicelib.http.schemas import JstTime, Points
from chalicelib.payments.commands import ClaimBatchRequest, ClaimRequest
from chalicelib.payments.model import ClaimBatch

routes = Routes(__name__)
OPERATOR = ["operator"]
CONSUMER = ["consumer"]
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
MAX_LETTERS = 200


class BatchCreated(msgspec.Struct):
    batch_id: str
    count: int
    points: Points
    expires_on: str


class BatchOut(msgspec.Struct, kw_only=True):
    batch_id: str
    count: int
    points: Points
    expires_on: str
    created_at: JstTime
    issued_points: Points
    claimed_count: int
    claimed_points: Points
    unclaimed_points: Annotated[int, Meta(ge=0, description="points of the codes not claimed (expired ones too)")]


class BatchList(msgspec.Struct):
    items: list[BatchOut]


class CodesLink(msgspec.Struct):
    url: Annotated[str, Meta(description="presigned link to the CSV of the batch's codes; expires")]
    expires_at: JstTime
    rows: int


class LettersQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    offset: Annotated[int, Meta(ge=0, le=100_000, description="first code (0-based)")] | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=MAX_LETTERS, description="letters on this page")] | UnsetType = UNSET


class ClaimOut(msgspec.Struct):
    points: Points
    expires_on: str
    balance: Points


def batch_out(b: ClaimBatch) -> BatchOut:
    return BatchOut(batch_id=b.batch_id, count=b.count, points=b.points, expires_on=b.expires_on.isoformat(),
                    created_at=jst_iso(b.created_at), issued_points=b.issued_points, claimed_count=b.claimed_count,
                    claimed_points=b.claimed_points, unclaimed_points=b.issued_points - b.claimed_points)


def _batch(ctx: Ctx, batch_id: str) -> ClaimBatch:
    if not BATCH_ID.match(batch_id):
        raise NotFound("この受取コードのバッチはありません。")
    return ctx.container.claims.batch(batch_id)


@routes.route("/v1/admin/claim-batches", "POST", summary="受取コードを発行(バッチ)", roles=OPERATOR, status=201,
              body=ClaimBatchRequest, response=BatchCreated, errors=[IdempotencyKeyReused])
def create_claim_batch(ctx: Ctx, body: ClaimBatchRequest) -> Reply:
    outcome = ctx.container.claims.create_batch(body)
    b = outcome.batch
    if outcome.created:
        ctx.audit("claim_batch", b.batch_id, detail=f"{b.count} 件 × {b.points} pt, {b.expires_on.isoformat()}")
    headers = {} if outcome.created else {"Idempotent-Replayed": "true"}
    return Reply(BatchCreated(b.batch_id, b.count, b.points, b.expires_on.isoformat()), headers=headers)


@routes.route("/v1/admin/claim-batches", summary="受取コードのバッチ一覧(発行・受取済みのポイント)", roles=OPERATOR,
              response=BatchList)
def list_claim_batches(ctx: Ctx) -> BatchList:
    return BatchList(items=[batch_out(b) for b in ctx.container.claims.batches() if b.ready])


@routes.route("/v1/admin/claim-batches/{batch_id}/codes", summary="受取コードのCSV(リンク)", roles=OPERATOR,
              response=CodesLink, errors=[NotFound])
def claim_batch_codes(ctx: Ctx, batch_id: str) -> CodesLink:
    batch = _batch(ctx, batch_id)
    link = ctx.container.claims.export_codes(batch.batch_id)
    ctx.audit("claim_codes_export", batch.batch_id, detail=f"{link.rows} 件")
    return CodesLink(url=link.url, expires_at=jst_iso(link.expires_at), rows=link.rows)


@routes.route("/v1/admin/claim-batches/{batch_id}/letters", summary="受取コードの印刷用案内状(A4 HTML、1コード1ページ)",
              roles=OPERATOR, query=LettersQuery, response="text/html", errors=[NotFound])
def claim_batch_letters(ctx: Ctx, batch_id: str, query: LettersQuery) -> Response:
    from chalicelib.payments.claim_letters import letters_html

    c = ctx.container
    batch = _batch(ctx, batch_id)
    start = query.offset or 0
    stop = start + (query.limit or MAX_LETTERS)
    settings = c.settings
    base = settings.public_base_url or f"http://{ctx.header('host') or '127.0.0.1:8000'}"
    html = letters_html(batch_id=batch.batch_id, points=batch.points, expires_on=batch.expires_on,
                        codes=c.claims.codes(batch, start, stop), base_url=base,
                        contact_name=settings.contact_consumer_name, contact_hours=settings.contact_consumer_hours,
                        contact_phone=settings.contact_consumer_phone)
    ctx.audit("claim_letters", batch.batch_id, detail=f"{start + 1}〜{min(stop, batch.count)}")
    return Response(body=html, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


@routes.route("/v1/wallet/claims", "POST", summary="受取コードでポイントを受け取る", roles=CONSUMER, status=201,
              body=ClaimRequest, response=ClaimOut, errors=[ClaimCodeNotFound, ClaimCodeUsed, TooManyAttempts])
def claim_code(ctx: Ctx, body: ClaimRequest) -> ClaimOut:
    claimed = ctx.container.claims.claim(ctx.me.subject, body.code)
    return ClaimOut(points=claimed.points, expires_on=claimed.expires_on.isoformat(), balance=claimed.balance)
