"""Issue 6: a shop whose names are HTML is shown as text on every page, and nothing runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from tests.browser.conftest import Site, console_login, pay_login

pytestmark = pytest.mark.browser

NAME_JA = "<script>alert(1)</script>"
NAME_EN = "<svg onload=alert(2)>"


@pytest.fixture
def dialogs(context: BrowserContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_page(page: Page) -> None:
        def on_dialog(dialog: Dialog) -> None:
            seen.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

    context.on("page", on_page)
    yield seen


def nothing_injected(page: Page) -> None:
    scripts = page.evaluate("Array.from(document.scripts, s => s.src ? new URL(s.src).pathname : 'INLINE')")
    assert all(src.startswith("/assets/") for src in scripts), scripts
    assert page.evaluate("document.querySelectorAll('[onload],[onerror],svg:not(#chart svg)').length") == 0


def test_html_in_a_shop_name_is_text_everywhere(site: Site, context: BrowserContext, dialogs: list[str]) -> None:
    shop = site.shop(NAME_JA, NAME_EN)
    consumer = site.consumer(1_000)
    paid = site.sell(shop, consumer, 10)

    page = context.new_page()
    console_login(page, site, shop)
    for name in ("history", "transactions", "payouts", "contact"):
        page.goto(f"{site.base}/console/{name}")
        expect(page.locator("#who-name")).to_have_text(NAME_JA)
        if name == "history":
            expect(page.locator("#tx-table tbody tr", has_text=paid).locator("td").nth(2)).to_have_text(NAME_JA)
            page.evaluate("() => { window.print = () => {}; }")
            page.get_by_role("button", name="印刷").click()
            expect(page.locator("#print-meta")).to_contain_text(NAME_JA)
        nothing_injected(page)

    pay = context.new_page()
    pay_login(pay, site, consumer)
    pay.get_by_text("カメラが使えないとき: コードを貼り付ける").click()
    pay.get_by_label("QRコードの内容").fill(shop.qr_payload)
    pay.get_by_role("button", name="このコードで進む").click()
    expect(pay.locator("#amount-shop")).to_have_text(NAME_JA)
    pay.get_by_label("支払うポイント(1ポイント=1円)").fill("20")
    pay.get_by_role("button", name="次へ").click()
    expect(pay.locator("#confirm-shop")).to_have_text(NAME_JA)
    pay.get_by_role("button", name="支払う").click()
    expect(pay.locator("#done-shop")).to_have_text(NAME_JA)
    nothing_injected(pay)
    pay.get_by_role("link", name="残高・履歴").click()
    expect(pay.locator("#history li").first.locator(".h-shop")).to_have_text(NAME_JA)
    nothing_injected(pay)

    admin = context.new_page()
    login_id, password = site.operator()
    admin.goto(f"{site.base}/admin/login")
    admin.get_by_label("ログインID").fill(login_id)
    admin.get_by_label("パスワード").fill(password)
    admin.get_by_role("button", name="ログイン").click()
    row = admin.locator(f"#merchant-table tbody tr[data-merchant-id='{shop.merchant_id}']")
    expect(row.locator("td").nth(1)).to_have_text(NAME_JA)
    expect(row.locator("td").nth(2)).to_have_text(NAME_EN)
    row.get_by_role("button", name=f"パスワード再発行({NAME_JA})").click()
    expect(admin.locator("#confirm-dialog")).to_contain_text(NAME_JA)
    admin.locator("#confirm-dialog").get_by_role("button", name="はい").click()
    expect(admin.locator("#issued-name")).to_have_text(NAME_JA)
    nothing_injected(admin)
    with context.expect_page() as popup:
        admin.get_by_role("button", name="案内状(QRコード付き)を開く").click()
    letter = popup.value
    letter.wait_for_load_state()
    expect(letter.locator(".poster .shop")).to_have_text(NAME_JA)
    assert letter.evaluate("document.scripts.length") == 0

    assert dialogs == []
