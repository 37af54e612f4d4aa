"""Claim codes (受取コード, SPEC §4): the operator's batches, their export, and the consumer's claim.

Invariants:
- A batch is issued once per ``batch_id``: the same request again answers as the first time (and
  finishes writing the codes if an earlier attempt stopped half way); other content with the same id
  is refused (``idempotency_key_reused``). Its codes are derived from the claim key, never stored:
  the store keeps their keyed hashes only (:mod:`chalicelib.payments.claim_codes`).
- A code is claimed at most once: one transaction marks it used (conditional on it existing,
  unexpired and unused) and adds its lot to the wallet and its points to the claim totals, so
  claimed points count as granted in the conservation check.
- Every claim first reserves one of the consumer's 10 tries per window (one hour from the first try,
  a conditional write): however many claims race, at most 10 are looked at per window, and the 11th
  answers 429 until the window has passed. A successful claim gives its try back in its own
  transaction; a failure of any kind (a malformed or mistyped code included) keeps it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import time
from collections.abc import Callable, Iterator

from chalicelib.core.clock import Clock, csv_time, end_of_jst_day, jst_date
from chalicelib.core.errors import (
    ClaimCodeNotFound,
    ClaimCodeUsed,
    Conflict,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    TooManyAttempts,
    WriteRejected,
)
from chalicelib.core.ids import new_id
from chalicelib.payments import claim_codes
from chalicelib.payments.commands import ClaimBatchRequest
from chalicelib.payments.grants import check_expiry
from chalicelib.payments.model import ClaimBatch, ClaimCode
from chalicelib.payments.repository import PaymentRepository
from chalicelib.payments.wallet import Lot
from chalicelib.store.files import Files, neutralise

MAX_TRIES = 10
TRY_WINDOW = dt.timedelta(hours=1)
MAX_ATTEMPTS = 10
WRITE_CHUNK = 500  # codes derived and written per round (memory stays flat for any batch size)
TOO_MANY = "受取コードの入力に10回失敗したため、1時間ほど受け取りできません。時間をおいてお試しください。"

CSV_HEADERS = ["番号", "受取コード", "ポイント", "有効期限", "状態", "受取日時", "バッチID"]
UNUSED, USED, EXPIRED = "未使用", "使用済み", "期限切れ"


@dataclasses.dataclass(frozen=True)
class BatchOutcome:
    batch: ClaimBatch
    created: bool


@dataclasses.dataclass(frozen=True)
class Claimed:
    points: int
    expires_on: dt.date
    balance: int
    batch_id: str


@dataclasses.dataclass(frozen=True)
class CodesLink:
    url: str
    expires_at: dt.datetime
    rows: int


class ClaimService:
    def __init__(self, repo: PaymentRepository, clock: Clock, claim_key: Callable[[], str], *, max_points: int,
                 files: Files | None = None, url_ttl_seconds: int = 900,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.repo = repo
        self.clock = clock
        self.claim_key = claim_key
        self.max_points = max_points
        self.files = files
        self.url_ttl_seconds = url_ttl_seconds
        self.sleep = sleep

    # -- the operator -----------------------------------------------------------------------------
    def create_batch(self, request: ClaimBatchRequest) -> BatchOutcome:
        now = self.clock.now()
        check_expiry(request.expires_on, jst_date(now))
        if request.points > self.max_points:
            raise InvalidRequest(f"points は{self.max_points:,}以下にしてください。", param="points")
        batch = ClaimBatch(batch_id=request.batch_id or "CB" + new_id(10), count=request.count, points=request.points,
                           expires_on=request.expires_on, expires_at=end_of_jst_day(request.expires_on),
                           created_at=now)
        created = self.repo.start_claim_batch(batch)
        if not created:
            existing = self.repo.claim_batch(batch.batch_id)
            if existing is None:  # batches are never deleted
                raise Conflict("受取コードを発行できませんでした。もう一度お試しください。")
            if not existing.same_as(request.count, request.points, request.expires_on):
                raise IdempotencyKeyReused("この batch_id は別の内容の発行に使われています。", param="batch_id")
            if existing.ready:
                return BatchOutcome(existing, created=False)
            batch = existing  # an earlier attempt stopped half way: finish it (code writes are idempotent)
        self._write_codes(batch)
        self.repo.finish_claim_batch(batch.batch_id)
        stored = self.repo.claim_batch(batch.batch_id)
        return BatchOutcome(stored or batch, created=created)

    def _write_codes(self, batch: ClaimBatch) -> None:
        key = self.claim_key()
        for start in range(0, batch.count, WRITE_CHUNK):
            self.repo.put_claim_codes([
                ClaimCode(code_hash=claim_codes.code_hash(key, claim_codes.derive(key, batch.batch_id, i)),
                          batch_id=batch.batch_id, index=i, points=batch.points, expires_at=batch.expires_at)
                for i in range(start, min(batch.count, start + WRITE_CHUNK))])

    def batches(self) -> list[ClaimBatch]:
        return self.repo.claim_batches()

    def batch(self, batch_id: str) -> ClaimBatch:
        batch = self.repo.claim_batch(batch_id)
        if batch is None or not batch.ready:
            raise NotFound("この受取コードのバッチはありません。")
        return batch

    def codes(self, batch: ClaimBatch, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, str]]:
        """``(index, code)`` of the batch's codes from ``start`` to ``stop``, derived again from the key."""
        key = self.claim_key()
        for i in range(start, min(batch.count, batch.count if stop is None else stop)):
            yield i, claim_codes.derive(key, batch.batch_id, i)

    def export_codes(self, batch_id: str) -> CodesLink:
        """The batch's codes as a CSV file with each one's state, and a link to it that expires."""
        if self.files is None:
            raise RuntimeError("no file store")
        batch = self.batch(batch_id)
        now = self.clock.now()
        claimed = {c.index: c for c in self.repo.claimed_codes(batch_id)}
        expires = batch.expires_on.strftime("%Y/%m/%d")

        def rows() -> Iterator[list[str]]:
            for i, code in self.codes(batch):
                used = claimed.get(i)
                state = USED if used else (EXPIRED if now > batch.expires_at else UNUSED)
                yield [str(i + 1), claim_codes.display(code), str(batch.points), expires, state,
                       csv_time(used.claimed_at) if used and used.claimed_at else "", neutralise(batch.batch_id)]

        filename = f"受取コード_{batch.batch_id}.csv"
        # under exports/: the bucket deletes it after 7 days (a list of unclaimed codes must not linger)
        key = f"exports/claims/{batch.batch_id}/{secrets.token_urlsafe(24)}/{filename}"
        count = self.files.write_csv(key, CSV_HEADERS, rows())
        return CodesLink(url=self.files.link(key, filename, self.url_ttl_seconds),
                         expires_at=now + dt.timedelta(seconds=self.url_ttl_seconds), rows=count)

    # -- the consumer -----------------------------------------------------------------------------
    def claim(self, consumer_id: str, text: str) -> Claimed:
        now = self.clock.now()
        self._reserve_try(consumer_id, now)
        code = claim_codes.parse(text)
        if code is None:  # mistyped: the check symbol says so without a read (the try stays used)
            raise ClaimCodeNotFound(param="code")
        code_hash = claim_codes.code_hash(self.claim_key(), code)
        for attempt in range(MAX_ATTEMPTS):
            stored = self.repo.claim_code(code_hash)
            if stored is None or now > stored.expires_at:
                raise ClaimCodeNotFound(param="code")
            if stored.claimed_by is not None:
                raise ClaimCodeUsed(param="code")
            lot = Lot(f"claim-{code_hash[:24]}", stored.expires_at, stored.points)
            try:
                self.repo.commit_claim(stored, consumer_id, lot, now)
                break
            except WriteRejected as exc:
                if "used" in exc.reasons:
                    raise ClaimCodeUsed(param="code") from None
                if "code" in exc.reasons:
                    raise ClaimCodeNotFound(param="code") from None
                # a concurrent write to the wallet or the totals got in the way: nothing happened, again
                self.sleep(0.01 * (attempt + 1))
        else:
            raise Conflict("混み合っています。もう一度お試しください。")
        balance = self.repo.wallet(consumer_id).balance(now)
        return Claimed(points=stored.points, expires_on=jst_date(stored.expires_at), balance=balance,
                       batch_id=stored.batch_id)

    def _reserve_try(self, consumer_id: str, now: dt.datetime) -> None:
        for _ in range(MAX_ATTEMPTS):
            seen = self.repo.claim_tries(consumer_id)
            if seen.open_at(now) and seen.tries >= MAX_TRIES:
                raise TooManyAttempts(TOO_MANY)
            if self.repo.start_claim_try(consumer_id, seen, now, TRY_WINDOW, MAX_TRIES):
                return
        raise TooManyAttempts(TOO_MANY)  # the record kept changing under us: claims are racing, refuse
