"""Issue 14 in a real browser: an owner adds a clerk, the clerk signs in (changing the initial password),
lands on the register view of its shop, and can neither see nor use 取消 or the CSV export; the owner and
the operator read the audit log."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, PageErrors, Site, console_login, new_context, screenshot
from tests.support import drive

pytestmark = pytest.mark.browser

CLERK_PASSWORD = "umineko-no-mise-42"


def status_of(page: Page, method: str, path: str, body: object = None) -> int:
    """What the API answers this page's session (cookie and CSRF token, as the page's own calls)."""
    return int(page.evaluate(
        "([m, p, b]) => OP.api(m, p, b === null ? {} : {body: b}).then(() => 200, (e) => e.status)",
        [method, path, body]))


def first_login_as_clerk(site: Site, clerk: Page, login_id: str, initial: str) -> None:
    """A new clerk signs in with the initial password, is led to change it, and lands on the register."""
    clerk.goto(f"{site.base}/console/")
    clerk.wait_for_url("**/console/login*")
    clerk.get_by_label("ログインID").fill(login_id)
    clerk.get_by_label("パスワード").fill(initial)
    clerk.get_by_role("button", name="ログイン").click()
    clerk.wait_for_url("**/console/password?next=register")
    clerk.get_by_label("今のパスワード(初期パスワード)").fill(initial)
    clerk.get_by_label("新しいパスワード", exact=True).fill(CLERK_PASSWORD)
    clerk.get_by_label("新しいパスワード(確認のためもう一度)").fill(CLERK_PASSWORD)
    clerk.get_by_role("button", name="変更する").click()
    clerk.wait_for_url("**/console/register")


def test_an_owner_adds_a_clerk_who_gets_the_register_view_only(site: Site, page: Page, browser: Browser,
                                                                 page_errors: PageErrors) -> None:
    shop = site.shop("スタッフ確認店", "STAFF TEST")
    consumer = site.consumer()
    console_login(page, site, shop, "staff")
    expect(page.locator("nav.sidemenu")).to_contain_text("スタッフ")
    expect(page.locator("nav.sidemenu")).to_contain_text("操作履歴")
    expect(page.locator("#staff-table tbody tr")).to_have_count(1)  # the owner's own login
    page.get_by_label("名前").fill("佐藤 レジ")
    page.get_by_label("役割").select_option("clerk")
    page.get_by_role("button", name="追加する").click()
    expect(page.locator("#issued")).to_be_visible()
    login_id = page.locator("#issued-login").inner_text()
    initial = page.locator("#issued-password").inner_text()
    expect(page.locator("#staff-table tbody tr")).to_have_count(2)
    expect(page.locator("#staff-table tbody tr").nth(1)).to_contain_text("レジ担当")
    screenshot(page, "console-staff")

    clerk_context = new_context(browser)
    clerk_context.on("page", page_errors.watch)
    clerk = clerk_context.new_page()
    try:
        first_login_as_clerk(site, clerk, login_id, initial)

        # the register view of its shop: a payment there shows up
        payment_id = site.sell(shop, consumer, 420)
        expect(clerk.locator("body")).to_contain_text(payment_id[-4:], timeout=10_000)
        menu = clerk.locator("nav.sidemenu")
        for hidden in ("取引情報", "振込履歴", "スタッフ", "操作履歴"):
            expect(menu).not_to_contain_text(hidden)
        expect(menu).to_contain_text("レジ画面")

        # 取消 lives on 取引情報: not offered, and the page sends a clerk back to the register view
        clerk.goto(f"{site.base}/console/transactions")
        clerk.wait_for_url("**/console/register")
        clerk.goto(f"{site.base}/console/payouts")
        clerk.wait_for_url("**/console/register")
        # today's history, without export, range pickers or chart
        clerk.goto(f"{site.base}/console/history")
        expect(clerk.locator("#tx-table tbody tr")).to_have_count(1)
        expect(clerk.locator("#tx-table")).to_contain_text(payment_id)
        expect(clerk.locator("#export-button")).to_have_count(0)
        expect(clerk.get_by_role("button", name="CSV形式でエクスポート")).to_have_count(0)
        expect(clerk.locator("#range-form")).to_be_hidden()
        screenshot(clerk, "console-clerk-history")

        # and the server refuses what the pages hide
        assert status_of(clerk, "POST", "/v1/merchant/exports", {}) == 403
        assert status_of(clerk, "POST", f"/v1/merchant/payments/{payment_id}/cancel",
                         {"confirm_payment_id": payment_id}) == 403
        assert status_of(clerk, "GET", "/v1/merchant/staff") == 403
        assert status_of(clerk, "GET", f"/v1/merchant/payments/{payment_id}") == 200
        status, body = site.api("GET", f"/v1/payments/{payment_id}", token=site.stack.consumer_token(consumer))
        assert status == 200 and body["status"] == "completed"  # nothing was cancelled

        phone_context = new_context(browser, PHONE)
        phone_context.on("page", page_errors.watch)
        phone = phone_context.new_page()
        phone.goto(f"{site.base}/console/login")
        phone.get_by_label("ログインID").fill(login_id)
        phone.get_by_label("パスワード").fill(CLERK_PASSWORD)
        phone.get_by_role("button", name="ログイン").click()
        phone.wait_for_url("**/console/register")
        expect(phone.locator("body")).to_contain_text(payment_id[-4:], timeout=10_000)
        screenshot(phone, "console-clerk-register")
        phone_context.close()
    finally:
        clerk_context.close()

    # the owner's audit log has the clerk's story, newest first
    page.goto(f"{site.base}/console/audit")
    rows = page.locator("#audit-table tbody tr")
    expect(rows.first).to_be_visible()
    actions = [a for a in rows.evaluate_all("rows => rows.map(r => r.dataset.action)")]
    for action in ("staff_add", "login", "password_change"):
        assert action in actions, actions
    expect(page.locator("#audit-table")).to_contain_text(login_id)
    screenshot(page, "console-audit")
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV形式でダウンロード").click()
    assert download.value.suggested_filename.startswith("操作履歴_")


def test_the_operator_reads_every_merchants_audit_log(site: Site, page: Page, browser: Browser) -> None:
    shop = site.shop("監査確認店", "AUDIT TEST")
    site.login_token(shop)
    login_id, password = site.operator()
    page.goto(f"{site.base}/admin/audit")
    page.wait_for_url("**/admin/login*")
    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/audit")
    expect(page.locator("#audit-table")).to_contain_text(shop.merchant_id)
    expect(page.locator("#audit-table thead")).to_contain_text("事業者")
    screenshot(page, "admin-audit")
    phone_context = new_context(browser, PHONE)
    phone = phone_context.new_page()
    phone.goto(f"{site.base}/admin/login")
    phone.get_by_label("ログインID").fill(login_id)
    phone.get_by_label("パスワード").fill(password)
    phone.get_by_role("button", name="ログイン").click()
    phone.wait_for_url("**/admin/merchants")
    phone.goto(f"{site.base}/admin/audit")
    expect(phone.locator("#audit-table tbody tr").first).to_be_visible()
    screenshot(phone, "admin-audit")
    phone_context.close()


def test_an_owners_phone_menu_and_staff_page(site: Site, browser: Browser, page_errors: PageErrors) -> None:
    shop = site.shop("スマホ確認店", "PHONE TEST")
    context = new_context(browser, PHONE)
    context.on("page", page_errors.watch)
    phone = context.new_page()
    try:
        console_login(phone, site, shop, "staff")
        items = phone.locator("nav.sidemenu li")
        expect(items).to_have_count(7)
        boxes = [items.nth(i).bounding_box() for i in range(7)]
        assert all(b is not None and b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
        phone.get_by_label("名前").fill("鈴木 店長")
        phone.get_by_label("役割").select_option("manager")
        phone.get_by_text("選んだ店舗だけ").click()
        expect(phone.locator("#store-choices")).to_be_visible()
        phone.get_by_role("button", name="追加する").click()
        expect(phone.locator("#issued")).to_be_visible()
        expect(phone.locator("#staff-table tbody tr").nth(1)).to_contain_text(shop.name_ja)
        screenshot(phone, "console-staff")
        scroll = phone.evaluate("document.documentElement.scrollWidth")
        assert scroll <= 390
    finally:
        context.close()


def test_a_clerk_of_one_shop_sees_that_shops_register_view_only(site: Site, page: Page, browser: Browser,
                                                                 page_errors: PageErrors) -> None:
    """SPEC §6a: an owner with two shops adds a clerk for one of them; the clerk's till shows that shop's
    payments and not the other's, and 取消 and the export stay out of reach."""
    shop = site.shop("二店舗の店", "TWO SHOPS")
    second = drive.add_store(site.container, shop.merchant_id, name_ja="二店舗の店 駅前店", name_en="TWO SHOPS EKIMAE")
    consumer = site.consumer()
    console_login(page, site, shop, "staff")
    page.get_by_label("名前").fill("高橋 駅前")
    page.get_by_label("役割").select_option("clerk")
    page.get_by_text("選んだ店舗だけ").click()
    choices = page.locator("#store-choices")
    expect(choices).to_contain_text("二店舗の店 駅前店")
    page.get_by_label("二店舗の店", exact=True).uncheck()
    page.get_by_role("button", name="追加する").click()
    expect(page.locator("#issued")).to_be_visible()
    login_id = page.locator("#issued-login").inner_text()
    initial = page.locator("#issued-password").inner_text()
    member = page.locator("#staff-table tbody tr").nth(1)
    expect(member).to_contain_text("レジ担当")
    expect(member).to_contain_text("二店舗の店 駅前店")
    status, staff = site.api("GET", "/v1/merchant/staff", token=site.login_token(shop))
    assert status == 200 and staff["items"][1]["store_ids"] == [second]

    clerk_context = new_context(browser)
    clerk_context.on("page", page_errors.watch)
    clerk = clerk_context.new_page()
    try:
        first_login_as_clerk(site, clerk, login_id, initial)
        expect(clerk.locator("#till-state")).to_have_text("接続中", timeout=10_000)

        # a payment at the other shop first, then one at the clerk's: only the clerk's shows
        elsewhere = str(drive.pay(site.container, consumer, shop.merchant_id, 777)["payment_id"])
        mine = str(drive.pay(site.container, consumer, second, 420)["payment_id"])
        expect(clerk.locator("#latest-id")).to_have_text(mine[-4:], timeout=10_000)
        expect(clerk.locator("#latest-amount")).to_have_text("420")
        expect(clerk.locator("#latest-shop")).to_have_text("二店舗の店 駅前店")
        expect(clerk.locator("#today-count")).to_have_text("1")
        expect(clerk.locator("#recent li")).to_have_count(1)
        expect(clerk.locator("body")).not_to_contain_text("777")
        expect(clerk.locator("#store-field")).to_be_hidden()  # one shop: no selector
        screenshot(clerk, "console-clerk-one-shop-register")

        # 取消 and the export are out of reach, on the pages and at the server
        expect(clerk.locator("nav.sidemenu")).not_to_contain_text("取引情報")
        clerk.goto(f"{site.base}/console/transactions")
        clerk.wait_for_url("**/console/register")
        clerk.goto(f"{site.base}/console/history")
        expect(clerk.locator("#tx-table tbody tr")).to_have_count(1)
        expect(clerk.locator("#tx-table")).to_contain_text(mine)
        expect(clerk.locator("#tx-table")).not_to_contain_text(elsewhere)
        expect(clerk.get_by_role("button", name="CSV形式でエクスポート")).to_have_count(0)
        assert status_of(clerk, "POST", "/v1/merchant/exports", {}) == 403
        for pid in (mine, elsewhere):
            assert status_of(clerk, "POST", f"/v1/merchant/payments/{pid}/cancel", {"confirm_payment_id": pid}) == 403
        assert status_of(clerk, "GET", f"/v1/merchant/payments/{elsewhere}") == 403
        assert status_of(clerk, "GET", f"/v1/merchant/live?store_id={shop.merchant_id}") == 403
    finally:
        clerk_context.close()

    # the owner sees both shops, and picks one on the till and in the history
    page.goto(f"{site.base}/console/register")
    expect(page.locator("#store-field")).to_be_visible()
    expect(page.locator("#recent li")).to_have_count(2, timeout=10_000)
    page.get_by_label("店舗").select_option(second)
    page.wait_for_url(f"**/console/register?store_id={second}")
    expect(page.locator("#recent li")).to_have_count(1, timeout=10_000)
    expect(page.locator("#latest-id")).to_have_text(mine[-4:])
    page.goto(f"{site.base}/console/history")
    expect(page.locator("#tx-table tbody tr")).to_have_count(2)
    page.get_by_label("店舗").select_option(shop.merchant_id)
    expect(page.locator("#tx-table tbody tr")).to_have_count(1)
    expect(page.locator("#tx-table")).to_contain_text(elsewhere)
    expect(page.locator("#completed-points")).to_have_text("777")
    screenshot(page, "console-history-one-shop")

    # the same pages on a phone: the shop selector fits, nothing scrolls sideways
    page.set_viewport_size(PHONE)
    page.goto(f"{site.base}/console/history")
    expect(page.get_by_label("店舗")).to_be_visible()
    rows = page.locator("#tx-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator(".col-shop").first).to_be_visible()  # several shops: each row names its shop
    expect(rows.first).to_contain_text("二店舗の店 駅前店")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "console-history-one-shop")
    page.goto(f"{site.base}/console/register?store_id={second}")
    expect(page.get_by_label("店舗")).to_be_visible()
    expect(page.locator("#today-count")).to_have_text("1", timeout=10_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "console-register-one-shop")
