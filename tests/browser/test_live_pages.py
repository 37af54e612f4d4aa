"""Issue 13 in a real browser: sales appear by themselves on 取引履歴 and on the レジ画面 (with a chime),
a live 支払い完了 screen is told apart from a still image, history presets and 決済ID search, an
operator error shown where the operator is looking, and every download named for what it is."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from chalicelib.core.clock import JST
from chalicelib.core.periods import period_of
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    PageErrors,
    Site,
    console_login,
    jst,
    new_context,
    pay_login,
    screenshot,
)
from tests.support.local_api import http_json

pytestmark = pytest.mark.browser

# Counts every Web Audio oscillator the page starts: the chime is two of them.
CHIME_PROBE = """(() => {
  window.__chimes = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { window.__chimes += 1; return start.apply(this, args); };
})();"""


def pay_through_the_api(site: Site, consumer: str, merchant_id: str, amount: int) -> str:
    token = site.stack.consumer_token(consumer)
    status, body, _ = http_json("POST", f"{site.base}/v1/payments", {"merchant_id": merchant_id, "amount": amount},
                                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, body
    return str(body["payment_id"])


def context_for(browser: Browser, viewport: dict[str, int], page_errors: PageErrors) -> BrowserContext:
    phone = viewport is PHONE
    ctx = new_context(browser, viewport=viewport, is_mobile=phone, has_touch=phone)
    ctx.on("page", page_errors.watch)
    return ctx


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_payment_appears_on_the_open_history_and_the_register_within_5_s_with_a_chime(
        site: Site, browser: Browser, page_errors: PageErrors, viewport: dict[str, int]) -> None:
    shop = site.shop("ライブ確認店")
    consumer = site.consumer()
    earlier = site.sell(shop, consumer, 300)
    history_ctx = context_for(browser, viewport, page_errors)
    till_ctx = context_for(browser, viewport, page_errors)
    till_ctx.add_init_script(CHIME_PROBE)
    try:
        history = history_ctx.new_page()
        console_login(history, site, shop, "history")
        expect(history.locator("#completed-points")).to_have_text("300")
        expect(history.locator("#live-status")).to_have_attribute("data-state", "online")

        till = till_ctx.new_page()
        console_login(till, site, shop, "register")
        expect(till.locator("#latest-amount")).to_have_text("300")
        expect(till.locator("#latest-id")).to_have_text(earlier[-4:])
        till.get_by_role("button", name="チャイム: オフ").click()  # the one tap browsers need before sound
        expect(till.get_by_role("button", name="チャイム: オン")).to_have_attribute("aria-pressed", "true")
        till.wait_for_function("() => window.__chimes >= 2")  # the switch plays it once, to be heard
        before = till.evaluate("() => window.__chimes")

        # WHEN a consumer pays through the API while both pages are open (no click, no reload)
        paid = pay_through_the_api(site, consumer, shop.merchant_id, 1_234)
        started = time.monotonic()

        # THEN within 5 s the till shows it large, with its time and the last 4 of its 決済ID, and chimes
        expect(till.locator("#latest-amount")).to_have_text("1,234", timeout=5_000)
        expect(till.locator("#latest-id")).to_have_text(paid[-4:])
        expect(till.locator("#latest-shop")).to_have_text("ライブ確認店")
        till.wait_for_function("n => window.__chimes > n", arg=before, timeout=2_000)
        # AND the history has the row, the new count and total, and says when it last updated
        expect(history.locator("#tx-table tbody tr", has_text=paid)).to_be_visible(
            timeout=max(500, int(5_000 - (time.monotonic() - started) * 1000)))
        expect(history.locator("#completed-count")).to_have_text("2")
        expect(history.locator("#completed-points")).to_have_text("1,534")
        expect(history.locator("#live-note")).to_contain_text("新しいお支払い 1件")
        assert time.monotonic() - started < 6  # both, measured from the payment's answer
        expect(history.locator("#last-updated")).not_to_have_text("--:--:--")
        screenshot(till, "live-register")
        screenshot(history, "live-history")

        # a cancellation reaches the till too
        token = site.login_token(shop)
        assert site.api("POST", f"/v1/merchant/payments/{paid}/cancel", {"confirm_payment_id": paid},
                        token=token)[0] == 200
        expect(till.locator("#latest-cancelled")).to_be_visible(timeout=5_000)
        expect(history.locator("#completed-points")).to_have_text("300", timeout=5_000)
    finally:
        history_ctx.close()
        till_ctx.close()


def test_the_register_says_plainly_when_it_is_offline_and_when_the_login_has_gone(
        site: Site, page: Page) -> None:
    shop = site.shop("回線確認店")
    console_login(page, site, shop, "register")
    expect(page.locator("#till-connection")).to_have_attribute("data-state", "online")
    page.route("**/v1/merchant/live*", lambda route: route.abort())  # the shop's Wi-Fi drops
    expect(page.locator("#till-state")).to_contain_text("通信が切れています", timeout=8_000)
    screenshot(page, "register-offline", full_page=False)
    page.unroute("**/v1/merchant/live*")
    expect(page.locator("#till-state")).to_have_text("接続中", timeout=8_000)  # back by itself
    page.context.clear_cookies()  # the session ends
    expect(page.locator("#till-state")).to_have_text("ログインが切れました", timeout=8_000)
    link = page.get_by_role("link", name="ログインする")
    expect(link).to_be_visible()
    assert "next=register" in (link.get_attribute("href") or "")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_live_completion_screen_is_told_apart_from_a_still_image(
        site: Site, browser: Browser, page_errors: PageErrors, viewport: dict[str, int]) -> None:
    shop = site.shop("完了画面店")
    consumer = site.consumer(5_000)
    ctx = context_for(browser, viewport, page_errors)
    page = ctx.new_page()
    try:
        pay_login(page, site, consumer)
        page.get_by_text("カメラが使えないとき: コードを貼り付ける").click()
        page.get_by_label("QRコードの内容").fill(shop.qr_payload)
        page.get_by_role("button", name="このコードで進む").click()
        page.get_by_label("支払うポイント(1ポイント=1円)").fill("1200")
        page.get_by_role("button", name="次へ").click()
        expect(page.get_by_role("heading", name="お支払いの確認")).to_be_visible()
        page.go_back()  # Back on the confirm screen: one step back, still in the flow
        expect(page.get_by_role("heading", name="支払うポイントを入力")).to_be_visible()
        page.go_forward()
        expect(page.get_by_role("heading", name="お支払いの確認")).to_be_visible()
        page.get_by_role("button", name="支払う").click()
        expect(page.get_by_role("heading", name="支払い完了")).to_be_visible()
        expect(page.locator("#done-amount")).to_have_text("1,200")
        expect(page.locator("#done-shop")).to_have_text("完了画面店")
        payment_id = page.locator("#done-payment-id").inner_text()

        # A still image is one moment; the live screen's clock and band move.
        still = page.screenshot()
        first = page.locator("#done-clock").inner_text()
        page.wait_for_timeout(1_300)
        assert page.locator("#done-clock").inner_text() != first
        assert page.screenshot() != still
        expect(page.locator("#done-elapsed")).to_contain_text("お支払いから")
        screenshot(page, "pay-done-live")

        # It survives a reload, the same payment, still live.
        page.reload()
        expect(page.get_by_role("heading", name="支払い完了")).to_be_visible()
        expect(page.locator("#done-payment-id")).to_have_text(payment_id)
        shown = page.locator("#done-clock").inner_text()
        page.wait_for_timeout(1_300)
        assert page.locator("#done-clock").inner_text() != shown
        # Back after paying starts a new payment, never the confirm screen of the one made.
        page.go_back()
        expect(page.get_by_role("heading", name="お店のQRコードを読み取る")).to_be_visible()
        assert len(site.consumer_payments(consumer)) == 1
        assert page.title() == "お支払い | 女川 地域ポイント"
    finally:
        ctx.close()


def test_presets_status_filter_and_payment_id_search(site: Site, page: Page) -> None:
    shop = site.shop("プリセット店")
    consumer = site.consumer(50_000)
    today = dt.datetime.now(JST).date()
    yesterday = today - dt.timedelta(days=1)
    old = site.sell(shop, consumer, 700, when=jst(f"{yesterday} 12:00:00.000"))
    new = site.sell(shop, consumer, 900, when=dt.datetime.now(JST) - dt.timedelta(minutes=1))
    gone = site.sell(shop, consumer, 111, when=dt.datetime.now(JST) - dt.timedelta(minutes=2))
    assert site.api("POST", f"/v1/merchant/payments/{gone}/cancel", {"confirm_payment_id": gone},
                    token=site.login_token(shop))[0] == 200
    console_login(page, site, shop, "history")
    ids = page.locator("#tx-table tbody tr td:nth-child(2)")
    expect(ids).to_have_text([new, gone])
    expect(page.get_by_role("button", name="今日")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("button", name="昨日").click()
    expect(ids).to_have_text([old])
    expect(page.get_by_label("開始日時")).to_have_value(f"{yesterday}T00:00")
    expect(page.locator("#completed-points")).to_have_text("700")

    page.get_by_role("button", name="今月").click()
    expect(page.get_by_label("開始日時")).to_have_value(f"{today:%Y-%m}-01T00:00")
    page.get_by_role("button", name="今期").click()
    first_day = 1 if today.day <= 15 else 16
    expect(page.get_by_label("開始日時")).to_have_value(f"{today:%Y-%m}-{first_day:02d}T00:00")
    assert period_of(dt.datetime.now(JST)).start_utc.astimezone(JST).day == first_day

    page.get_by_role("button", name="今日").click()
    page.get_by_label("状態").select_option(label="取消のみ")
    expect(ids).to_have_text([gone])
    expect(page).to_have_url(f"{site.base}/console/history?from={today}T00%3A00&to={today}T23%3A59&status=cancelled")
    page.get_by_label("状態").select_option(label="すべて")
    expect(ids).to_have_text([new, gone])

    page.get_by_label("決済IDで探す").fill(old.lower())
    page.get_by_role("button", name="探す").click()
    expect(ids).to_have_text([old])
    page.get_by_role("button", name="検索をやめる").click()
    expect(ids).to_have_text([new, gone])

    # an empty range: no 0-100 axis, and nothing is downloaded
    page.get_by_label("開始日時").fill("2026-01-05T00:00")
    page.get_by_label("終了日時").fill("2026-01-05T23:59")
    page.get_by_role("button", name="表示", exact=True).click()
    expect(page.locator("#chart")).to_have_text("この期間の売上はありません。")
    page.get_by_role("button", name="CSV形式でエクスポート").click()
    expect(page.locator("#message")).to_contain_text("書き出す取引がありません")


def test_a_lost_session_says_so_and_keeps_the_range(site: Site, page: Page) -> None:
    shop = site.shop("再ログイン店")
    console_login(page, site, shop, "history")
    page.get_by_role("button", name="昨日").click()
    wanted = page.url
    page.context.clear_cookies()  # the session ends: the next live poll answers 401
    expect(page.locator("#message")).to_contain_text("ログインが切れました", timeout=8_000)
    expect(page).to_have_url(wanted)  # no jump away while someone is looking
    page.get_by_role("link", name="ログインする").click()
    expect(page.locator("#message")).to_contain_text("ログインの有効期限が切れました")
    page.get_by_label("ログインID").fill(shop.login_id)
    page.get_by_label("パスワード").fill(shop.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(wanted)  # back on 取引履歴 with yesterday's range
    yesterday = (dt.datetime.now(JST).date() - dt.timedelta(days=1)).isoformat()
    expect(page.get_by_label("開始日時")).to_have_value(f"{yesterday}T00:00")


def test_an_operator_error_is_shown_beside_the_button_in_view(site: Site, page: Page) -> None:
    periods = [{"period_id": f"2026-{m:02d}-{h}", "start": "2026-01-01T00:00:00.000+09:00",
                "end": "2026-01-16T00:00:00.000+09:00", "state": "closed", "closed_at": None, "payouts_count": 1,
                "payouts_total": 500, "transfer_date": "2026-01-30", "sales_points": 500, "cancel_points": 0}
               for m in range(11, 0, -1) for h in (2, 1)]
    page.route("**/v1/admin/periods", lambda route: route.fulfill(json={"items": periods}))
    page.route("**/v1/admin/periods/2026-11-2/payouts*", lambda route: route.fulfill(json={"items": []}))
    page.route("**/v1/admin/periods/2026-11-2/zengin", lambda route: route.fulfill(status=409, json={
        "error": {"code": "conflict", "message": "振込対象がありません。", "param": "period_id"}}))
    login_id, password = site.operator()
    page.goto(f"{site.base}/admin/periods")
    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    rows = page.locator("#period-table tbody tr")
    expect(rows).to_have_count(6)  # 22 periods, the newest first, a few at a time
    rows.first.get_by_role("button", name="振込一覧").click()
    page.get_by_role("button", name="全銀ファイルをダウンロード").click()
    note = page.locator("#payouts .inline-message")
    expect(note).to_have_text("振込対象がありません。")  # the server's words, not a generic one
    expect(note).to_be_in_viewport()
    screenshot(page, "admin-zengin-error", full_page=False)


def test_every_download_has_its_file_name(site: Site, page: Page, browser: Browser,
                                          page_errors: PageErrors) -> None:
    shop = site.shop("ファイル名店")
    consumer = site.consumer(10_000)
    sold_at = dt.datetime.now(JST) - dt.timedelta(days=50)
    site.sell(shop, consumer, 2_000, when=sold_at)
    period_id = period_of(sold_at).id
    site.container.closing.close_due()

    console_login(page, site, shop, "payouts")
    row = page.locator("#payout-table tbody tr").first
    with page.expect_download() as info:
        row.get_by_role("button", name="明細CSV").click()
    assert info.value.suggested_filename == f"振込明細_{period_id}_{shop.merchant_id}.csv"
    day = sold_at.date().isoformat()
    page.goto(f"{site.base}/console/history?from={day}T00:00&to={day}T23:59")
    expect(page.locator("#completed-points")).to_have_text("2,000")
    with page.expect_download() as info:
        page.get_by_role("button", name="CSV形式でエクスポート").click()
    stamp = day.replace("-", "")
    assert info.value.suggested_filename == f"取引履歴_{stamp}T0000-{stamp}T2359.csv"
    text = info.value.path().read_bytes().decode("utf-8-sig")
    assert f"{sold_at:%Y/%m/%d %H:%M:%S}" in text  # a date a spreadsheet reads as one

    ops = new_context(browser)
    ops.on("page", page_errors.watch)
    admin = ops.new_page()
    try:
        login_id, password = site.operator()
        admin.goto(f"{site.base}/admin/periods")
        admin.get_by_label("ログインID").fill(login_id)
        admin.get_by_label("パスワード").fill(password)
        admin.get_by_role("button", name="ログイン").click()
        year, month, half = period_id.split("-")
        label = f"{year}年{int(month)}月 {'前半' if half == '1' else '後半'}"
        period_row = admin.locator("#period-table tbody tr", has_text=label)
        if not period_row.count():
            admin.get_by_role("button", name="前の期間をさらに表示").click()
        period_row.get_by_role("button", name="振込一覧").click()
        expected = {"精算報告CSV": f"精算報告_{period_id}.csv", "全銀ファイルをダウンロード": f"zengin_{period_id}.txt"}
        for button, filename in expected.items():
            with admin.expect_download() as info:
                admin.get_by_role("button", name=button).click()
            assert info.value.suggested_filename == filename
        with admin.expect_download() as info:
            admin.locator("#payout-table tbody tr", has_text="ファイル名店").get_by_role("button", name="明細").click()
        assert info.value.suggested_filename == f"振込明細_{period_id}_{shop.merchant_id}.csv"
    finally:
        ops.close()


def test_the_landing_page_leads_to_the_three_sites(site: Site, page: Page) -> None:
    page.goto(f"{site.base}/")
    for name, path in (("お支払い", "/pay/"), ("地域ポイントコンソール", "/console/"), ("商工会 管理画面", "/admin/")):
        expect(page.get_by_role("link", name=name)).to_have_attribute("href", path)
    assert page.title() == "女川 地域ポイント"
    assert jst  # the module's helpers stay in use
