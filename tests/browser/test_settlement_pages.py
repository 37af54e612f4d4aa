"""Issue 6 with issue 5's settlement: a closed period's payout in the merchant's 振込履歴 (with its
detail CSV), and on the operator's periods page (payouts, Zengin file, marking paid)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, Page, expect

from app import app as chalice_app
from chalicelib.core.clock import JST
from chalicelib.core.periods import period_of
from tests.browser.conftest import PageErrors, Site, console_login, new_context

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not {"/v1/merchant/payouts", "/v1/admin/periods"} <= set(chalice_app.routes),
                       reason="the settlement routes are not served yet (issue 5)"),
]


def period_label(period_id: str) -> str:
    year, month, half = period_id.split("-")
    return f"{year}年{int(month)}月 {'前半' if half == '1' else '後半'}"


def test_a_closed_period_reaches_both_pages(site: Site, page: Page, browser: Browser,
                                           page_errors: PageErrors) -> None:
    shop = site.shop("精算確認店")
    consumer = site.consumer(10_000)
    sold_at = dt.datetime.now(JST) - dt.timedelta(days=40)
    ids = [site.sell(shop, consumer, 1_200, when=sold_at), site.sell(shop, consumer, 300,
                                                                        when=sold_at + dt.timedelta(minutes=5))]
    period_id = period_of(sold_at).id
    site.container.closing.close_due()

    # -- the merchant's 振込履歴
    console_login(page, site, shop, "payouts")
    row = page.locator("#payout-table tbody tr", has_text=period_label(period_id))
    expect(row).to_contain_text("1,500 円")
    expect(row).to_contain_text("振込予定")
    with page.expect_download() as info:
        row.get_by_role("button", name="明細CSV").click()
    detail = info.value.path().read_bytes().decode("utf-8-sig")
    assert all(pid in detail for pid in ids)

    # -- the operator's periods page, in another browser profile (one session cookie per browser)
    operator_context = new_context(browser)
    operator_context.on("page", page_errors.watch)
    admin = operator_context.new_page()
    login_id, password = site.operator()
    admin.goto(f"{site.base}/admin/periods")
    admin.get_by_label("ログインID").fill(login_id)
    admin.get_by_label("パスワード").fill(password)
    admin.get_by_role("button", name="ログイン").click()
    period_row = admin.locator("#period-table tbody tr", has_text=period_label(period_id))
    expect(period_row).to_contain_text("締め済み")
    period_row.get_by_role("button", name="振込一覧").click()
    payout = admin.locator("#payout-table tbody tr", has_text="精算確認店")
    expect(payout).to_contain_text("1,500 円")
    with admin.expect_download() as info:
        admin.get_by_role("button", name="全銀ファイルをダウンロード").click()
    zengin = info.value.path().read_bytes()
    assert zengin[:1] == b"1" and len(zengin) % 122 == 0  # 120-byte records + CRLF, header first

    period_row.get_by_role("button", name="振込一覧").click()  # the file moved the payouts on
    payout = admin.locator("#payout-table tbody tr", has_text="精算確認店")
    expect(payout).to_contain_text("振込手続中")
    payout.get_by_role("button", name="振込済にする").click()
    admin.locator("#confirm-dialog").get_by_role("button", name="はい").click()
    expect(admin.locator("#payout-table tbody tr", has_text="精算確認店").locator(".status")).to_have_text("振込済")
    operator_context.close()
    page.reload()
    expect(page.locator("#payout-table tbody tr", has_text=period_label(period_id)).locator(".status")).to_have_text(
        "振込済")
