"""CSV export of a merchant's history to S3, streamed: memory does not grow with the rows.

Rows go from the Query (bounded pages) through the CSV writer into a spool file on local disk; each
time the spool reaches the multipart part size it is uploaded as one part and emptied. Memory holds
one page of items and a small write buffer, whatever the number of rows. A small export (one part)
is a single PutObject.

Format (SPEC §6): UTF-8 with BOM, CRLF line ends, RFC 4180 quoting, Japanese headers, JST times.
A cell starting with ``= + - @ TAB CR`` gets a leading apostrophe so no spreadsheet runs it as a
formula. The object key holds a random token, lives under ``exports/<merchant>/`` and contains only
that merchant's rows; the link is a presigned GET for that one object that expires.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

from chalicelib.console.history import STATUS_LABEL, HistoryService
from chalicelib.console.ranges import Range
from chalicelib.core.clock import Clock, jst_iso
from chalicelib.payments.records import Payment
from chalicelib.store.s3 import PART_SIZE, SpoolingUpload, neutralise, presign, write_csv

HEADERS = ["取引日時", "決済ID", "店舗名", "利用者ID", "ポイント", "状態", "取消日時"]


def csv_cells(payment: Payment) -> list[str]:
    return [
        jst_iso(payment.completed_at),
        payment.payment_id,
        neutralise(payment.name_ja),
        neutralise(payment.consumer_id),
        str(payment.amount),
        STATUS_LABEL[payment.status],
        jst_iso(payment.cancelled_at) if payment.cancelled_at else "",
    ]


@dataclasses.dataclass(frozen=True)
class ExportResult:
    url: str
    expires_at: dt.datetime
    rows: int
    key: str
    filename: str


class ExportService:
    def __init__(self, history: HistoryService, s3: Any, bucket: str, clock: Clock, ttl_seconds: int,
                 part_size: int = PART_SIZE) -> None:
        self.history = history
        self.s3 = s3
        self.bucket = bucket
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self.part_size = part_size

    def export(self, merchant_id: str, rng: Range) -> ExportResult:
        now = self.clock.now()
        stamp = rng.from_label.replace(":", "").replace("-", "") + "-" + rng.to_label.replace(":", "").replace("-", "")
        filename = f"取引履歴_{stamp}.csv"
        key = f"exports/{merchant_id}/{secrets.token_urlsafe(24)}/{filename}"
        upload = SpoolingUpload(self.s3, self.bucket, key, "text/csv; charset=utf-8", self.part_size)
        rows = write_csv(upload, HEADERS, (csv_cells(p) for p in self.history.iter_range(merchant_id, rng)))
        url = presign(self.s3, self.bucket, key, filename, self.ttl_seconds)
        return ExportResult(url=url, expires_at=now + dt.timedelta(seconds=self.ttl_seconds), rows=rows, key=key,
                            filename=filename)
