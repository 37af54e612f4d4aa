"""The DynamoDB implementation of :mod:`chalicelib.audit.repository`.

One merchant's entries of one UTC month share a partition (``AUDIT#M#<merchant>#<month>``), sorted by
time: the owner's newest-first read is a Query per month. Every entry is also in the index partition
of its month (gsi1 ``AUDIT#ALL#<month>``): the operator's read is a Query of the index per month.
Entries expire by TTL three years after they were made (SPEC: kept at least two years).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib.audit.model import AuditEntry, month_of
from chalicelib.audit.repository import AuditEntryExists
from chalicelib.core.clock import utc_key
from chalicelib.store import connection as db
from chalicelib.store.models import AuditItem, audit_all_pk, audit_pk

KEEP = dt.timedelta(days=3 * 366)


def entry_item(entry: AuditEntry) -> AuditItem:
    month = month_of(entry.at)
    sk = f"{utc_key(entry.at)}#{entry.audit_id}"
    return AuditItem(audit_pk(entry.merchant_id, month), sk, audit_id=entry.audit_id, at=entry.at, actor=entry.actor,
                     actor_role=entry.actor_role or None, action=entry.action, target=entry.target or None,
                     ip=entry.ip or None, merchant_id=entry.merchant_id, detail=entry.detail or None,
                     gsi1pk=audit_all_pk(month), gsi1sk=sk, ttl=entry.at + KEEP)


def entry_from_item(item: AuditItem) -> AuditEntry:
    return AuditEntry(audit_id=item.audit_id, at=item.at, actor=item.actor, actor_role=item.actor_role or "",
                      action=item.action, target=item.target or "", ip=item.ip or "", merchant_id=item.merchant_id,
                      detail=item.detail or "")


class DynamoAuditRepository:
    def add(self, entry: AuditEntry) -> None:
        try:
            db.save(entry_item(entry), condition=AuditItem.pk.does_not_exist())
        except db.ConditionFailed:
            raise AuditEntryExists(entry.audit_id) from None

    def month_page(self, merchant_id: str | None, month: str, *, limit: int,
                   after: dict[str, Any] | None) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        if merchant_id is None:
            results = AuditItem.query(audit_all_pk(month), index_name="gsi1", scan_index_forward=False, limit=limit,
                                      page_size=limit + 1, last_evaluated_key=after)
        else:
            results = AuditItem.query(audit_pk(merchant_id, month), scan_index_forward=False, limit=limit,
                                      page_size=limit + 1, last_evaluated_key=after)
        items, last = db.page(results, limit)
        return [entry_from_item(i) for i in items], last
