"""Issue 6: screenshots of every console page and every pay-flow screen (and the operator pages) at
phone and desktop widths, saved to ``artifacts/screenshots/`` for people to look at. Each screen is
also checked for horizontal overflow, the usual way a layout breaks on a phone."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from playwright.sync_api import Browser, Page, expect

from app import app as chalice_app
from chalicelib.core.clock import JST
from tests.browser.conftest import DESKTOP, PHONE, REPO, PageErrors, Shop, Site, jst, new_context, screenshot

pytestmark = pytest.mark.browser


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{page.url} scrolls sideways by {overflow}px"


SETTLEMENT = {"/v1/merchant/payouts", "/v1/admin/periods"} <= set(chalice_app.routes)
AXE = REPO / ".venv" / "axe-core" / "axe.min.js"  # installed by `make browser-deps` (npm, MPL-2.0)


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.x A/AA rules on the current page (injected through the driver, not the page)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser-deps`")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("""async () => {
        const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
        const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
    }""")
    return list(result)


def snap(page: Page, name: str) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")
    no_sideways_scroll(page)
    assert accessibility_violations(page) == [], name
    screenshot(page, name)


@dataclasses.dataclass
class Scene:
    shop: Shop  # the console's shop: a week of sales, one cancelled, and (with settlement) a payout
    pay_shop: Shop  # where the pay flow pays, so both viewports see the same console numbers
    consumer: str
    ids: list[str]


@pytest.fixture(scope="module")
def scene(site: Site) -> Scene:
    shop = site.shop("おながわ商店街 鮮魚と惣菜")
    consumer = site.consumer(30_000)
    today = dt.datetime.now(JST).date()
    ids = []
    for days_ago, hour, amount in [(6, 10, 1200), (5, 11, 800), (5, 15, 2300), (3, 9, 540), (2, 13, 3100),
                                   (1, 12, 760), (1, 18, 1980), (0, 8, 430)]:
        day = (today - dt.timedelta(days=days_ago)).isoformat()
        ids.append(site.sell(shop, consumer, amount, when=jst(f"{day} {hour:02d}:{amount % 60:02d}:00.000")))
    if SETTLEMENT:
        site.sell(shop, consumer, 4_800, when=dt.datetime.now(JST) - dt.timedelta(days=40))
        site.container.closing.close_due()
    cancelled = ids[2]
    token = site.login_token(shop)
    assert site.api("POST", f"/v1/merchant/payments/{cancelled}/cancel", {"confirm_payment_id": cancelled},
                    token=token)[0] == 200
    return Scene(shop=shop, pay_shop=site.shop("女川みなと食堂"), consumer=consumer, ids=ids)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots(site: Site, scene: Scene, browser: Browser, page_errors: PageErrors,
                     viewport: dict[str, int]) -> None:
    shop, consumer, ids = scene.shop, scene.consumer, scene.ids
    today = dt.datetime.now(JST).date()
    phone = viewport is PHONE
    ctx = new_context(browser, viewport=viewport, is_mobile=phone, has_touch=phone)
    ctx.on("page", page_errors.watch)
    page = ctx.new_page()
    try:
        # -- merchant console
        page.goto(f"{site.base}/console/login")
        snap(page, "console-login")
        page.get_by_label("ログインID").fill(shop.login_id)
        page.get_by_label("パスワード").fill(shop.password)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/console/history")
        start = (today - dt.timedelta(days=6)).isoformat()
        page.goto(f"{site.base}/console/history?from={start}T00:00&to={today.isoformat()}T23:59")
        expect(page.locator("#completed-count")).to_have_text("7")
        expect(page.locator("#chart svg rect.bar")).to_have_count(7)
        snap(page, "console-history")

        page.goto(f"{site.base}/console/transactions?from={start}T00:00&to={today.isoformat()}T23:59")
        expect(page.locator("#tx-table tbody tr")).to_have_count(8)
        snap(page, "console-transactions")
        row = page.locator("#tx-table tbody tr", has_text=ids[-1])
        row.hover()
        row.get_by_role("button").click()
        expect(page.locator("#cancel-dialog")).to_be_visible()
        no_sideways_scroll(page)
        assert accessibility_violations(page) == []
        screenshot(page, "console-cancel-dialog", full_page=False)  # the backdrop covers the viewport
        page.locator("#cancel-dialog").get_by_role("button", name="いいえ").click()

        page.goto(f"{site.base}/console/payouts")
        expect(page.locator("#who-name")).to_have_text(shop.name_ja)
        if SETTLEMENT:
            expect(page.locator("#payout-table tbody tr")).to_have_count(1)
        page.wait_for_load_state("networkidle")
        snap(page, "console-payouts")
        page.goto(f"{site.base}/console/register")
        expect(page.locator("#till-connection")).to_have_attribute("data-state", "online")
        expect(page.locator("#latest-amount")).to_have_text("430")
        snap(page, "console-register")
        page.goto(f"{site.base}/console/contact")
        expect(page.locator("#merchant-hours")).not_to_be_empty()
        expect(page.locator("#who-name")).to_have_text(shop.name_ja)
        snap(page, "console-contact")
        page.goto(f"{site.base}/console/history?from={start}T00:00&to={today.isoformat()}T23:59")
        expect(page.locator("#completed-count")).to_have_text("7")
        page.evaluate("() => { window.print = () => {}; }")
        page.get_by_role("button", name="印刷").click()
        page.emulate_media(media="print")
        screenshot(page, "console-history-print")
        page.emulate_media(media="screen")

        # -- the landing page
        page.goto(f"{site.base}/")
        expect(page.get_by_role("link", name="地域ポイントコンソール")).to_be_visible()
        snap(page, "landing")

        # -- pay flow
        page.goto(f"{site.base}/pay/")
        expect(page.get_by_label("利用者ID")).to_be_visible()
        snap(page, "pay-1-login")
        page.get_by_label("利用者ID").fill(consumer)
        page.get_by_role("button", name="開発用トークンでログイン").click()
        expect(page.locator("#scan-balance")).not_to_have_text("-")
        snap(page, "pay-2-scan")
        page.get_by_text("カメラが使えないとき: コードを貼り付ける").click()
        page.get_by_label("QRコードの内容").fill(scene.pay_shop.qr_payload)
        snap(page, "pay-2-scan-paste")
        page.get_by_role("button", name="このコードで進む").click()
        page.get_by_label("支払うポイント(1ポイント=1円)").fill("1500")
        snap(page, "pay-3-amount")
        page.get_by_role("button", name="次へ").click()
        expect(page.locator("#confirm-after")).not_to_be_empty()
        snap(page, "pay-4-confirm")
        page.get_by_role("button", name="支払う").click()
        expect(page.locator("#done-payment-id")).not_to_be_empty()
        snap(page, "pay-5-done")
        page.get_by_role("link", name="残高・履歴").click()
        expect(page.locator("#history li")).to_have_count(len(site.consumer_payments(consumer)))
        snap(page, "pay-6-balance")

        # -- operator
        login_id, password = site.operator()
        page.goto(f"{site.base}/admin/login")
        page.get_by_label("ログインID").fill(login_id)
        page.get_by_label("パスワード").fill(password)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/admin/merchants")
        expect(page.locator("#merchant-table tbody tr").first).to_be_visible()
        snap(page, "admin-merchants")
        page.goto(f"{site.base}/admin/periods")
        page.wait_for_load_state("networkidle")
        if SETTLEMENT:
            closed = page.locator("#period-table tbody tr", has_text="4,800 円")
            closed.get_by_role("button", name="振込一覧").click()
            expect(page.locator("#payouts")).to_be_visible()
        snap(page, "admin-periods")
    finally:
        ctx.close()
