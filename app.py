"""HTTP routes, schedules and nothing else: parse -> call one service -> render.

Every route declares its role through ``endpoint(..., roles=...)``; errors are mapped in
``chalicelib.http.errors``; business rules live in ``chalicelib``'s capability folders.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, Cron, Response

from chalicelib.http import local_gateway
from chalicelib.http.edge import Ctx, endpoint, install_middleware
from chalicelib.http.views import admin, auth, console, lookup, meta, payments, settlement

app = Chalice(app_name="onagawa-points")
app.api.binary_types.append("image/png")
install_middleware(app)
local_gateway.install()


# -- auth ------------------------------------------------------------------------------------------
@endpoint(app, "/v1/auth/login", methods=["POST"], summary="事業者・商工会のログイン")
def login(ctx: Ctx) -> Response:
    return auth.login(ctx)


@endpoint(app, "/v1/auth/logout", methods=["POST"], summary="ログアウト(セッションCookieを消去)")
def logout(ctx: Ctx) -> Response:
    return auth.logout(ctx)


@endpoint(app, "/v1/dev/token", methods=["POST"], summary="開発用トークン発行(local ステージのみ)")
def dev_token(ctx: Ctx) -> Response:
    return auth.dev_token(ctx)


# -- operator: merchants ---------------------------------------------------------------------------
@endpoint(app, "/v1/admin/merchants", methods=["POST"], roles=["operator"], summary="店舗を登録")
def register_merchant(ctx: Ctx) -> Response:
    return admin.register_merchant(ctx)


@endpoint(app, "/v1/admin/merchants", methods=["GET"], roles=["operator"], summary="店舗一覧")
def list_merchants(ctx: Ctx) -> Response:
    return admin.list_merchants(ctx)


@endpoint(app, "/v1/admin/merchants/{merchant_id}", methods=["GET"], roles=["operator"], summary="店舗の詳細")
def get_merchant(ctx: Ctx, merchant_id: str) -> Response:
    return admin.get_merchant(ctx, merchant_id)


@endpoint(app, "/v1/admin/merchants/{merchant_id}/qr.png", roles=["operator"], summary="店舗QRコード(PNG)")
def merchant_qr_png(ctx: Ctx, merchant_id: str) -> Response:
    return admin.qr_png(ctx, merchant_id)


@endpoint(app, "/v1/admin/merchants/{merchant_id}/qr.svg", roles=["operator"], summary="店舗QRコード(SVG)")
def merchant_qr_svg(ctx: Ctx, merchant_id: str) -> Response:
    return admin.qr_svg(ctx, merchant_id)


@endpoint(app, "/v1/admin/merchants/{merchant_id}/letter", methods=["GET", "POST"], roles=["operator"],
          summary="印刷用の案内状(HTML)。POST で発行直後の初期パスワードを印字")
def merchant_letter(ctx: Ctx, merchant_id: str) -> Response:
    return admin.letter(ctx, merchant_id)


@endpoint(app, "/v1/admin/merchants/{merchant_id}/suspend", methods=["POST"], roles=["operator"],
          summary="店舗の利用停止")
def suspend_merchant(ctx: Ctx, merchant_id: str) -> Response:
    return admin.set_status(ctx, merchant_id, "suspended")


@endpoint(app, "/v1/admin/merchants/{merchant_id}/reactivate", methods=["POST"], roles=["operator"],
          summary="店舗の利用再開")
def reactivate_merchant(ctx: Ctx, merchant_id: str) -> Response:
    return admin.set_status(ctx, merchant_id, "active")


@endpoint(app, "/v1/admin/merchants/{merchant_id}/reset-password", methods=["POST"], roles=["operator"],
          summary="店舗ログインのパスワード再発行")
def reset_merchant_password(ctx: Ctx, merchant_id: str) -> Response:
    return admin.reset_password(ctx, merchant_id)


@endpoint(app, "/v1/admin/grants", methods=["POST"], roles=["operator"], summary="利用者にポイントを付与")
def create_grant(ctx: Ctx) -> Response:
    return payments.create_grant(ctx)


@endpoint(app, "/v1/admin/ledger/check", roles=["operator"], summary="ポイント保存則の検査(全件)")
def admin_ledger_check(ctx: Ctx) -> Response:
    return payments.ledger_check(ctx)


# -- consumer --------------------------------------------------------------------------------------
@endpoint(app, "/v1/merchants/lookup", roles=["consumer"], summary="QRコードから店舗を調べる")
def lookup_merchant(ctx: Ctx) -> Response:
    return lookup.lookup(ctx)


@endpoint(app, "/v1/payments", methods=["POST"], roles=["consumer"], summary="ポイントで支払う")
def create_payment(ctx: Ctx) -> Response:
    return payments.create_payment(ctx)


@endpoint(app, "/v1/payments/{payment_id}", roles=["consumer"], summary="自分の決済の詳細")
def get_payment(ctx: Ctx, payment_id: str) -> Response:
    return payments.get_payment(ctx, payment_id)


@endpoint(app, "/v1/wallet", roles=["consumer"], summary="ポイント残高と有効期限ごとの内訳")
def get_wallet(ctx: Ctx) -> Response:
    return payments.get_wallet(ctx)


@endpoint(app, "/v1/wallet/payments", roles=["consumer"], summary="自分の利用履歴")
def wallet_payments(ctx: Ctx) -> Response:
    return payments.wallet_payments(ctx)


# -- merchant console ------------------------------------------------------------------------------
@endpoint(app, "/v1/merchant/me", roles=["merchant"], summary="ログイン中の店舗")
def merchant_me(ctx: Ctx) -> Response:
    return console.me(ctx)


@endpoint(app, "/v1/merchant/transactions", roles=["merchant"], summary="取引履歴(分単位の期間、件数と合計)")
def merchant_transactions(ctx: Ctx) -> Response:
    return console.transactions(ctx)


@endpoint(app, "/v1/merchant/payments/{payment_id}", roles=["merchant"], summary="取引情報(自店の決済1件)")
def merchant_payment(ctx: Ctx, payment_id: str) -> Response:
    return console.payment(ctx, payment_id)


@endpoint(app, "/v1/merchant/payments/{payment_id}/cancel", methods=["POST"], roles=["merchant"],
          summary="取消(決済IDの確認つき)")
def merchant_cancel(ctx: Ctx, payment_id: str) -> Response:
    return console.cancel(ctx, payment_id)


@endpoint(app, "/v1/merchant/exports", methods=["POST"], roles=["merchant"], summary="CSV形式でエクスポート")
def merchant_export(ctx: Ctx) -> Response:
    return console.export(ctx)


@endpoint(app, "/v1/merchant/sales/daily", roles=["merchant"], summary="日別売上(グラフ用)")
def merchant_daily_sales(ctx: Ctx) -> Response:
    return console.daily_sales(ctx)


@endpoint(app, "/v1/merchant/contact", roles=["merchant"], summary="お問い合わせ先")
def merchant_contact(ctx: Ctx) -> Response:
    return console.contact(ctx)


# -- settlement ------------------------------------------------------------------------------------
@endpoint(app, "/v1/admin/periods", roles=["operator"], summary="精算期間の一覧と状態")
def admin_periods(ctx: Ctx) -> Response:
    return settlement.periods(ctx)


@endpoint(app, "/v1/admin/periods/{period_id}/close", methods=["POST"], roles=["operator"],
          summary="期限の来た精算期間を今すぐ締める")
def admin_close_period(ctx: Ctx, period_id: str) -> Response:
    return settlement.close(ctx, period_id)


@endpoint(app, "/v1/admin/periods/{period_id}/payouts", roles=["operator"], summary="期間の振込一覧")
def admin_period_payouts(ctx: Ctx, period_id: str) -> Response:
    return settlement.period_payouts(ctx, period_id)


@endpoint(app, "/v1/admin/periods/{period_id}/report", roles=["operator"], summary="精算報告CSV(全店舗)")
def admin_period_report(ctx: Ctx, period_id: str) -> Response:
    return settlement.report(ctx, period_id)


@endpoint(app, "/v1/admin/periods/{period_id}/zengin", roles=["operator"], summary="全銀 総合振込ファイル")
def admin_period_zengin(ctx: Ctx, period_id: str) -> Response:
    return settlement.zengin(ctx, period_id)


@endpoint(app, "/v1/admin/periods/{period_id}/payouts/{merchant_id}/paid", methods=["POST"], roles=["operator"],
          summary="振込済にする")
def admin_mark_paid(ctx: Ctx, period_id: str, merchant_id: str) -> Response:
    return settlement.mark(ctx, period_id, merchant_id, "paid")


@endpoint(app, "/v1/admin/periods/{period_id}/payouts/{merchant_id}/failed", methods=["POST"], roles=["operator"],
          summary="振込不能にする(次の振込ファイルに入る)")
def admin_mark_failed(ctx: Ctx, period_id: str, merchant_id: str) -> Response:
    return settlement.mark(ctx, period_id, merchant_id, "failed")


@endpoint(app, "/v1/admin/periods/{period_id}/payouts/{merchant_id}/detail", roles=["operator"],
          summary="振込明細CSV")
def admin_payout_detail(ctx: Ctx, period_id: str, merchant_id: str) -> Response:
    return settlement.payout_detail(ctx, period_id, merchant_id)


@endpoint(app, "/v1/merchant/payouts", roles=["merchant"], summary="振込履歴")
def merchant_payouts(ctx: Ctx) -> Response:
    return settlement.merchant_payouts(ctx)


@endpoint(app, "/v1/merchant/payouts/{period_id}/detail", roles=["merchant"], summary="振込明細CSV")
def merchant_payout_detail(ctx: Ctx, period_id: str) -> Response:
    return settlement.merchant_payout_detail(ctx, period_id)


@app.schedule(Cron(5, 15, "*", "*", "?", "*"), name="close_settlement_periods")
def close_settlement_periods(event: Any) -> None:
    """Every day at 00:05 JST (15:05 UTC): close every period whose end plus the grace has passed."""
    from chalicelib import bootstrap

    results = bootstrap.container().settlement.close_due()
    from chalicelib.http.edge import logger

    logger.info("settlement close", extra={"closed": [r.period_id for r in results]})


# -- meta ------------------------------------------------------------------------------------------
@endpoint(app, "/v1/openapi.json", summary="この API の OpenAPI 3 定義")
def openapi(ctx: Ctx) -> Response:
    return meta.openapi(ctx)


@endpoint(app, "/v1/health", summary="死活監視")
def health(ctx: Ctx) -> Response:
    return meta.health(ctx)


# -- web pages (issue 6) ---------------------------------------------------------------------------
# HTML pages and their static assets. Not part of the JSON API: registered with plain routes (with
# their own security headers) and left out of the OpenAPI document.
from chalice.app import Request  # noqa: E402  (this block's imports stay beside the routes they serve)

from chalicelib.web import pages as web  # noqa: E402


@web.page_route(app, "/console", name="web_console_home")
def web_console_home(request: Request) -> Response:
    return web.render(request, "console", None)


@web.page_route(app, "/console/{page}", name="web_console_page")
def web_console_page(request: Request, page: str) -> Response:
    return web.render(request, "console", page)


@web.page_route(app, "/pay", name="web_pay_home")
def web_pay_home(request: Request) -> Response:
    return web.render(request, "pay", None)


@web.page_route(app, "/pay/{page}", name="web_pay_page")
def web_pay_page(request: Request, page: str) -> Response:
    return web.render(request, "pay", page)


@web.page_route(app, "/admin", name="web_admin_home")
def web_admin_home(request: Request) -> Response:
    return web.render(request, "admin", None)


@web.page_route(app, "/admin/{page}", name="web_admin_page")
def web_admin_page(request: Request, page: str) -> Response:
    return web.render(request, "admin", page)


@web.page_route(app, "/assets/{name}", name="web_asset")
def web_asset(request: Request, name: str) -> Response:
    return web.asset(request, name)
