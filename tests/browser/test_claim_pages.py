"""Claim codes (受取コード) in a real browser: a letter's QR opens /pay/?code=…; the resident signs up on
the page (the local engine's Cognito), the code survives the sign-in, 受け取る adds the points, which
then pay a shop; a used code gets its Japanese message."""

from __future__ import annotations

import datetime as dt
import re
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from chalicelib.core.clock import JST
from chalicelib.payments.commands import ClaimBatchRequest
from tests.browser.conftest import PHONE, PageErrors, Site, new_context

pytestmark = pytest.mark.browser
PASSWORD = "kamome-2026-claim"


@pytest.fixture
def phone(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    ctx = new_context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    ctx.on("page", page_errors.watch)
    yield ctx.new_page()
    ctx.close()


def letter_urls(site: Site, batch_id: str) -> list[str]:
    """The QR targets printed on the batch's letters, as the operator downloads them."""
    status, body = site.api("POST", "/v1/auth/login", {"login_id": site.operator()[0], "password": site.operator()[1]})
    assert status == 200, body
    request = urllib.request.Request(f"{site.base}/v1/admin/claim-batches/{batch_id}/letters",
                                     headers={"Authorization": f"Bearer {body['token']}"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        html = resp.read().decode("utf-8")
    return re.findall(r'<p class="url">([^<]+)</p>', html)


def test_a_letter_code_is_claimed_after_signing_up_and_then_spent(site: Site, phone: Page) -> None:
    # GIVEN a batch of two 1,500-point codes and its letters
    expires = dt.date(dt.datetime.now(JST).year + 1, 12, 31)
    site.container.claims.create_batch(ClaimBatchRequest(count=2, points=1500, expires_on=expires,
                                                         batch_id="BROWSER-CLAIMS"))
    urls = letter_urls(site, "BROWSER-CLAIMS")
    assert len(urls) == 2 and all(u.startswith(f"{site.base}/pay/?code=") for u in urls)
    code = urls[0].split("code=", 1)[1]
    shop = site.shop("女川うみねこ商店")
    # WHEN a resident opens the first letter's QR and creates an account on the page
    phone.goto(urls[0])
    expect(phone.locator("#claim-pending")).to_contain_text(code)
    assert "code=" not in phone.url  # the code waits in this tab only, not in the address
    phone.get_by_role("button", name="はじめての方: アカウントを作成").click()
    form = phone.locator("#resident-signup-form")
    form.get_by_label("メールアドレス").fill("umineko@example.jp")
    form.get_by_label("パスワード", exact=True).fill(PASSWORD)
    form.get_by_label("パスワード(確認のためもう一度)").fill(PASSWORD)
    phone.get_by_role("button", name="作成する").click()
    phone.get_by_label("確認コード").fill("123456")  # the local engine sends no mail and takes any code
    phone.get_by_role("button", name="確認してログイン").click()
    # THEN after the sign-in the code is filled in, and 受け取る adds its points
    expect(phone.get_by_role("heading", name="お店のQRコードを読み取る")).to_be_visible()
    expect(phone.locator("#scan-balance")).to_have_text("0")
    expect(phone.get_by_label("受取コード(お手紙に書かれた16文字)")).to_have_value(code)
    phone.get_by_role("button", name="受け取る").click()
    expect(phone.locator("#claim-result")).to_contain_text("1,500 ポイントを受け取りました")
    expect(phone.locator("#claim-result")).to_contain_text("残高は 1,500 ポイント")
    expect(phone.locator("#scan-balance")).to_have_text("1,500")
    # AND the same code again is refused in Japanese
    phone.get_by_text("受取コードでポイントを受け取る").click()
    phone.get_by_label("受取コード(お手紙に書かれた16文字)").fill(code.lower())
    phone.get_by_role("button", name="受け取る").click()
    expect(phone.locator("#message")).to_contain_text("すでに使われています")
    # AND a mistyped one too
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    phone.get_by_label("受取コード(お手紙に書かれた16文字)").fill(typo)
    phone.get_by_role("button", name="受け取る").click()
    expect(phone.locator("#message")).to_contain_text("受取コードが見つかりません")
    # AND the claimed points pay a shop
    phone.get_by_text("カメラが使えないとき: コードを貼り付ける").click()
    phone.get_by_label("QRコードの内容").fill(shop.qr_payload)
    phone.get_by_role("button", name="このコードで進む").click()
    phone.get_by_label("支払うポイント(1ポイント=1円)").fill("600")
    phone.get_by_role("button", name="次へ").click()
    phone.get_by_role("button", name="支払う").click()
    expect(phone.get_by_role("heading", name="支払い完了")).to_be_visible()
    expect(phone.locator("#done-balance")).to_have_text("900")
    phone.goto(f"{site.base}/pay/balance")
    expect(phone.locator("#balance")).to_have_text("900")


def test_the_operator_issues_a_batch_and_opens_its_letters(site: Site, browser: Browser,
                                                           page_errors: PageErrors) -> None:
    from tests.browser.test_admin_pages import admin_login

    ctx = new_context(browser)
    ctx.on("page", page_errors.watch)
    page = ctx.new_page()
    admin_login(page, site)
    page.get_by_role("link", name="受取コード").click()
    page.wait_for_url("**/admin/claims")
    page.get_by_label("コードの数(1〜10,000)").fill("3")
    page.get_by_label("1コードのポイント数").fill("2000")
    expires = dt.date(dt.datetime.now(JST).year + 1, 3, 31)
    page.get_by_label("有効期限(この日まで)").fill(expires.isoformat())
    page.get_by_label("バッチID(省略可、英数字と - _)").fill("ADMIN-PAGE-1")
    page.get_by_role("button", name="発行する").click()
    expect(page.locator("#confirm-dialog")).to_contain_text("3 件 × 2,000 ポイント(合計 6,000 ポイント)")
    page.locator("#confirm-dialog").get_by_role("button", name="はい").click()
    row = page.locator("#batch-table tbody tr", has_text="ADMIN-PAGE-1")
    expect(row).to_contain_text("6,000")  # unclaimed
    expect(row).to_contain_text("0 件 / 0 pt")
    assert site.container.claims.batch("ADMIN-PAGE-1").count == 3
    with ctx.expect_page() as popup_info:
        row.get_by_role("link", name="案内状(ADMIN-PAGE-1)").click()
    letters = popup_info.value
    letters.wait_for_load_state()
    expect(letters.locator("section.letter")).to_have_count(3)
    expect(letters.locator("section.letter").first).to_contain_text("2,000 ポイント")
    assert letters.locator(".qr svg").count() == 3
    letters.close()
    # WHEN the same batch id is sent with other content, THEN it is refused in Japanese
    page.get_by_label("コードの数(1〜10,000)").fill("4")
    page.get_by_label("1コードのポイント数").fill("2000")
    page.get_by_label("有効期限(この日まで)").fill(expires.isoformat())
    page.get_by_label("バッチID(省略可、英数字と - _)").fill("ADMIN-PAGE-1")
    page.get_by_role("button", name="発行する").click()
    page.locator("#confirm-dialog").get_by_role("button", name="はい").click()
    expect(page.get_by_text("このバッチIDは別の内容で発行済みです")).to_be_visible()
    ctx.close()
