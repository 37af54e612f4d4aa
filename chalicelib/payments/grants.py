"""Granting points: one at a time, or from a CSV file, each grant exactly once.

Invariants:
- A grant and the lot it adds to the wallet are written in one transaction, guarded by the grant
  record's absence; the grant id is the idempotency key. Re-sending the same grant (same id, same
  consumer, points and expiry) changes nothing and answers as the first time; the same id with
  other content is refused (``idempotency_key_reused``).
- A bulk file is validated row by row: a bad row is reported with its line number and nothing of
  it is written; good rows are granted with an id derived from the row's content and its
  occurrence in the file, so running the same file again grants nothing twice.
- Expiry is the end (23:59:59.999) of the given JST day; a date already past is refused.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chalicelib.core.clock import Clock, end_of_jst_day, jst_date, utc_key
from chalicelib.core.errors import Conflict, DomainError, IdempotencyKeyReused, InvalidRequest
from chalicelib.core.ids import new_id
from chalicelib.core.points import is_points
from chalicelib.payments import records as r
from chalicelib.payments.wallet import Lot
from chalicelib.store.table import Table, TransactionConflict, op_put, op_update

MAX_GRANT_POINTS = 1_000_000
MAX_ATTEMPTS = 10
CONSUMER_ID_MAX = 64


@dataclasses.dataclass(frozen=True)
class GrantCommand:
    grant_id: str
    consumer_id: str
    points: int
    expires_on: dt.date

    def to_api(self) -> dict[str, Any]:
        return {"grant_id": self.grant_id, "consumer_id": self.consumer_id, "points": self.points,
                "expires_on": self.expires_on.isoformat()}


def validate_consumer_id(value: Any, param: str = "consumer_id") -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= CONSUMER_ID_MAX or not value.isprintable() \
            or value != value.strip() or "#" in value:
        raise InvalidRequest(f"{param} は1〜{CONSUMER_ID_MAX}文字の利用者IDにしてください。", param=param)
    return value


def validate_grant_id(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 128 or not all(33 <= ord(c) <= 126 for c in value):
        raise InvalidRequest("grant_id は1〜128文字の英数字記号にしてください。", param="grant_id")
    return value


def parse_expires_on(value: Any, today: dt.date) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidRequest("expires_on は YYYY-MM-DD 形式の日付にしてください。", param="expires_on")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("expires_on は YYYY-MM-DD 形式の日付にしてください。", param="expires_on") from None
    if day < today:
        raise InvalidRequest("expires_on が過去の日付です。", param="expires_on")
    if day > today + dt.timedelta(days=366 * 5):
        raise InvalidRequest("expires_on は5年以内にしてください。", param="expires_on")
    return day


def parse_points(value: Any) -> int:
    if not is_points(value) or not 1 <= value <= MAX_GRANT_POINTS:
        raise InvalidRequest(f"points は1〜{MAX_GRANT_POINTS:,}の整数にしてください。", param="points")
    return int(value)


@dataclasses.dataclass(frozen=True)
class GrantOutcome:
    grant: GrantCommand
    created: bool


class GrantService:
    def __init__(self, table: Table, clock: Clock) -> None:
        self.table = table
        self.clock = clock

    def command(self, *, consumer_id: Any, points: Any, expires_on: Any, grant_id: Any = None) -> GrantCommand:
        today = jst_date(self.clock.now())
        return GrantCommand(
            grant_id=validate_grant_id(grant_id) if grant_id is not None else "G" + new_id(15),
            consumer_id=validate_consumer_id(consumer_id),
            points=parse_points(points),
            expires_on=parse_expires_on(expires_on, today),
        )

    def grant(self, cmd: GrantCommand) -> GrantOutcome:
        now = self.clock.now()
        lot = Lot(cmd.grant_id, end_of_jst_day(cmd.expires_on), cmd.points)
        record = {"pk": r.grant_pk(cmd.grant_id), "sk": "GRANT", "kind": "grant", **cmd.to_api(),
                  "expires_at": utc_key(lot.expires_at), "granted_at": utc_key(now)}
        for attempt in range(MAX_ATTEMPTS):
            try:
                self._write(cmd, record, lot, now)
                return GrantOutcome(cmd, created=True)
            except TransactionConflict as exc:
                if exc.failed(0):
                    break
                # a concurrent payment or grant held the wallet: the grant did not happen, try again
                time.sleep(0.01 * (attempt + 1))
        else:
            raise Conflict("混み合っています。もう一度お試しください。")
        existing = self.table.get(r.grant_pk(cmd.grant_id), "GRANT")
        if existing is None:  # the record cannot vanish: grants are never deleted
            raise InvalidRequest("付与を記録できませんでした。もう一度お試しください。")
        same = (existing["consumer_id"], existing["points"], existing["expires_on"]) == (
            cmd.consumer_id, cmd.points, cmd.expires_on.isoformat())
        if not same:
            raise IdempotencyKeyReused("この grant_id は別の内容の付与に使われています。", param="grant_id")
        return GrantOutcome(cmd, created=False)


    def _write(self, cmd: GrantCommand, record: dict[str, Any], lot: Lot, now: dt.datetime) -> None:
        self.table.transact([
            op_put(record, condition="attribute_not_exists(pk)"),
            op_update(
                r.wallet_pk(cmd.consumer_id), r.WALLET_SK,
                "SET lots = list_append(if_not_exists(lots, :empty), :lot), consumer_id = :cid, "
                "version = if_not_exists(version, :zero) + :one, "
                "expired_points = if_not_exists(expired_points, :zero), updated_at = :t",
                values={":empty": [], ":lot": [lot.to_item()], ":cid": cmd.consumer_id, ":zero": 0,
                        ":one": 1, ":t": utc_key(now)},
            ),
        ])


# -- bulk CSV ----------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclasses.dataclass
class BulkReport:
    granted: int = 0
    already: int = 0
    points_granted: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def row_grant_id(batch: str, consumer_id: str, points: int, expires_on: dt.date, occurrence: int) -> str:
    raw = f"{batch}|{consumer_id}|{points}|{expires_on.isoformat()}|{occurrence}"
    return "B" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:31].upper()


def parse_bulk_csv(text: str, *, today: dt.date, batch: str = "") -> Iterator[tuple[int, GrantCommand | RowError]]:
    """Yield (line number, command or error) for each data row; line numbers count the header as 1."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    required = ["consumer_id", "points", "expires_on"]
    if header[:3] != required or len(header) > 4 or (len(header) == 4 and header[3] != "grant_id"):
        yield 1, RowError(1, "見出し行は consumer_id,points,expires_on[,grant_id] にしてください。")
        return
    seen: dict[tuple[str, int, dt.date], int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        try:
            if len(row) != len(header):
                raise InvalidRequest(f"列の数が {len(header)} ではありません({len(row)} 列)。")
            consumer_id = validate_consumer_id(row[0].strip())
            raw_points = row[1].strip()
            if not raw_points.isdigit():
                raise InvalidRequest("points は正の整数にしてください。", param="points")
            points = parse_points(int(raw_points))
            expires_on = parse_expires_on(row[2].strip(), today)
            key = (consumer_id, points, expires_on)
            seen[key] = seen.get(key, 0) + 1
            grant_id = validate_grant_id(row[3].strip()) if len(header) == 4 and row[3].strip() else \
                row_grant_id(batch, consumer_id, points, expires_on, seen[key])
            yield line, GrantCommand(grant_id, consumer_id, points, expires_on)
        except DomainError as exc:
            yield line, RowError(line, exc.message)


def grant_bulk(
    service: GrantService,
    rows: Iterable[tuple[int, GrantCommand | RowError]],
    *,
    progress: Callable[[int], None] = lambda n: None,
) -> BulkReport:
    report = BulkReport()
    for line, item in rows:
        if isinstance(item, RowError):
            report.errors.append(item)
        else:
            try:
                outcome = service.grant(item)
            except DomainError as exc:
                report.errors.append(RowError(line, exc.message))
            else:
                if outcome.created:
                    report.granted += 1
                    report.points_granted += item.points
                else:
                    report.already += 1
        progress(1)
    return report
