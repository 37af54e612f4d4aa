"""Files the product writes (exports, reports, bank files): the port, its in-memory fake, and the
CSV cell rule every file shares.

Every CSV is UTF-8 with BOM, CRLF, RFC 4180 quoting; a text cell that a spreadsheet would run as a
formula (starting with ``= + - @ TAB CR`` or their full-width forms) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Protocol

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


class Files(Protocol):
    def write_csv(self, key: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
        """Stream a CSV file to ``key``; returns the number of data rows."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def link(self, key: str, filename: str, ttl_seconds: int, content_type: str = "text/csv; charset=utf-8") -> str:
        """A link that downloads this one object as ``filename`` and expires."""


class MemoryFiles:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def write_csv(self, key: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        count = 0
        for cells in rows:
            writer.writerow(cells)
            count += 1
        self.objects[key] = (buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8")
        return count

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (data, content_type)

    def get(self, key: str) -> bytes | None:
        found = self.objects.get(key)
        return found[0] if found else None

    def link(self, key: str, filename: str, ttl_seconds: int, content_type: str = "text/csv; charset=utf-8") -> str:
        return f"memory://{key}?filename={filename}&ttl={ttl_seconds}"
