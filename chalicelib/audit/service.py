"""Recording and reading the audit log.

Invariants:
- ``record`` never makes the action it records fail or happen twice: it runs after the action has
  committed, and a failure to store the entry is logged (with the whole entry, so it is still kept in
  the function's log) and swallowed. A money operation (取消) already keeps its own transactional
  record of who and when (the cancellation row's ``cancelled_by`` and ``cancelled_at``); the audit entry
  adds the source IP and the owner's view. Putting the entry inside the money transaction would let an
  audit problem refuse a refund, which is worse than a log line.
- Reads are newest first, one Query per UTC month walked backwards, never a Scan; the owner's walk
  stops at the month its merchant was registered, the operator's after ``READ_MONTHS`` months.
- The CSV export streams entries to the file store as every CSV of the product does (UTF-8 BOM,
  CRLF, formula-neutralised cells) and answers a presigned link that expires.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import Iterator
from typing import Any

from chalicelib.audit.model import AuditEntry, month_of, months_back, previous_month
from chalicelib.audit.repository import AuditEntryExists, AuditRepository
from chalicelib.core.clock import Clock, csv_time, jst_date
from chalicelib.core.ids import new_id
from chalicelib.store.files import Files, neutralise

READ_MONTHS = 26  # two years and the current month, and one more: older entries are kept, not listed
CSV_HEADERS = ["日時", "操作者", "役割", "操作", "操作コード", "対象", "IPアドレス", "事業者ID", "詳細"]
ROLE_LABELS = {"operator": "商工会", "owner": "オーナー", "manager": "マネージャー", "clerk": "レジ担当"}

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class AuditLink:
    url: str
    expires_at: dt.datetime
    rows: int
    filename: str


def csv_cells(entry: AuditEntry) -> list[str]:
    return [csv_time(entry.at), neutralise(entry.actor), ROLE_LABELS.get(entry.actor_role, entry.actor_role),
            entry.label, entry.action, neutralise(entry.target), neutralise(entry.ip), entry.merchant_id or "",
            neutralise(entry.detail)]


class AuditService:
    def __init__(self, repo: AuditRepository, clock: Clock, files: Files | None = None,
                 url_ttl_seconds: int = 900) -> None:
        self.repo = repo
        self.clock = clock
        self.files = files
        self.url_ttl_seconds = url_ttl_seconds

    # -- writing --------------------------------------------------------------------------------
    def record(self, actor: str, action: str, target: str = "", ip: str = "", *, merchant_id: str | None = None,
               actor_role: str = "", detail: str = "") -> AuditEntry:
        """Append one entry (after the action it records has happened). Never raises."""
        entry = AuditEntry(audit_id=new_id(16), at=self.clock.now(), actor=actor[:128], action=action,
                           target=target[:256], ip=ip[:64], actor_role=actor_role, merchant_id=merchant_id,
                           detail=detail[:512])
        for _ in range(3):
            try:
                self.repo.add(entry)
                return entry
            except AuditEntryExists:
                return entry  # stored by an earlier try whose answer was lost
            except Exception:  # noqa: S112 - the action already happened: it must not fail now
                continue
        log.error("audit write failed", extra={"audit": {
            "audit_id": entry.audit_id, "at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action,
            "target": entry.target, "ip": entry.ip, "merchant_id": entry.merchant_id}})
        return entry

    # -- reading --------------------------------------------------------------------------------
    def floor(self, oldest: dt.datetime | None = None) -> str:
        limit = months_back(month_of(self.clock.now()), READ_MONTHS)
        return max(limit, month_of(oldest)) if oldest is not None else limit

    def page(self, merchant_id: str | None, *, limit: int, cursor: dict[str, Any] | None,
             floor: str) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        """Up to ``limit`` entries, newest first, and the cursor after them (None at the end)."""
        month = str(cursor["m"]) if cursor else month_of(self.clock.now())
        after = cursor.get("k") if cursor else None
        items: list[AuditEntry] = []
        while len(items) < limit and month >= floor:
            got, last = self.repo.month_page(merchant_id, month, limit=limit - len(items), after=after)
            items.extend(got)
            if last is not None:
                return items, {"m": month, "k": last}
            month, after = previous_month(month), None
        return items, ({"m": month, "k": None} if month >= floor else None)

    def iter_all(self, merchant_id: str | None, floor: str) -> Iterator[AuditEntry]:
        cursor: dict[str, Any] | None = None
        while True:
            items, cursor = self.page(merchant_id, limit=200, cursor=cursor, floor=floor)
            yield from items
            if cursor is None:
                return

    def export(self, merchant_id: str | None, floor: str) -> AuditLink:
        if self.files is None:
            raise RuntimeError("export needs the file store")
        now = self.clock.now()
        filename = f"操作履歴_{jst_date(now).strftime('%Y%m%d')}.csv"
        owner = merchant_id or "all"
        key = f"exports/audit/{owner}/{secrets.token_urlsafe(24)}/{filename}"
        rows = self.files.write_csv(key, CSV_HEADERS, (csv_cells(e) for e in self.iter_all(merchant_id, floor)))
        return AuditLink(url=self.files.link(key, filename, self.url_ttl_seconds),
                         expires_at=now + dt.timedelta(seconds=self.url_ttl_seconds), rows=rows, filename=filename)
