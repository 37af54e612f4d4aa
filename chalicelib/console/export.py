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

import csv
import dataclasses
import datetime as dt
import io
import secrets
import tempfile
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import IO, Any

from chalicelib.console.history import STATUS_LABEL, HistoryService
from chalicelib.console.ranges import Range
from chalicelib.core.clock import Clock, jst_iso
from chalicelib.payments.records import Payment

PART_SIZE = 8 * 1024 * 1024  # S3 parts must be >= 5 MiB, except the last
HEADERS = ["取引日時", "決済ID", "店舗名", "利用者ID", "ポイント", "状態", "取消日時"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


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


class SpoolingUpload:
    """Writes text into S3 in multipart parts, keeping at most one part on disk and none in memory.

    The spool file holds exactly the bytes of the next part (it is emptied after each upload), so the
    file itself is the request body: seekable, as botocore's checksums need, and never read into memory.
    """

    def __init__(self, s3: Any, bucket: str, key: str, content_type: str, part_size: int = PART_SIZE) -> None:
        self.s3, self.bucket, self.key, self.content_type = s3, bucket, key, content_type
        self.part_size = part_size
        self._spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish/abort
        self._text = io.TextIOWrapper(self._spool, encoding="utf-8", newline="", write_through=True)
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    @property
    def text(self) -> io.TextIOWrapper:
        return self._text

    def maybe_flush(self) -> None:
        if self._spool.tell() >= self.part_size:
            self._upload_part()

    def _upload_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type)["UploadId"]
        size = self._spool.tell()
        self._spool.seek(0)
        number = len(self._parts) + 1
        resp = self.s3.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number,
                                   Body=self._spool, ContentLength=size)
        self._parts.append({"ETag": resp["ETag"], "PartNumber": number})
        self._spool.seek(0)
        self._spool.truncate()

    def finish(self) -> None:
        try:
            if self._upload_id is None:
                size = self._spool.tell()
                self._spool.seek(0)
                self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=self._spool, ContentLength=size,
                                   ContentType=self.content_type)
                return
            if self._spool.tell() > 0:
                self._upload_part()
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
                                              MultipartUpload={"Parts": self._parts})
        except BaseException:
            self.abort()
            raise
        finally:
            self._spool.close()

    def close(self) -> None:
        self._spool.close()

    def abort(self) -> None:
        if self._upload_id is not None:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            self._upload_id = None


def write_csv(upload: SpoolingUpload, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    count = 0
    try:
        upload.text.write("\ufeff")
        writer = csv.writer(upload.text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        for cells in rows:
            writer.writerow(cells)
            count += 1
            if count % 256 == 0:
                upload.maybe_flush()
    except BaseException:
        upload.abort()
        upload.close()
        raise
    upload.finish()
    return count


@dataclasses.dataclass(frozen=True)
class ExportResult:
    url: str
    expires_at: dt.datetime
    rows: int
    key: str
    filename: str


def presign(s3: Any, bucket: str, key: str, filename: str, ttl_seconds: int) -> str:
    disposition = f"attachment; filename*=UTF-8''{urllib.parse.quote(filename)}"
    url: str = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": disposition,
                "ResponseContentType": "text/csv; charset=utf-8"},
        ExpiresIn=ttl_seconds,
    )
    return url


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
