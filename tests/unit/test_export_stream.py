"""The CSV export streams: parts go to S3 as they fill, rows never accumulate in memory."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.console.export import HEADERS, csv_cells
from chalicelib.core.clock import UTC
from chalicelib.payments.model import Payment
from chalicelib.store.files import neutralise
from chalicelib.store.s3 import SpoolingUpload, write_csv


class FakeS3:
    """Keeps parts like S3 does and enforces its rule: every part but the last >= min_part."""

    def __init__(self, min_part: int, keep: bool = True) -> None:
        self.min_part = min_part
        self.keep = keep  # False: remember sizes only, so the fake does not hold the file in memory
        self.parts: list[bytes] = []
        self.sizes: list[int] = []
        self.objects: dict[str, bytes] = {}
        self.calls: list[str] = []

    def create_multipart_upload(self, **kw: Any) -> dict[str, str]:
        self.calls.append("create")
        return {"UploadId": "u1"}

    def upload_part(self, *, Body: Any, ContentLength: int, PartNumber: int, **kw: Any) -> dict[str, str]:
        data = Body.read()
        assert len(data) == ContentLength
        self.parts.append(data if self.keep else b"")
        self.sizes.append(len(data))
        self.calls.append("part")
        return {"ETag": f"e{PartNumber}"}

    def complete_multipart_upload(self, *, Key: str, MultipartUpload: dict[str, Any], **kw: Any) -> None:
        assert all(size >= self.min_part for size in self.sizes[:-1])
        assert [p["PartNumber"] for p in MultipartUpload["Parts"]] == list(range(1, len(self.parts) + 1))
        self.objects[Key] = b"".join(self.parts)
        self.calls.append("complete")

    def put_object(self, *, Key: str, Body: Any, ContentLength: int, **kw: Any) -> None:
        self.objects[Key] = Body.read()
        assert len(self.objects[Key]) == ContentLength
        self.calls.append("put")

    def abort_multipart_upload(self, **kw: Any) -> None:
        self.calls.append("abort")


def payments(n: int) -> Iterator[Payment]:
    base = dt.datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    for i in range(n):
        yield Payment(payment_id=f"P{i:09d}", merchant_id="M1", consumer_id=f"C-{i % 97}", amount=1 + i % 500,
                      status="completed" if i % 7 else "cancelled", completed_at=base + dt.timedelta(seconds=i),
                      cancelled_at=None if i % 7 else base + dt.timedelta(seconds=i + 5), name_ja="女川商店",
                      name_en="SHOP", shares=())


def export(n: int, part_size: int, keep: bool = True) -> tuple[FakeS3, int]:
    s3 = FakeS3(part_size, keep)
    upload = SpoolingUpload(s3, "b", "k", "text/csv", part_size=part_size)
    rows = write_csv(upload, HEADERS, (csv_cells(p) for p in payments(n)))
    return s3, rows


def test_large_export_is_uploaded_in_parts_and_reassembles() -> None:
    s3, rows = export(20_000, part_size=64 * 1024)
    assert rows == 20_000 and s3.calls[0] == "create" and s3.calls[-1] == "complete"
    assert s3.calls.count("part") >= 10
    text = s3.objects["k"].decode("utf-8")
    assert text.startswith("\ufeff") and text.count("\r\n") == 20_001
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert parsed[0] == HEADERS and len(parsed) == 20_001


def test_small_export_is_one_put() -> None:
    s3, rows = export(10, part_size=64 * 1024)
    assert rows == 10 and s3.calls == ["put"]


def test_memory_does_not_grow_with_rows() -> None:
    def peak(n: int) -> int:
        tracemalloc.start()
        export(n, part_size=64 * 1024, keep=False)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(5_000), peak(50_000)
    assert large < small * 1.5, (small, large)


def test_failure_aborts_the_upload() -> None:
    s3 = FakeS3(1024)
    upload = SpoolingUpload(s3, "b", "k", "text/csv", part_size=1024)

    def rows() -> Iterator[list[str]]:
        yield from (csv_cells(p) for p in payments(2000))
        raise RuntimeError("query failed half way")

    with pytest.raises(RuntimeError):
        write_csv(upload, HEADERS, rows())
    assert s3.calls[-1] == "abort" and "k" not in s3.objects


@pytest.mark.parametrize(("value", "out"), [("=1+1", "'=1+1"), ("+81", "'+81"), ("-3", "'-3"), ("@SUM", "'@SUM"),
                                            ("\tx", "'\tx"), ("\rx", "'\rx"), ("女川", "女川"), ("a=b", "a=b")])
def test_formula_cells_are_neutralised(value: str, out: str) -> None:
    assert neutralise(value) == out
