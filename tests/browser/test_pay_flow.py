"""Issue 6: the consumer pay flow in a real browser — paste or scan the shop's QR, points, the
confirm screen, 支払い完了; one payment however often 支払う is pressed; Japanese error messages."""

from __future__ import annotations

import datetime as dt
import io
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Playwright, Route, expect

from chalicelib.core.clock import JST
from chalicelib.merchants.qr_images import qr_png
from tests.browser.conftest import (
    PHONE,
    PageErrors,
    Shop,
    Site,
    console_login,
    launch,
    new_context,
    pay_login,
)
from tests.support import drive

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    ctx = new_context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    ctx.on("page", page_errors.watch)
    yield ctx.new_page()
    ctx.close()


def paste_code(page: Page, code: str) -> None:
    if page.locator("#paste").get_attribute("open") is None:
        page.get_by_text("カメラが使えないとき: コードを貼り付ける").click()
    page.get_by_label("QRコードの内容").fill(code)
    page.get_by_role("button", name="このコードで進む").click()


def to_confirm(page: Page, shop: Shop, amount: int) -> None:
    paste_code(page, shop.qr_payload)
    expect(page.locator("#amount-shop")).to_have_text(shop.name_ja)
    page.get_by_label("支払うポイント(1ポイント=1円)").fill(str(amount))
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", name="お支払いの確認")).to_be_visible()


def test_consumer_pays_and_the_shop_sees_the_payment(site: Site, phone: Page, browser: Browser) -> None:
    shop = site.shop("おながわ鮮魚店")
    consumer = site.consumer(3_000)
    pay_login(phone, site, consumer)
    expect(phone.locator("#scan-balance")).to_have_text("3,000")
    paste_code(phone, shop.qr_payload)
    expect(phone.locator("#amount-shop")).to_have_text("おながわ鮮魚店")
    phone.get_by_label("支払うポイント(1ポイント=1円)").fill("８５０")  # full-width digits from a Japanese keyboard
    phone.get_by_role("button", name="次へ").click()

    expect(phone.locator("#confirm-shop")).to_have_text("おながわ鮮魚店")
    expect(phone.locator("#confirm-amount")).to_have_text("850")
    expect(phone.locator("#confirm-after")).to_have_text("2,150")
    before = dt.datetime.now(JST).replace(microsecond=0)
    phone.get_by_role("button", name="支払う").click()

    heading = phone.get_by_role("heading", name="支払い完了")
    expect(heading).to_be_visible()
    box = heading.bounding_box()
    assert box is not None and abs(box["x"] + box["width"] / 2 - PHONE["width"] / 2) < 4  # centred
    payment_id = phone.locator("#done-payment-id").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{10}", payment_id)
    shown = dt.datetime.strptime(phone.locator("#done-time").inner_text(), "%Y/%m/%d %H:%M:%S").replace(tzinfo=JST)
    assert before - dt.timedelta(seconds=1) <= shown <= dt.datetime.now(JST) + dt.timedelta(seconds=1)
    expect(phone.locator("#done-balance")).to_have_text("2,150")
    stored = site.consumer_payments(consumer)
    assert [(p["payment_id"], p["amount"]) for p in stored] == [(payment_id, 850)]
    assert site.balance(consumer) == 2_150

    ctx = new_context(browser)
    try:
        desk = ctx.new_page()
        console_login(desk, site, shop)
        row = desk.locator("#tx-table tbody tr", has_text=payment_id)
        expect(row).to_contain_text("850")
        expect(row).to_contain_text(consumer)
        expect(desk.locator("#completed-points")).to_have_text("850")
    finally:
        ctx.close()


def test_double_click_on_pay_pays_once(site: Site, phone: Page) -> None:
    shop = site.shop("二度押し商店")
    consumer = site.consumer(1_000)
    pay_login(phone, site, consumer)
    to_confirm(phone, shop, 300)
    posts: list[str] = []
    phone.on("request", lambda r: posts.append(r.headers.get("idempotency-key", "")) if r.method == "POST"
             and r.url.endswith("/v1/payments") else None)
    phone.get_by_role("button", name="支払う").dblclick()
    expect(phone.get_by_role("heading", name="支払い完了")).to_be_visible()
    assert len(site.consumer_payments(consumer)) == 1
    assert site.balance(consumer) == 700
    assert len(posts) == 1 and posts[0]


def test_a_lost_answer_is_retried_with_the_same_key_and_pays_once(site: Site, phone: Page) -> None:
    shop = site.shop("電波の悪い店")
    consumer = site.consumer(1_000)
    pay_login(phone, site, consumer)
    to_confirm(phone, shop, 400)
    keys: list[str] = []

    def lose_the_answer(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        route.fetch()  # the server pays ...
        route.abort("connectionreset")  # ... but the phone never hears back

    phone.route("**/v1/payments", lose_the_answer, times=1)
    phone.get_by_role("button", name="支払う").click()
    expect(phone.locator("#message")).to_contain_text("通信できませんでした")
    assert len(site.consumer_payments(consumer)) == 1  # paid, though the phone does not know yet
    retry = phone.get_by_role("button", name="もう一度 支払う")
    expect(retry).to_be_enabled()
    with phone.expect_request("**/v1/payments") as second:
        retry.click()
    expect(phone.get_by_role("heading", name="支払い完了")).to_be_visible()
    assert second.value.headers["idempotency-key"] == keys[0]
    stored = site.consumer_payments(consumer)
    assert len(stored) == 1 and phone.locator("#done-payment-id").inner_text() == stored[0]["payment_id"]
    assert site.balance(consumer) == 600

    # A new attempt (continue paying) gets a new key.
    phone.get_by_role("button", name="続けて支払う").click()
    to_confirm(phone, shop, 100)
    with phone.expect_request("**/v1/payments") as third:
        phone.get_by_role("button", name="支払う").click()
    expect(phone.get_by_role("heading", name="支払い完了")).to_be_visible()
    assert third.value.headers["idempotency-key"] != keys[0]
    assert site.balance(consumer) == 500


def test_error_messages_are_japanese_and_specific(site: Site, phone: Page) -> None:
    shop = site.shop("エラー確認店")
    closed = site.shop("休業中の店")
    consumer = site.consumer(500)
    pay_login(phone, site, consumer)

    paste_code(phone, "000201010211NOT-A-SHOP")
    expect(phone.locator("#message")).to_have_text(
        "QRコードを読み取れませんでした。お店のQRコードをもう一度読み取ってください。")

    site.container.merchants.set_status(closed.merchant_id, "suspended")
    phone.get_by_label("QRコードの内容").fill(closed.qr_payload)
    phone.get_by_role("button", name="このコードで進む").click()
    expect(phone.locator("#message")).to_have_text("このお店は現在ご利用いただけません。")

    phone.get_by_label("QRコードの内容").fill(shop.qr_payload)
    phone.get_by_role("button", name="このコードで進む").click()
    phone.get_by_label("支払うポイント(1ポイント=1円)").fill("600")
    phone.get_by_role("button", name="次へ").click()
    expect(phone.locator("#message")).to_have_text("ポイント残高が足りません(残高 500 ポイント)。")
    phone.get_by_label("支払うポイント(1ポイント=1円)").fill("0")
    phone.get_by_role("button", name="次へ").click()
    expect(phone.locator("#message")).to_have_text("支払うポイントを1以上の数字で入力してください。")

    phone.get_by_label("支払うポイント(1ポイント=1円)").fill("400")
    phone.get_by_role("button", name="次へ").click()
    site.sell(shop, consumer, 300)  # spent elsewhere while the confirm screen is shown
    phone.get_by_role("button", name="支払う").click()
    expect(phone.locator("#message")).to_contain_text("ポイント残高が足りません(残高 200 ポイント)")
    expect(phone.get_by_role("heading", name="支払うポイントを入力")).to_be_visible()

    phone.context.set_offline(True)
    phone.get_by_label("支払うポイント(1ポイント=1円)").fill("100")
    phone.get_by_role("button", name="次へ").click()
    phone.get_by_role("button", name="支払う").click()
    expect(phone.locator("#message")).to_contain_text("通信できませんでした")
    phone.context.set_offline(False)
    phone.get_by_role("button", name="もう一度 支払う").click()
    expect(phone.get_by_role("heading", name="支払い完了")).to_be_visible()
    assert site.balance(consumer) == 100


def test_balance_page_shows_expiry_breakdown_and_history(site: Site, phone: Page) -> None:
    shop = site.shop("残高確認店")
    consumer = site.consumer(1_000)
    soon = (dt.datetime.now(JST) + dt.timedelta(days=30)).date()
    drive.grant(site.container, consumer, 250, soon)
    pid = site.sell(shop, consumer, 100)  # taken from the lot that expires first
    pay_login(phone, site, consumer)
    phone.get_by_role("link", name="残高・履歴").click()
    expect(phone.locator("#balance")).to_have_text("1,150")
    rows = phone.locator("#lots-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(soon.strftime("%Y/%m/%d"))
    expect(rows.nth(0)).to_contain_text("150")
    expect(rows.nth(1)).to_contain_text("1,000")
    item = phone.locator("#history li", has_text=pid)
    expect(item).to_contain_text("残高確認店")
    expect(item).to_contain_text("-100 ポイント")


def test_without_a_token_the_dev_login_is_offered(site: Site, phone: Page) -> None:
    phone.goto(f"{site.base}/pay/")
    expect(phone.get_by_role("heading", name="ログイン", exact=True)).to_be_visible()
    # the residents' sign-in (the local engine's Cognito), and the development login below it
    expect(phone.locator("#resident-signin-form").get_by_label("メールアドレス")).to_be_visible()
    expect(phone.get_by_label("利用者ID")).to_be_visible()
    phone.goto(f"{site.base}/pay/balance")
    expect(phone.get_by_role("heading", name="ログインが必要です")).to_be_visible()


# -- the camera ------------------------------------------------------------------------------------
def y4m_of(png: bytes, path: Path, width: int = 640, height: int = 480, frames: int = 3) -> Path:
    """A YUV4MPEG2 (4:2:0) clip showing the QR image on white, for Chromium's fake camera."""
    qr = Image.open(io.BytesIO(png)).convert("L")
    side = int(height * 0.8)
    canvas = Image.new("RGB", (width, height), "white")
    canvas.paste(qr.resize((side, side), Image.Resampling.NEAREST).convert("RGB"),
                 ((width - side) // 2, (height - side) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (width // 2, height // 2)
    chroma = [plane.resize(half, Image.Resampling.BOX).tobytes() for plane in (cb, cr)]
    frame = y.tobytes() + chroma[0] + chroma[1]
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            fh.write(b"FRAME\n" + frame)
    return path


def test_camera_scan_reads_the_shop_qr(site: Site, playwright: Playwright, tmp_path: Path,
                                       page_errors: PageErrors) -> None:
    shop = site.shop("カメラ読取商店")
    consumer = site.consumer(2_000)
    clip = y4m_of(qr_png(shop.qr_payload), tmp_path / "shop-qr.y4m")
    camera_browser = launch(playwright, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                            f"--use-file-for-fake-video-capture={clip}")
    try:
        ctx = new_context(camera_browser, viewport=PHONE, is_mobile=True, has_touch=True, permissions=["camera"])
        page = page_errors.watch(ctx.new_page())
        pay_login(page, site, consumer)
        with page.expect_request("**/v1/merchants/lookup?*", timeout=15_000) as lookup:
            page.get_by_role("button", name="カメラで読み取る").click()
        # The decoder read the exact payload, the Japanese shop name (UTF-8 bytes) included.
        assert urllib.parse.parse_qs(urllib.parse.urlsplit(lookup.value.url).query)["qr"] == [shop.qr_payload]
        expect(page.locator("#amount-shop")).to_have_text("カメラ読取商店")
        expect(page.get_by_role("heading", name="支払うポイントを入力")).to_be_visible()
        assert page.evaluate("document.getElementById('camera-video').srcObject") is None  # camera released
        page.get_by_label("支払うポイント(1ポイント=1円)").fill("250")
        page.get_by_role("button", name="次へ").click()
        page.get_by_role("button", name="支払う").click()
        expect(page.get_by_role("heading", name="支払い完了")).to_be_visible()
        stored = site.consumer_payments(consumer)
        assert [(p["merchant_id"], p["amount"]) for p in stored] == [(shop.merchant_id, 250)]
        ctx.close()
    finally:
        camera_browser.close()
