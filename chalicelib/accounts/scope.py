"""What a merchant's staff member may do and see (SPEC §6a): pure decisions, no I/O.

Invariants:
- Roles: ``owner`` everything (staff and the audit log included); ``manager`` history, export, 取消
  and payouts of its shops; ``clerk`` the register view, the live feed and today's (JST) history of
  its shops. Each route states which roles it admits; anything else answers 403 ``forbidden``.
- Scope: ``None`` is every shop of the merchant (including shops added later); a tuple is those
  shops only. A shop of another merchant (or none) answers 404 before the scope is looked at, so a
  staff member learns nothing about other businesses; a shop of this merchant outside the scope
  answers 403, as SPEC §6a says for "a request outside a member's shops".
- The allowed set a route filters by is never empty: no filter (``None``) means all shops, and only
  a member whose scope covers every shop of the merchant gets ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from chalicelib.accounts.model import CLERK, MANAGER, OWNER, STAFF_ROLES
from chalicelib.core.clock import jst_date
from chalicelib.core.errors import Forbidden, NotFound

ALL = STAFF_ROLES
OWNER_ONLY = (OWNER,)
OWNER_MANAGER = (OWNER, MANAGER)

ROLE_LABELS = {OWNER: "オーナー", MANAGER: "マネージャー", CLERK: "レジ担当"}
OUT_OF_ROLE = "この操作はあなたの役割({role})では使えません。"
OUT_OF_SCOPE = "この店舗はあなたの担当ではありません。"
CLERK_TODAY_ONLY = "レジ担当が見られるのは今日(日本時間)の取引だけです。"


def shop_not_found() -> NotFound:
    return NotFound("店舗が見つかりません。", param="store_id")


def require_staff_role(staff_role: str | None, allowed: Collection[str]) -> None:
    """403 unless the member's role is one the route admits."""
    if staff_role not in allowed:
        raise Forbidden(OUT_OF_ROLE.format(role=ROLE_LABELS.get(staff_role or "", staff_role or "-")))


def allowed_stores(scope: tuple[str, ...] | None, requested: str,
                   merchant_stores: frozenset[str]) -> frozenset[str] | None:
    """The shops a request may see: ``None`` for every shop of the merchant, else a non-empty set.

    ``requested`` is the ``store_id`` the request names (empty: none named). Another merchant's shop
    → 404; a shop of this merchant outside ``scope`` → 403.
    """
    if requested:
        if requested not in merchant_stores:
            raise shop_not_found()
        if scope is not None and requested not in scope:
            raise Forbidden(OUT_OF_SCOPE, param="store_id")
        return frozenset({requested})
    if scope is None:
        return None
    mine = frozenset(scope) & merchant_stores
    if not mine:
        raise Forbidden(OUT_OF_SCOPE)  # every shop of its scope is gone: nothing to see
    if mine == merchant_stores:
        return None
    return mine


def require_store(scope: tuple[str, ...] | None, store_id: str) -> None:
    """403 when a record of this merchant belongs to a shop outside the member's scope."""
    if scope is not None and store_id not in scope:
        raise Forbidden(OUT_OF_SCOPE, param="store_id")


def covers_every_store(scope: tuple[str, ...] | None, merchant_stores: frozenset[str]) -> bool:
    return scope is None or merchant_stores <= frozenset(scope)


def require_today(staff_role: str | None, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    """A clerk's history: the half-open range [start, end) must lie within today (JST)."""
    if staff_role != CLERK:
        return
    today = jst_date(now)
    last = end - dt.timedelta(microseconds=1)
    if jst_date(start) != today or jst_date(last) != today:
        raise Forbidden(CLERK_TODAY_ONLY, param="from")


def require_today_moment(staff_role: str | None, moment: dt.datetime, now: dt.datetime) -> None:
    """A clerk may open a single payment only when it was made today (JST)."""
    if staff_role == CLERK and jst_date(moment) != jst_date(now):
        raise Forbidden(CLERK_TODAY_ONLY, param="payment_id")


def check_store_ids(store_ids: Collection[str] | None, merchant_stores: frozenset[str]) -> tuple[str, ...] | None:
    """A new member's scope as stored: ``None`` (all shops) or the sorted distinct shops, each one of
    this merchant's; ``ValueError`` naming the first unknown shop."""
    if store_ids is None:
        return None
    chosen = sorted(set(store_ids))
    for store in chosen:
        if store not in merchant_stores:
            raise ValueError(store)
    if not chosen:
        raise ValueError("")
    return tuple(chosen)
