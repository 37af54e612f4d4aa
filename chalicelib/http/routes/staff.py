"""A merchant's staff (SPEC §6a): the owner adds, lists, disables, enables and resets its people."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.accounts.model import ACTIVE, Account
from chalicelib.accounts.scope import OWNER_ONLY
from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import Conflict, InvalidRequest
from chalicelib.http.routing import Ctx, Routes
from chalicelib.http.schemas import JstTime

routes = Routes(__name__)
MERCHANT = ["merchant"]

StaffRole = Literal["owner", "manager", "clerk"]
StoreIds = Annotated[list[Annotated[str, Meta(min_length=1, max_length=32)]],
                     Meta(min_length=1, max_length=50, description="the shops this person may see")]


class StaffBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=40, description="the person's name, as the owner knows it")]
    role: Annotated[StaffRole, Meta(description="owner: everything; manager: history, export, 取消, payouts; "
                                                "clerk: the register view, live feed and today's history")]
    store_ids: Annotated[StoreIds | None, Meta(description="omitted or null: every shop, including later ones")] = None


class StaffOut(msgspec.Struct, kw_only=True):
    staff_id: str
    login_id: str
    name: str
    role: StaffRole
    store_ids: Annotated[list[str] | None, Meta(description="null: every shop")]
    status: Annotated[Literal["active", "disabled", "revoked"],
                      Meta(description="disabled: by the owner; revoked: the operator stopped the merchant's logins")]
    must_change_password: bool
    created_at: JstTime
    is_me: bool


class StaffCreated(StaffOut, kw_only=True):
    initial_password: Annotated[str, Meta(description="shown once: only its hash is stored")]


class StaffList(msgspec.Struct):
    items: list[StaffOut]


class StaffPasswordReset(StaffOut, kw_only=True):
    initial_password: str


def staff_out(account: Account, me: str) -> StaffOut:
    status = "disabled" if account.disabled else ("active" if account.status == ACTIVE else "revoked")
    return StaffOut(staff_id=account.effective_staff_id or "", login_id=account.login_id, name=account.name,
                    role=account.effective_staff_role or "owner",  # type: ignore[arg-type]
                    store_ids=list(account.store_ids) if account.store_ids is not None else None,
                    status=status,  # type: ignore[arg-type]
                    must_change_password=account.must_change_password, created_at=jst_iso(account.created_at),
                    is_me=account.login_id.lower() == me.lower())


def _owner_login(ctx: Ctx) -> str:
    return ctx.container.merchants.get(ctx.merchant_id).login_id


@routes.route("/v1/merchant/staff", "POST", summary="スタッフを追加(ログインIDと初期パスワードを発行)", roles=MERCHANT,
              status=201, body=StaffBody, response=StaffCreated, staff_roles=OWNER_ONLY)
def add_staff(ctx: Ctx, body: StaffBody) -> StaffCreated:
    added = ctx.container.staff.add(merchant_id=ctx.merchant_id, name=body.name, role=body.role,
                                    store_ids=body.store_ids, merchant_stores=ctx.merchant_stores())
    a = added.account
    scope = ",".join(a.store_ids) if a.store_ids is not None else "all"
    ctx.audit("staff_add", f"{a.staff_id} {a.login_id}", detail=f"{a.name} / {a.staff_role} / {scope}")
    out = staff_out(a, ctx.me.subject)
    return StaffCreated(**msgspec.structs.asdict(out), initial_password=added.initial_password)


@routes.route("/v1/merchant/staff", summary="スタッフ一覧(オーナーのログインを含む)", roles=MERCHANT,
              response=StaffList, staff_roles=OWNER_ONLY)
def list_staff(ctx: Ctx) -> StaffList:
    members = ctx.container.staff.members(ctx.merchant_id, _owner_login(ctx))
    return StaffList(items=[staff_out(a, ctx.me.subject) for a in members])


@routes.route("/v1/merchant/staff/{staff_id}/disable", "POST", roles=MERCHANT, response=StaffOut,
              summary="スタッフを無効にする(すべてのセッションを即時終了、ログイン不可)", errors=[Conflict],
              staff_roles=OWNER_ONLY)
def disable_staff(ctx: Ctx, staff_id: str) -> StaffOut:
    account = ctx.container.staff.set_disabled(ctx.merchant_id, _owner_login(ctx), staff_id, True)
    ctx.audit("staff_disable", f"{account.effective_staff_id} {account.login_id}")
    return staff_out(account, ctx.me.subject)


@routes.route("/v1/merchant/staff/{staff_id}/enable", "POST", roles=MERCHANT, response=StaffOut,
              summary="無効にしたスタッフを元に戻す", staff_roles=OWNER_ONLY)
def enable_staff(ctx: Ctx, staff_id: str) -> StaffOut:
    account = ctx.container.staff.set_disabled(ctx.merchant_id, _owner_login(ctx), staff_id, False)
    ctx.audit("staff_enable", f"{account.effective_staff_id} {account.login_id}")
    return staff_out(account, ctx.me.subject)


@routes.route("/v1/merchant/staff/{staff_id}/reset-password", "POST", roles=MERCHANT, response=StaffPasswordReset,
              summary="スタッフのパスワード再発行(次のログインで変更、セッションは終了)", staff_roles=OWNER_ONLY)
def reset_staff_password(ctx: Ctx, staff_id: str) -> StaffPasswordReset:
    if staff_id == ctx.me.staff_id:
        raise InvalidRequest("自分のパスワードは「パスワード変更」から変えてください。", param="staff_id")
    account, password = ctx.container.staff.reset_password(ctx.merchant_id, _owner_login(ctx), staff_id)
    ctx.audit("password_reset", f"{account.effective_staff_id} {account.login_id}")
    out = staff_out(account, ctx.me.subject)
    return StaffPasswordReset(**msgspec.structs.asdict(out), initial_password=password)
