"""CSV export of a merchant's history, streamed: memory does not grow with the rows.

Rows go from the Query (bounded pages, one day's index partition after another) through the CSV
writer to the file store, which uploads them in parts (see ``store.s3``); memory holds one page of
items and one part at most.

Format (SPEC §6): UTF-8 with BOM, CRLF line ends, RFC 4180 quoting, Japanese headers, JST times as
``YYYY/MM/DD HH:MM:SS`` (a spreadsheet reads them as dates).
Cells that a spreadsheet would run as a formula are neutralised. The object key holds a random
token, lives under ``exports/<merchant>/`` and contains only that merchant's rows; the link is a
presigned GET for that one object that expires.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from chalicelib.console.history import STATUS_LABEL, HistoryService
from chalicelib.console.ranges import Range
from chalicelib.core.clock import Clock, csv_time
from chalicelib.payments.model import Payment
from chalicelib.payments.repository import Stores
from chalicelib.store.files import Files, neutralise

HEADERS = ["取引日時", "決済ID", "店舗名", "利用者ID", "ポイント", "状態", "取消日時"]


def csv_cells(payment: Payment) -> list[str]:
    return [
        csv_time(payment.completed_at),
        payment.payment_id,
        neutralise(payment.store_name),
        neutralise(payment.consumer_id),
        str(payment.amount),
        STATUS_LABEL[payment.status],
        csv_time(payment.cancelled_at) if payment.cancelled_at else "",
    ]


@dataclasses.dataclass(frozen=True)
class ExportResult:
    url: str
    expires_at: dt.datetime
    rows: int
    key: str
    filename: str


class ExportService:
    def __init__(self, history: HistoryService, files: Files, clock: Clock, ttl_seconds: int) -> None:
        self.history = history
        self.files = files
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    def export(self, merchant_id: str, rng: Range, stores: Stores = None) -> ExportResult:
        """The range's payments (of these shops; None: every shop) as a CSV file and a link to it."""
        now = self.clock.now()
        stamp = rng.from_label.replace(":", "").replace("-", "") + "-" + rng.to_label.replace(":", "").replace("-", "")
        filename = f"取引履歴_{stamp}.csv"
        key = f"exports/{merchant_id}/{secrets.token_urlsafe(24)}/{filename}"
        payments = self.history.iter_range(merchant_id, rng, stores)
        rows = self.files.write_csv(key, HEADERS, (csv_cells(p) for p in payments))
        return ExportResult(url=self.files.link(key, filename, self.ttl_seconds),
                            expires_at=now + dt.timedelta(seconds=self.ttl_seconds), rows=rows, key=key,
                            filename=filename)
