"""Where audit entries are kept (the port). Append-only: there is deliberately no update or delete."""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.audit.model import AuditEntry


class AuditEntryExists(Exception):
    """A put of an entry id that is already stored: entries are never overwritten."""


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None:
        """Store a new entry, on condition that it does not exist (``AuditEntryExists`` otherwise)."""

    def month_page(self, merchant_id: str | None, month: str, *, limit: int,
                   after: dict[str, Any] | None) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        """Entries of one UTC month, newest first: one merchant's (``merchant_id``), or everyone's
        (``None``, the operator's view). The key to continue after them, or None when the month is done."""
