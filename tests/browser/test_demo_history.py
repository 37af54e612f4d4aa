"""What a fresh `make run` shows (SPEC §12): the demo seeding of devstack.run, then the operator's
periods page with closed periods, payouts in every state and a Zengin download, and the demo shop's
振込履歴 and レジ画面 with history to show. Its own module: the demo closes every due period."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, expect

from devstack import run
from devstack.demo import seed_history
from tests.browser.conftest import DESKTOP, PHONE, PageErrors, Site, new_context, screenshot

pytestmark = pytest.mark.browser

STATUS = {"paid": "振込済", "exported": "振込手続中", "failed": "振込不能", "carried": "繰越", "scheduled": "振込予定"}


def period_label(period_id: str) -> str:
    year, month, half = period_id.split("-")
    return f"{year}年{int(month)}月 {'前半' if half == '1' else '後半'}"


def _whole_history() -> tuple[dt.datetime, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    return now - dt.timedelta(days=400), now + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def seeded(site: Site) -> tuple[str, ...]:
    run.seed_demo(site.container)
    summary = seed_history(site.container, run.DEMO.merchant_id)
    assert summary.created and summary.payments > 50 and summary.cancellations > 0
    assert set(summary.payout_states) == set(STATUS), summary
    assert seed_history(site.container, run.DEMO.merchant_id).created is False  # once
    # the demo consumer is untouched: exactly its 10,000 points and no history
    assert site.balance(run.DEMO.consumer_id) == 10_000 and site.consumer_payments(run.DEMO.consumer_id) == []
    # the demo merchant's history is spread over its two shops
    events, _ = site.container.payment_repo.merchant_events(run.DEMO.merchant_id, *_whole_history())
    assert {e.store_id for e in events} == {run.DEMO.merchant_id, run.DEMO.store_id}
    return summary.closed_periods


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_fresh_make_run_shows_payouts_closed_periods_and_a_zengin_download(
        site: Site, seeded: tuple[str, ...], browser: Browser, page_errors: PageErrors,
        viewport: dict[str, int]) -> None:
    phone = viewport is PHONE
    ctx = new_context(browser, viewport=viewport, is_mobile=phone, has_touch=phone)
    ctx.on("page", page_errors.watch)
    page = ctx.new_page()
    try:
        page.goto(f"{site.base}/admin/periods")
        page.get_by_label("ログインID").fill(run.DEMO.operator_login)
        page.get_by_label("パスワード").fill(run.DEMO.operator_password)
        page.get_by_role("button", name="ログイン").click()
        rows = page.locator("#period-table tbody tr")
        expect(rows.first).to_contain_text("受付中")
        expect(rows.first).to_contain_text("見込み")  # the open period's running total, not 0 円
        assert not rows.first.locator("td").nth(6).inner_text().startswith("見込み 0 ")
        for period_id in seeded:
            expect(page.locator("#period-table tbody tr", has_text=period_label(period_id))).to_contain_text("締め済み")
        screenshot(page, "demo-admin-periods")

        exported = seeded[-2]  # sent to the bank, one transfer came back failed, one shop carried
        page.locator("#period-table tbody tr", has_text=period_label(exported)).get_by_role(
            "button", name="振込一覧").click()
        payouts = page.locator("#payout-table tbody tr .status")
        expect(payouts.first).to_be_visible()
        shown = set(payouts.all_inner_texts())
        assert {STATUS["exported"], STATUS["failed"], STATUS["carried"]} <= shown, shown
        with page.expect_download() as info:
            page.get_by_role("button", name="全銀ファイルをダウンロード").click()
        assert info.value.suggested_filename == f"zengin_{exported}.txt"
        data = info.value.path().read_bytes()
        assert data[:1] == b"1" and len(data) % 122 == 0
        screenshot(page, "demo-admin-payouts", full_page=False)
        page.locator("#period-table tbody tr", has_text=period_label(seeded[0])).get_by_role(
            "button", name="振込一覧").click()
        expect(page.locator("#payout-table tbody tr .status").first).to_have_text(STATUS["paid"])

        # the demo shop: its payouts and its till have something to show
        shop_ctx = new_context(browser, viewport=viewport, is_mobile=phone, has_touch=phone)
        shop_ctx.on("page", page_errors.watch)
        shop = shop_ctx.new_page()
        shop.goto(f"{site.base}/console/payouts")
        shop.get_by_label("ログインID").fill(run.DEMO.merchant_login)
        shop.get_by_label("パスワード").fill(run.DEMO.merchant_password)
        shop.get_by_role("button", name="ログイン").click()
        expect(shop.locator("#payout-table tbody tr")).to_have_count(len(seeded))
        expect(shop.locator("#payout-table tbody tr", has_text=STATUS["paid"]).first).to_be_visible()
        screenshot(shop, "demo-console-payouts")
        shop.goto(f"{site.base}/console/history")
        expect(shop.locator("#live-status")).to_have_attribute("data-state", "online")
        screenshot(shop, "demo-console-history")
        shop_ctx.close()
    finally:
        ctx.close()
