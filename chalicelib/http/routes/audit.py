"""The audit log (SPEC §6a): the owner reads its merchant's, the operator everyone's; CSV of each.

There is no route that changes or deletes an entry: the log is append-only by construction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from chalicelib.accounts.scope import OWNER_ONLY
from chalicelib.core.clock import jst_iso
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.routing import Ctx, Routes
from chalicelib.http.schemas import JstTime, Link, PageQuery

if TYPE_CHECKING:
    from chalicelib.audit.model import AuditEntry

routes = Routes(__name__)


class AuditOut(msgspec.Struct, kw_only=True):
    at: JstTime
    actor: Annotated[str, Meta(description="the login ID that acted (for a failed login: the ID typed)")]
    action: Annotated[str, Meta(description="login, login_failed, payment_cancel, export, staff_add, ...")]
    target: str
    ip: Annotated[str, Meta(description="the source IP address of the request")]
    action_label: str
    actor_role: str
    merchant_id: str | None
    detail: str


class AuditList(msgspec.Struct):
    items: list[AuditOut]
    next_cursor: str | None


def audit_out(e: AuditEntry) -> AuditOut:
    return AuditOut(at=jst_iso(e.at), actor=e.actor, action=e.action, target=e.target, ip=e.ip,
                    action_label=e.label, actor_role=e.actor_role, merchant_id=e.merchant_id, detail=e.detail)


def _page(ctx: Ctx, merchant_id: str | None, floor: str, query: PageQuery) -> AuditList:
    c = ctx.container
    scope = f"audit|{merchant_id or '*'}"
    cursor = decode_cursor(c.cursor_secret, scope, query.cursor)
    if cursor is not None and not (isinstance(cursor.get("m"), str) and len(cursor["m"]) == 7):
        cursor = None
    items, after = c.audit.page(merchant_id, limit=query.limit or 50, cursor=cursor, floor=floor)
    return AuditList(items=[audit_out(e) for e in items], next_cursor=encode_cursor(c.cursor_secret, scope, after))


def _merchant_floor(ctx: Ctx) -> str:
    return ctx.container.audit.floor(ctx.container.merchants.get(ctx.merchant_id).created_at)


def _link(link: object) -> Link:
    from chalicelib.audit.service import AuditLink

    assert isinstance(link, AuditLink)
    return Link(url=link.url, expires_at=jst_iso(link.expires_at), rows=link.rows, filename=link.filename)


@routes.route("/v1/merchant/audit", summary="操作履歴(新しい順)", roles=["merchant"], query=PageQuery,
              response=AuditList, staff_roles=OWNER_ONLY)
def merchant_audit(ctx: Ctx, query: PageQuery) -> AuditList:
    return _page(ctx, ctx.merchant_id, _merchant_floor(ctx), query)


@routes.route("/v1/merchant/audit/exports", "POST", summary="操作履歴をCSVでダウンロード", roles=["merchant"],
              status=201, response=Link, staff_roles=OWNER_ONLY)
def merchant_audit_export(ctx: Ctx) -> Link:
    link = ctx.container.audit.export(ctx.merchant_id, _merchant_floor(ctx))
    ctx.audit("audit_export", ctx.merchant_id, detail=f"{link.rows} rows")
    return _link(link)


@routes.route("/v1/admin/audit", summary="操作履歴(全事業者と商工会、新しい順)", roles=["operator"], query=PageQuery,
              response=AuditList)
def admin_audit(ctx: Ctx, query: PageQuery) -> AuditList:
    return _page(ctx, None, ctx.container.audit.floor(), query)


@routes.route("/v1/admin/audit/exports", "POST", summary="操作履歴(全体)をCSVでダウンロード", roles=["operator"],
              status=201, response=Link)
def admin_audit_export(ctx: Ctx) -> Link:
    link = ctx.container.audit.export(None, ctx.container.audit.floor())
    ctx.audit("audit_export", "all", detail=f"{link.rows} rows")
    return _link(link)
