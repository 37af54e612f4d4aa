"""Issue 6: the merchant console in a real browser — login, history to the minute, CSV export,
cancel through the hover button and the confirm dialog, payouts, contact, print view."""

from __future__ import annotations

import csv
import datetime as dt
import io
import urllib.parse

import pytest
from playwright.sync_api import Page, expect

from app import app as chalice_app
from chalicelib.core.clock import JST
from tests.browser.conftest import Site, console_login, jst, screenshot

pytestmark = pytest.mark.browser


def stat(page: Page, element_id: str) -> int:
    return int(page.locator(f"#{element_id}").inner_text().replace(",", ""))


def table_ids(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#tx-table tbody tr td:nth-child(2)").all_inner_texts()]


def show_range(page: Page, start: str, end: str) -> None:
    page.get_by_label("開始日時").fill(start)
    page.get_by_label("終了日時").fill(end)
    asked = "from=" + urllib.parse.quote(start, safe="") + "&to=" + urllib.parse.quote(end, safe="")
    with page.expect_response(lambda r: "/v1/merchant/transactions" in r.url and asked in r.url):
        page.get_by_role("button", name="表示", exact=True).click()
    expect(page.locator("#table-panel")).to_have_attribute("aria-busy", "false")


def test_login_shows_todays_sales_and_wrong_password_is_refused(site: Site, page: Page) -> None:
    shop = site.shop("女川ベーカリー")
    consumer = site.consumer()
    ids = [site.sell(shop, consumer, amount) for amount in (120, 480, 1500)]

    page.goto(f"{site.base}/console/")
    page.wait_for_url("**/console/login?next=history")
    page.get_by_label("ログインID").fill(shop.login_id)
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("#message")).to_have_text("ログインIDまたはパスワードが違います。")

    page.get_by_label("パスワード").fill(shop.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/console/history")
    expect(page.locator("#who-name")).to_have_text("女川ベーカリー")
    expect(page.locator("#completed-count")).to_have_text("3")
    expect(page.locator("#completed-points")).to_have_text("2,100")
    assert sorted(table_ids(page)) == sorted(ids)
    expect(page.locator("#chart svg rect.bar")).to_have_count(1)  # today only
    # The session is the HttpOnly cookie: scripts cannot read it.
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["session"]["httpOnly"] and cookies["session"]["sameSite"] == "Strict"
    assert "session=" not in page.evaluate("document.cookie")


def test_five_failures_show_the_lockout_message(site: Site, page: Page) -> None:
    shop = site.shop("ロック確認店")
    page.goto(f"{site.base}/console/login")
    page.get_by_label("ログインID").fill(shop.login_id)
    login = page.get_by_role("button", name="ログイン")
    for attempt in range(5):
        page.get_by_label("パスワード").fill("nope-nope")
        with page.expect_response("**/v1/auth/login") as answer:
            login.click()
        assert answer.value.status == (429 if attempt == 4 else 401)
        expect(page.get_by_label("パスワード")).to_be_focused()  # cleared for the next try
        expect(login).to_be_enabled()
    expect(page.locator("#message")).to_contain_text("15分間ログインできません")
    page.get_by_label("パスワード").fill(shop.password)  # even the right password now
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("#message")).to_contain_text("15分間ログインできません")
    assert page.url.endswith("/console/login")


def test_minute_filter_count_and_total_match_the_api(site: Site, page: Page) -> None:
    shop = site.shop("分単位商店")
    consumer = site.consumer(100_000)
    day = (dt.datetime.now(JST) - dt.timedelta(days=2)).strftime("%Y-%m-%d")
    sales = {"08:59:59.999": 1, "09:00:00.000": 10, "09:00:30.500": 20, "09:01:59.999": 40, "09:02:00.000": 80,
             "23:59:59.999": 160}
    for clock_time, amount in sales.items():
        site.sell(shop, consumer, amount, when=jst(f"{day} {clock_time}"))

    console_login(page, site, shop)
    show_range(page, f"{day}T09:00", f"{day}T09:01")
    expect(page.locator("#completed-count")).to_have_text("3")
    token = site.login_token(shop)
    status, body = site.api("GET", f"/v1/merchant/transactions?from={day}T09:00&to={day}T09:01", token=token)
    assert status == 200
    assert (stat(page, "completed-count"), stat(page, "completed-points")) == (
        body["completed_count"], body["completed_points"]) == (3, 70)
    assert table_ids(page) == [i["payment_id"] for i in body["items"]]
    assert "from=" in page.url and f"to={day}T09%3A01" in page.url  # the range survives a reload

    show_range(page, f"{day}T00:00", f"{day}T23:59")
    expect(page.locator("#completed-count")).to_have_text("6")
    assert stat(page, "completed-points") == sum(sales.values())
    page.reload()
    expect(page.locator("#completed-count")).to_have_text("6")
    assert page.get_by_label("開始日時").input_value() == f"{day}T00:00"


def test_history_pages_forward_and_back(site: Site, page: Page) -> None:
    shop = site.shop("ページ送り商店")
    consumer = site.consumer(100_000)
    day = (dt.datetime.now(JST) - dt.timedelta(days=3)).strftime("%Y-%m-%d")
    made = [site.sell(shop, consumer, 100 + i, when=jst(f"{day} 10:{i:02d}:00.000")) for i in range(23)]
    console_login(page, site, shop)
    show_range(page, f"{day}T00:00", f"{day}T23:59")
    first = table_ids(page)
    assert first == list(reversed(made))[:20]
    expect(page.locator("#page-info")).to_have_text("23件中 1〜20件")
    with page.expect_response(lambda r: "cursor=" in r.url):
        page.get_by_role("button", name="次へ").click()
    expect(page.locator("#page-info")).to_have_text("23件中 21〜23件")
    assert table_ids(page) == list(reversed(made))[20:]
    expect(page.get_by_role("button", name="次へ")).to_be_disabled()
    page.get_by_role("button", name="前へ").click()
    expect(page.locator("#page-info")).to_have_text("23件中 1〜20件")
    assert table_ids(page) == first
    expect(page.locator("#completed-count")).to_have_text("23")


def test_export_downloads_the_csv_of_the_range(site: Site, page: Page) -> None:
    shop = site.shop("CSV商店")
    consumer = site.consumer(100_000)
    day = (dt.datetime.now(JST) - dt.timedelta(days=1)).strftime("%Y-%m-%d")
    ids = [site.sell(shop, consumer, 300 + i, when=jst(f"{day} 11:{i:02d}:00.000")) for i in range(4)]
    site.sell(shop, consumer, 999, when=jst(f"{day} 12:00:00.000"))  # outside the range below
    console_login(page, site, shop)
    show_range(page, f"{day}T11:00", f"{day}T11:59")
    with page.expect_download() as info:
        page.get_by_role("button", name="CSV形式でエクスポート").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    raw = download.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][:2] == ["取引日時", "決済ID"]
    assert sorted(r[1] for r in rows[1:]) == sorted(ids)
    assert sum(int(r[4]) for r in rows[1:]) == stat(page, "completed-points") == 300 + 301 + 302 + 303
    expect(page.locator("#message")).to_contain_text("4件の取引")


def test_cancel_button_and_confirm_dialog_restore_the_balance(site: Site, page: Page) -> None:
    shop = site.shop("取消テスト店")
    consumer = site.consumer(5_000)
    keep = site.sell(shop, consumer, 200)
    wrong = site.sell(shop, consumer, 1_234)
    assert site.balance(consumer) == 5_000 - 200 - 1_234
    console_login(page, site, shop, "transactions")
    row = page.locator("#tx-table tbody tr", has_text=wrong)
    button = row.get_by_role("button", name=f"決済ID {wrong} を取消")
    page.mouse.move(0, 0)
    expect(button).to_be_visible()  # always shown: a till tablet has no mouse to hover with
    button.click()
    dialog = page.locator("#cancel-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#cancel-payment-id")).to_have_text(wrong)
    expect(dialog).to_contain_text("1,234 ポイント")
    dialog.get_by_role("button", name="いいえ").click()  # first, change of mind: nothing happens
    expect(dialog).to_be_hidden()
    assert site.balance(consumer) == 5_000 - 200 - 1_234

    row.hover()
    button.click()
    with page.expect_response(lambda r: r.url.endswith(f"/payments/{wrong}/cancel")) as answer:
        dialog.get_by_role("button", name="はい").click()
    assert answer.value.status == 200
    cancelled_row = page.locator("#tx-table tbody tr", has_text=wrong)
    expect(cancelled_row.locator(".status")).to_have_text("取消")
    expect(cancelled_row.get_by_role("button")).to_have_count(0)
    expect(page.locator("#message")).to_contain_text(f"決済ID {wrong} を取り消しました")
    assert site.balance(consumer) == 5_000 - 200
    other = page.locator("#tx-table tbody tr", has_text=keep)
    expect(other.locator(".status")).to_have_text("完了")


def test_cancel_button_is_reached_with_the_keyboard(site: Site, page: Page) -> None:
    shop = site.shop("キーボード店")
    pid = site.sell(shop, site.consumer(), 50)
    console_login(page, site, shop, "transactions")
    button = page.get_by_role("button", name=f"決済ID {pid} を取消")
    page.get_by_role("button", name="表示", exact=True).focus()
    for _ in range(12):  # Tab on from the range form to the row's button
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#cancel-dialog")).to_be_visible()
    expect(page.get_by_role("button", name="いいえ")).to_be_focused()  # the safe answer is the default
    page.keyboard.press("Escape")
    expect(page.locator("#cancel-dialog")).to_be_hidden()


def test_find_a_payment_by_its_id(site: Site, page: Page) -> None:
    shop = site.shop("検索店")
    consumer = site.consumer()
    pid = site.sell(shop, consumer, 777, when=dt.datetime.now(JST) - dt.timedelta(days=10))
    console_login(page, site, shop, "transactions")
    expect(page.locator("#empty")).to_be_visible()  # not today
    page.get_by_label("決済IDで探す").fill(pid.lower())
    page.get_by_role("button", name="探す").click()
    expect(page.locator("#tx-table tbody tr")).to_have_count(1)
    expect(page.locator("#tx-table tbody tr")).to_contain_text("777")
    page.get_by_label("決済IDで探す").fill("ZZZZZZZZZZ")
    page.get_by_role("button", name="探す").click()
    expect(page.locator("#message")).to_have_text("その決済IDの取引は見つかりませんでした。")


def test_contact_page_shows_numbers_and_hours(site: Site, page: Page) -> None:
    shop = site.shop("問合せ店")
    console_login(page, site, shop, "contact")
    # the real contacts of SPEC §6, not invented ones
    expect(page.locator("#merchant-label")).to_have_text("女川町商工会")
    expect(page.locator("#merchant-phone")).to_have_text("0225-53-3310")
    expect(page.locator("#merchant-hours")).to_have_text("受付時間 平日 9:00〜17:00")
    expect(page.locator("#merchant-address")).to_have_text("〒986-2265 宮城県牡鹿郡女川町女川二丁目65番地2")
    expect(page.locator("#consumer-label")).to_have_text("宮城県地域ポイントコールセンター")
    expect(page.locator("#consumer-phone")).to_have_text("0120-558-856")
    expect(page.locator("#consumer-hours")).to_have_text("受付時間 全日 9:00〜17:30")
    assert page.locator("#merchant-phone").get_attribute("href") == "tel:0225533310"
    assert page.locator("#consumer-phone").get_attribute("href") == "tel:0120558856"
    screenshot(page, "contact-numbers")
    for name in ("取引履歴", "取引情報", "振込履歴", "お問い合わせ"):
        expect(page.get_by_role("navigation", name="メニュー").get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("link", name="お問い合わせ")).to_have_attribute("aria-current", "page")


def test_print_view_has_every_row_and_hides_the_controls(site: Site, page: Page) -> None:
    shop = site.shop("印刷店")
    consumer = site.consumer(100_000)
    for i in range(23):
        site.sell(shop, consumer, 10 + i)
    console_login(page, site, shop)
    expect(page.locator("#completed-count")).to_have_text("23")
    expect(page.locator("#tx-table tbody tr")).to_have_count(20)
    page.evaluate("() => { window.print = () => { window.__printed = document.querySelectorAll('#tx-table tbody tr')"
                  ".length; }; }")
    page.get_by_role("button", name="印刷").click()
    page.wait_for_function("() => window.__printed !== undefined")
    assert page.evaluate("window.__printed") == 23  # paper gets the whole range
    expect(page.locator("#tx-table tbody tr")).to_have_count(20)  # and the paged view is back afterwards
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="メニュー")).to_be_hidden()
    expect(page.get_by_role("button", name="CSV形式でエクスポート")).to_be_hidden()
    expect(page.locator("#print-meta")).to_be_visible()
    expect(page.locator("#print-meta")).to_contain_text("印刷店 様")
    expect(page.locator("#tx-table")).to_be_visible()
    page.emulate_media(media="screen")


def test_payouts_page_renders_the_payout_fields(site: Site, page: Page) -> None:
    """The page against the documented shape of GET /v1/merchant/payouts, answered by the test."""
    shop = site.shop("振込表示店")
    items = [
        {"period_id": "2026-10-2", "processing_start_date": "2026-11-01", "transfer_date": "2026-11-13",
         "amount": 12_345, "name_ja": shop.name_ja, "status": "scheduled",
         "detail_url": "/v1/merchant/payouts/P2/detail"},
        {"period_id": "2026-10-1", "processing_start_date": "2026-10-16", "transfer_date": "2026-10-30",
         "amount": 0, "name_ja": shop.name_ja, "status": "paid", "detail_url": "https://bucket.test/detail-1.csv"},
    ]
    page.route("**/v1/merchant/payouts?*", lambda route: route.fulfill(json={"items": items, "next_cursor": None}))
    page.route("**/v1/merchant/payouts/P2/detail", lambda route: route.fulfill(
        json={"url": "https://bucket.test/detail-2.csv", "expires_at": "2026-11-01T10:15:00.000+09:00"}))
    page.route("https://bucket.test/*", lambda route: route.fulfill(
        body="取引日時,決済ID\r\n", headers={"Content-Type": "text/csv; charset=utf-8",
                                         "Content-Disposition": "attachment; filename=detail.csv"}))
    console_login(page, site, shop, "payouts")
    rows = page.locator("#payout-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("2026年10月 後半(16日〜月末)")
    expect(rows.nth(0)).to_contain_text("2026/11/01")
    expect(rows.nth(0)).to_contain_text("2026/11/13")
    expect(rows.nth(0)).to_contain_text("12,345 円")
    expect(rows.nth(0)).to_contain_text("振込予定")
    expect(rows.nth(1)).to_contain_text("振込済")
    for row, name in ((rows.nth(0), "detail-2.csv"), (rows.nth(1), "detail-1.csv")):
        with page.expect_download() as info:
            row.get_by_role("button", name="明細CSV").click()
        assert info.value.url.endswith(name)


PAYOUTS_READY = "/v1/merchant/payouts" in chalice_app.routes


@pytest.mark.skipif(not PAYOUTS_READY, reason="GET /v1/merchant/payouts is not served yet (issue 5)")
def test_payouts_page_lists_payouts(site: Site, page: Page) -> None:
    shop = site.shop("振込確認店")
    console_login(page, site, shop, "payouts")
    token = site.login_token(shop)
    status, body = site.api("GET", "/v1/merchant/payouts", token=token)
    assert status == 200
    if body["items"]:
        expect(page.locator("#payout-table tbody tr")).to_have_count(len(body["items"]))
    else:
        expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#message")).to_be_hidden()


def test_pages_need_a_merchant_session(site: Site, page: Page) -> None:
    page.goto(f"{site.base}/console/transactions")
    page.wait_for_url("**/console/login?next=transactions")
    operator = site.operator()
    page.get_by_label("ログインID").fill(operator[0])
    page.get_by_label("パスワード").fill(operator[1])
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("#message")).to_have_text("このログインIDでは地域ポイントコンソールにログインできません。")
    page.goto(f"{site.base}/console/transactions")
    page.wait_for_url("**/console/login?next=transactions")  # the operator session was dropped
