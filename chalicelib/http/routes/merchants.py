"""Operator routes for merchants and their shops: register, list, QR images, printable letter, status,
password."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from chalice.app import Response
from msgspec import Meta

from chalicelib.core.clock import jst_iso
from chalicelib.core.errors import InvalidRequest, NotFound
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.routes.console import StoreOut, store_out
from chalicelib.http.routing import Ctx, Routes
from chalicelib.http.schemas import JstTime, PageQuery
from chalicelib.merchants.bank import bank_account
from chalicelib.merchants.model import ACTIVE, REVOKED, SUSPENDED, Merchant, Store

routes = Routes(__name__)
OPERATOR = ["operator"]


class BankBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    bank_code: Annotated[str, Meta(pattern=r"^[0-9]{4}$", description="金融機関コード(4桁)")]
    branch_code: Annotated[str, Meta(pattern=r"^[0-9]{3}$", description="支店コード(3桁)")]
    account_type: Annotated[Literal[1, 2, 4], Meta(description="1 普通 / 2 当座 / 4 貯蓄")]
    account_number: Annotated[str, Meta(pattern=r"^[0-9]{7}$", description="口座番号(7桁)")]
    holder_kana: Annotated[str, Meta(min_length=1, max_length=60,
                                     description="口座名義(カナ)。全角・ひらがなは半角カナに変換して保存")]


class RegisterBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name_ja: Annotated[str, Meta(min_length=1, max_length=25, description="店名(QRに載る)")]
    name_en: Annotated[str, Meta(min_length=1, max_length=25, description="英字店名(ASCII、QRに載る)")]
    bank: BankBody
    mcc: Annotated[str, Meta(pattern=r"^[0-9]{4}$", description="業種コード(MCC)")] | None = None


class BankOut(msgspec.Struct):
    bank_code: str
    branch_code: str
    account_type: int
    account_number: str
    holder_kana: str


class MerchantOut(msgspec.Struct):
    merchant_id: str
    name_ja: str
    name_en: str
    mcc: str
    city: str
    status: Literal["active", "suspended"]
    access: Literal["active", "revoked"]
    login_id: str
    bank: BankOut
    created_at: JstTime
    qr_payload: str | None = None


class Registered(MerchantOut, kw_only=True):
    initial_password: str


class MerchantList(msgspec.Struct):
    items: list[MerchantOut]
    next_cursor: str | None


class PasswordReset(MerchantOut, kw_only=True):
    initial_password: str


class LetterBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    initial_password: Annotated[str, Meta(min_length=1, max_length=64)]


def merchant_out(m: Merchant, qr_payload: str | None = None) -> MerchantOut:
    b = m.bank
    return MerchantOut(merchant_id=m.merchant_id, name_ja=m.name_ja, name_en=m.name_en, mcc=m.mcc, city=m.city,
                       status="active" if m.active else "suspended",
                       access="revoked" if m.access == REVOKED else "active", login_id=m.login_id,
                       bank=BankOut(b.bank_code, b.branch_code, b.account_type, b.account_number, b.holder_kana),
                       created_at=jst_iso(m.created_at), qr_payload=qr_payload)


@routes.route("/v1/admin/merchants", "POST", summary="店舗を登録", roles=OPERATOR, status=201, body=RegisterBody,
              response=Registered)
def register_merchant(ctx: Ctx, body: RegisterBody) -> Registered:
    b = body.bank
    bank = bank_account(bank_code=b.bank_code, branch_code=b.branch_code, account_type=b.account_type,
                        account_number=b.account_number, holder_kana=b.holder_kana)
    reg = ctx.container.merchants.register(name_ja=body.name_ja, name_en=body.name_en, mcc=body.mcc, bank=bank)
    ctx.audit("merchant_register", reg.merchant.merchant_id, detail=reg.merchant.name_ja)
    out = merchant_out(reg.merchant, reg.qr_payload)
    return Registered(**msgspec.structs.asdict(out), initial_password=reg.initial_password)


class RegisterPreview(msgspec.Struct):
    """What registration would store (the holder name converted to the bank's half-width カナ)."""

    name_ja: str
    name_en: str
    bank: BankOut


@routes.route("/v1/admin/merchants/preview", "POST", roles=OPERATOR,
              summary="登録内容の確認(保存しない。口座名義は半角カナに変換して返す)", body=RegisterBody,
              response=RegisterPreview)
def preview_merchant(ctx: Ctx, body: RegisterBody) -> RegisterPreview:
    from chalicelib.merchants.service import clean_names

    name_ja, name_en = clean_names(body.name_ja, body.name_en)
    b = body.bank
    bank = bank_account(bank_code=b.bank_code, branch_code=b.branch_code, account_type=b.account_type,
                        account_number=b.account_number, holder_kana=b.holder_kana)
    return RegisterPreview(name_ja=name_ja, name_en=name_en,
                           bank=BankOut(bank.bank_code, bank.branch_code, bank.account_type, bank.account_number,
                                        bank.holder_kana))


@routes.route("/v1/admin/merchants", summary="店舗一覧", roles=OPERATOR, query=PageQuery, response=MerchantList)
def list_merchants(ctx: Ctx, query: PageQuery) -> MerchantList:
    secret = ctx.container.cursor_secret
    after = decode_cursor(secret, "admin-merchants", query.cursor)
    items, last = ctx.container.merchants.repo.page(limit=query.limit or 100, after=after)
    return MerchantList(items=[merchant_out(m) for m in items],
                        next_cursor=encode_cursor(secret, "admin-merchants", last))


@routes.route("/v1/admin/merchants/{merchant_id}", summary="店舗の詳細", roles=OPERATOR, response=MerchantOut)
def get_merchant(ctx: Ctx, merchant_id: str) -> MerchantOut:
    service = ctx.container.merchants
    merchant = service.get(merchant_id)
    return merchant_out(merchant, service.qr_payload(merchant))


@routes.route("/v1/admin/merchants/{merchant_id}/qr.png", summary="店舗QRコード(PNG)", roles=OPERATOR,
              response="image/png")
def merchant_qr_png(ctx: Ctx, merchant_id: str) -> Response:
    from chalicelib.merchants.qr_images import qr_png

    service = ctx.container.merchants
    return Response(body=qr_png(service.qr_payload(service.get(merchant_id))), status_code=200,
                    headers={"Content-Type": "image/png", "Cache-Control": "private, max-age=300"})


@routes.route("/v1/admin/merchants/{merchant_id}/qr.svg", summary="店舗QRコード(SVG)", roles=OPERATOR,
              response="image/svg+xml")
def merchant_qr_svg(ctx: Ctx, merchant_id: str) -> Response:
    from chalicelib.merchants.qr_images import qr_svg

    service = ctx.container.merchants
    return Response(body=qr_svg(service.qr_payload(service.get(merchant_id))).decode("utf-8"), status_code=200,
                    headers={"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "private, max-age=300"})


def _letter(ctx: Ctx, merchant_id: str, password: str | None) -> Response:
    from chalicelib.merchants.qr_images import qr_letter_html

    service = ctx.container.merchants
    merchant = service.get(merchant_id)
    settings = ctx.container.settings
    base = settings.public_base_url or f"http://{ctx.header('host') or '127.0.0.1:8000'}"
    html = qr_letter_html(
        payload=service.qr_payload(merchant), name_ja=merchant.name_ja, name_en=merchant.name_en,
        merchant_id=merchant.merchant_id, login_id=merchant.login_id, initial_password=password,
        console_url=f"{base}/console/", contact_phone=settings.contact_merchant_phone,
        contact_name=settings.contact_merchant_name, contact_hours=settings.contact_merchant_hours,
        contact_address=settings.contact_merchant_address,
    )
    return Response(body=html, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


@routes.route("/v1/admin/merchants/{merchant_id}/letter", summary="印刷用の案内状(HTML)", roles=OPERATOR,
              response="text/html")
def merchant_letter(ctx: Ctx, merchant_id: str) -> Response:
    return _letter(ctx, merchant_id, None)


@routes.route("/v1/admin/merchants/{merchant_id}/letter", "POST", roles=OPERATOR, body=LetterBody,
              response="text/html",
              summary="印刷用の案内状(HTML)。発行直後の初期パスワードを印字(保存されるのはハッシュだけのため)")
def merchant_letter_with_password(ctx: Ctx, merchant_id: str, body: LetterBody) -> Response:
    if not body.initial_password.isprintable():
        raise InvalidRequest("initial_password に使えない文字が含まれています。", param="initial_password")
    return _letter(ctx, merchant_id, body.initial_password)


@routes.route("/v1/admin/merchants/{merchant_id}/suspend", "POST", summary="店舗の利用停止", roles=OPERATOR,
              response=MerchantOut)
def suspend_merchant(ctx: Ctx, merchant_id: str) -> MerchantOut:
    out = merchant_out(ctx.container.merchants.set_status(merchant_id, SUSPENDED))
    ctx.audit("merchant_suspend", merchant_id)
    return out


@routes.route("/v1/admin/merchants/{merchant_id}/reactivate", "POST", summary="店舗の利用再開", roles=OPERATOR,
              response=MerchantOut)
def reactivate_merchant(ctx: Ctx, merchant_id: str) -> MerchantOut:
    out = merchant_out(ctx.container.merchants.set_status(merchant_id, ACTIVE))
    ctx.audit("merchant_reactivate", merchant_id)
    return out


@routes.route("/v1/admin/merchants/{merchant_id}/reset-password", "POST", summary="店舗ログインのパスワード再発行",
              roles=OPERATOR, response=PasswordReset)
def reset_merchant_password(ctx: Ctx, merchant_id: str) -> PasswordReset:
    merchant, password = ctx.container.merchants.reset_password(merchant_id)
    ctx.audit("password_reset", merchant_id, detail="owner login")
    return PasswordReset(**msgspec.structs.asdict(merchant_out(merchant)), initial_password=password)


@routes.route("/v1/admin/merchants/{merchant_id}/revoke-access", "POST", roles=OPERATOR, response=MerchantOut,
              summary="店舗のログインを停止(すべてのセッションを即時終了、再開するまでログイン不可)")
def revoke_merchant_access(ctx: Ctx, merchant_id: str) -> MerchantOut:
    out = merchant_out(ctx.container.merchants.revoke_access(merchant_id))
    ctx.audit("access_revoke", merchant_id)
    return out


@routes.route("/v1/admin/merchants/{merchant_id}/restore-access", "POST", roles=OPERATOR, response=MerchantOut,
              summary="店舗のログインを再開")
def restore_merchant_access(ctx: Ctx, merchant_id: str) -> MerchantOut:
    out = merchant_out(ctx.container.merchants.restore_access(merchant_id))
    ctx.audit("access_restore", merchant_id)
    return out


# -- shops (店舗) ----------------------------------------------------------------------------------
class StoreBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name_ja: Annotated[str, Meta(min_length=1, max_length=25, description="店舗名(QRに載る)")]
    name_en: Annotated[str, Meta(min_length=1, max_length=25, description="英字店舗名(ASCII、QRに載る)")]
    mcc: Annotated[str, Meta(pattern=r"^[0-9]{4}$", description="業種コード(MCC)。省略時は事業者と同じ")] | None = None


class AdminStoreOut(StoreOut, kw_only=True):
    """A shop as the operator sees it: with its QR payload (for the printed code)."""

    qr_payload: str


class AdminStoreList(msgspec.Struct):
    items: list[AdminStoreOut]


def admin_store_out(ctx: Ctx, s: Store) -> AdminStoreOut:
    return AdminStoreOut(**msgspec.structs.asdict(store_out(s)), qr_payload=ctx.container.merchants.store_qr_payload(s))


@routes.route("/v1/admin/merchants/{merchant_id}/stores", "POST", summary="店舗を追加(専用のQRコードつき)",
              roles=OPERATOR, status=201, body=StoreBody, response=AdminStoreOut, errors=[NotFound])
def add_store(ctx: Ctx, merchant_id: str, body: StoreBody) -> AdminStoreOut:
    service = ctx.container.merchants
    store = service.add_store(merchant_id, name_ja=body.name_ja, name_en=body.name_en, mcc=body.mcc)
    ctx.audit("store_add", store.store_id, merchant_id=merchant_id, detail=store.name_ja)
    return admin_store_out(ctx, store)


@routes.route("/v1/admin/merchants/{merchant_id}/stores", summary="事業者の店舗一覧(既定の店舗が先頭)",
              roles=OPERATOR, response=AdminStoreList, errors=[NotFound])
def list_stores(ctx: Ctx, merchant_id: str) -> AdminStoreList:
    return AdminStoreList(items=[admin_store_out(ctx, s) for s in ctx.container.merchants.stores(merchant_id)])


@routes.route("/v1/admin/merchants/{merchant_id}/stores/{store_id}/qr.png", summary="店舗QRコード(PNG)",
              roles=OPERATOR, response="image/png", errors=[NotFound])
def store_qr_png(ctx: Ctx, merchant_id: str, store_id: str) -> Response:
    from chalicelib.merchants.qr_images import qr_png

    service = ctx.container.merchants
    payload = service.store_qr_payload(service.merchant_store(merchant_id, store_id))
    return Response(body=qr_png(payload), status_code=200,
                    headers={"Content-Type": "image/png", "Cache-Control": "private, max-age=300"})


@routes.route("/v1/admin/merchants/{merchant_id}/stores/{store_id}/qr.svg", summary="店舗QRコード(SVG)",
              roles=OPERATOR, response="image/svg+xml", errors=[NotFound])
def store_qr_svg(ctx: Ctx, merchant_id: str, store_id: str) -> Response:
    from chalicelib.merchants.qr_images import qr_svg

    service = ctx.container.merchants
    payload = service.store_qr_payload(service.merchant_store(merchant_id, store_id))
    return Response(body=qr_svg(payload).decode("utf-8"), status_code=200,
                    headers={"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "private, max-age=300"})


@routes.route("/v1/admin/merchants/{merchant_id}/stores/{store_id}/letter", roles=OPERATOR, response="text/html",
              summary="店舗の印刷用案内状(HTML、QRコードつき)", errors=[NotFound])
def store_letter(ctx: Ctx, merchant_id: str, store_id: str) -> Response:
    from chalicelib.merchants.qr_images import qr_letter_html

    service = ctx.container.merchants
    store = service.merchant_store(merchant_id, store_id)
    if store.is_default:
        return _letter(ctx, merchant_id, None)
    settings = ctx.container.settings
    base = settings.public_base_url or f"http://{ctx.header('host') or '127.0.0.1:8000'}"
    html = qr_letter_html(
        payload=service.store_qr_payload(store), name_ja=store.name_ja, name_en=store.name_en,
        merchant_id=store.merchant_id, login_id="", initial_password=None, console_url=f"{base}/console/",
        contact_phone=settings.contact_merchant_phone, contact_name=settings.contact_merchant_name,
        contact_hours=settings.contact_merchant_hours, contact_address=settings.contact_merchant_address,
        store_id=store.store_id,
    )
    return Response(body=html, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


def _store_status(ctx: Ctx, merchant_id: str, store_id: str, status: str, action: str) -> AdminStoreOut:
    store = ctx.container.merchants.set_store_status(merchant_id, store_id, status)
    ctx.audit(action, store.store_id, merchant_id=merchant_id, detail=store.name_ja)
    return admin_store_out(ctx, store)


@routes.route("/v1/admin/merchants/{merchant_id}/stores/{store_id}/suspend", "POST", roles=OPERATOR,
              response=AdminStoreOut, errors=[NotFound, InvalidRequest],
              summary="店舗の利用停止(追加した店舗。既定の店舗は事業者ごと停止する)")
def suspend_store(ctx: Ctx, merchant_id: str, store_id: str) -> AdminStoreOut:
    return _store_status(ctx, merchant_id, store_id, SUSPENDED, "store_suspend")


@routes.route("/v1/admin/merchants/{merchant_id}/stores/{store_id}/reactivate", "POST", roles=OPERATOR,
              response=AdminStoreOut, errors=[NotFound, InvalidRequest], summary="店舗の利用再開")
def reactivate_store(ctx: Ctx, merchant_id: str, store_id: str) -> AdminStoreOut:
    return _store_status(ctx, merchant_id, store_id, ACTIVE, "store_reactivate")
