"""An in-memory :class:`~chalicelib.audit.repository.AuditRepository` for unit tests."""

from __future__ import annotations

from typing import Any

from chalicelib.audit.model import AuditEntry, month_of
from chalicelib.audit.repository import AuditEntryExists
from chalicelib.core.clock import utc_key


def _sort_key(entry: AuditEntry) -> str:
    return f"{utc_key(entry.at)}#{entry.audit_id}"


class FakeAuditRepository:
    def __init__(self) -> None:
        self.entries: dict[str, AuditEntry] = {}

    def add(self, entry: AuditEntry) -> None:
        if entry.audit_id in self.entries:
            raise AuditEntryExists(entry.audit_id)
        self.entries[entry.audit_id] = entry

    def month_page(self, merchant_id: str | None, month: str, *, limit: int,
                   after: dict[str, Any] | None) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        rows = sorted((e for e in self.entries.values()
                       if month_of(e.at) == month and (merchant_id is None or e.merchant_id == merchant_id)),
                      key=_sort_key, reverse=True)
        if after is not None:
            rows = [e for e in rows if _sort_key(e) < after["sk"]]
        chunk = rows[:limit]
        more = len(rows) > limit
        return chunk, ({"sk": _sort_key(chunk[-1])} if chunk and more else None)
