"""Granting points: one at a time, or from a CSV file, each grant exactly once.

Invariants:
- A grant and the lot it adds to the wallet are written in one transaction, guarded by the grant
  record's absence; the grant id is the idempotency key. Re-sending the same grant (same id, same
  consumer, points and expiry) changes nothing and answers as the first time; the same id with
  other content is refused (``idempotency_key_reused``).
- A bulk file is checked row by row with the same declaration as the API body
  (:class:`~chalicelib.payments.commands.GrantRequest`): a bad row is reported with its line number
  and nothing of it is written; good rows get an id derived from the row's content and its
  occurrence in the file, so running the same file again grants nothing twice.
- Expiry is the end (23:59:59.999) of the given JST day; a date already past, or more than five
  years ahead, is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import time
from collections.abc import Callable, Iterator

import msgspec

from chalicelib.core.clock import Clock, end_of_jst_day, jst_date
from chalicelib.core.errors import Conflict, IdempotencyKeyReused, InvalidRequest, WriteRejected
from chalicelib.core.ids import new_id
from chalicelib.payments.commands import GrantRequest
from chalicelib.payments.model import Grant
from chalicelib.payments.repository import PaymentRepository
from chalicelib.payments.wallet import Lot

MAX_ATTEMPTS = 10
MAX_YEARS_AHEAD = 5


def check_expiry(day: dt.date, today: dt.date) -> dt.date:
    if day < today:
        raise InvalidRequest("expires_on が過去の日付です。", param="expires_on")
    if day > today + dt.timedelta(days=366 * MAX_YEARS_AHEAD):
        raise InvalidRequest(f"expires_on は{MAX_YEARS_AHEAD}年以内にしてください。", param="expires_on")
    return day


class GrantOutcome(msgspec.Struct, frozen=True):
    grant: Grant
    created: bool


class GrantService:
    def __init__(self, repo: PaymentRepository, clock: Clock, sleep: Callable[[float], None] = time.sleep) -> None:
        self.repo = repo
        self.clock = clock
        self.sleep = sleep

    def grant(self, request: GrantRequest) -> GrantOutcome:
        now = self.clock.now()
        check_expiry(request.expires_on, jst_date(now))
        grant = Grant(grant_id=request.grant_id or "G" + new_id(15), consumer_id=request.consumer_id,
                      points=request.points, expires_on=request.expires_on)
        lot = Lot(grant.grant_id, end_of_jst_day(grant.expires_on), grant.points)
        for attempt in range(MAX_ATTEMPTS):
            try:
                self.repo.commit_grant(grant, lot, now)
                return GrantOutcome(grant, created=True)
            except WriteRejected as exc:
                if "grant" in exc.reasons:
                    break
                # a concurrent payment or grant held the wallet: the grant did not happen, try again
                self.sleep(0.01 * (attempt + 1))
        else:
            raise Conflict("混み合っています。もう一度お試しください。")
        existing = self.repo.grant(grant.grant_id)
        if existing is None:  # the record cannot vanish: grants are never deleted
            raise Conflict("付与を記録できませんでした。もう一度お試しください。")
        if not existing.same_as(grant):
            raise IdempotencyKeyReused("この grant_id は別の内容の付与に使われています。", param="grant_id")
        return GrantOutcome(existing, created=False)


# -- bulk CSV ----------------------------------------------------------------------------------------
class RowError(msgspec.Struct, frozen=True):
    line: int
    message: str


HEADER = ["consumer_id", "points", "expires_on"]
_ASCII_INT = re.compile(r"[0-9]{1,9}")


def row_grant_id(batch: str, consumer_id: str, points: int, expires_on: dt.date, occurrence: int) -> str:
    raw = f"{batch}|{consumer_id}|{points}|{expires_on.isoformat()}|{occurrence}"
    return "B" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:31].upper()


def _row_message(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    field = text.rsplit("`$.", 1)[1].rstrip("`") if "`$." in text else ""
    if field == "points":
        return "points は1〜1,000,000の整数にしてください。"
    if field == "expires_on":
        return "expires_on は YYYY-MM-DD 形式の日付にしてください。"
    if field == "consumer_id":
        return "consumer_id は1〜64文字の利用者IDにしてください。"
    if field == "grant_id":
        return "grant_id は1〜128文字の英数字記号にしてください。"
    return f"行の内容が正しくありません({text})。"


def parse_bulk_csv(text: str, *, today: dt.date, batch: str = "") -> Iterator[tuple[int, GrantRequest | RowError]]:
    """Yield (line number, request or error) for each data row; line numbers count the header as 1.

    Numbers must be ASCII digits (``²`` or ``٣`` are errors of their row, never read as numbers)."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, RowError(1, f"CSVとして読めません: {exc}")
        return
    if header[:3] != HEADER or len(header) > 4 or (len(header) == 4 and header[3] != "grant_id"):
        yield 1, RowError(1, "見出し行は consumer_id,points,expires_on[,grant_id] にしてください。")
        return
    seen: dict[tuple[str, int, dt.date], int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, RowError(reader.line_num, f"CSVとして読めません: {exc}")
            return
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield line, RowError(line, f"列の数が {len(header)} ではありません({len(row)} 列)。")
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=True))
        if not _ASCII_INT.fullmatch(cells["points"]):
            yield line, RowError(line, "points は半角数字の正の整数にしてください。")
            continue
        fields: dict[str, object] = {"consumer_id": cells["consumer_id"], "points": int(cells["points"]),
                                     "expires_on": cells["expires_on"]}
        if cells.get("grant_id"):
            fields["grant_id"] = cells["grant_id"]
        try:
            request = msgspec.convert(fields, GrantRequest)
            check_expiry(request.expires_on, today)
        except msgspec.ValidationError as exc:
            yield line, RowError(line, _row_message(exc))
            continue
        except InvalidRequest as exc:
            yield line, RowError(line, exc.message)
            continue
        if request.grant_id is None:
            key = (request.consumer_id, request.points, request.expires_on)
            seen[key] = seen.get(key, 0) + 1
            request = msgspec.structs.replace(request, grant_id=row_grant_id(
                batch, request.consumer_id, request.points, request.expires_on, seen[key]))
        yield line, request
