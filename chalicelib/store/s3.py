"""Files in S3: CSV written as a stream in multipart parts, and presigned links to one object.

Memory never holds a whole file: rows go through the CSV writer into a spool file on local disk
(Lambda's /tmp), which is uploaded as one multipart part each time it reaches the part size and then
emptied. Every CSV is UTF-8 with BOM, CRLF, RFC 4180 quoting; text cells that a spreadsheet would
run as a formula (starting with ``= + - @ TAB CR``) get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import tempfile
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import IO, Any

PART_SIZE = 8 * 1024 * 1024  # S3 parts must be >= 5 MiB, except the last


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


class S3Files:
    """The :class:`~chalicelib.store.files.Files` port on one S3 bucket."""

    def __init__(self, s3: Any, bucket: str, part_size: int = PART_SIZE) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.part_size = part_size

    def write_csv(self, key: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
        upload = SpoolingUpload(self.s3, self.bucket, key, "text/csv; charset=utf-8", self.part_size)
        return write_csv(upload, header, rows)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            resp = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        return bytes(resp["Body"].read())

    def link(self, key: str, filename: str, ttl_seconds: int, content_type: str = "text/csv; charset=utf-8") -> str:
        disposition = f"attachment; filename*=UTF-8''{urllib.parse.quote(filename)}"
        url: str = self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": disposition,
                    "ResponseContentType": content_type},
            ExpiresIn=ttl_seconds,
        )
        return url
