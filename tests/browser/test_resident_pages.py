"""Issue 12 in a real browser: a resident creates an account on /pay/ against the local engine's
Cognito, confirms it, is signed in, pays a shop and sees the balance; a reload keeps the sign-in and an
expired access token is renewed from the refresh token."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, PageErrors, Site, new_context
from tests.support import drive

pytestmark = pytest.mark.browser
PASSWORD = "kamome-2026-pay"


@pytest.fixture
def phone(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    ctx = new_context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    ctx.on("page", page_errors.watch)
    yield ctx.new_page()
    ctx.close()


def sign_up(page: Page, site: Site, email: str) -> str:
    """Creates the account through the page and returns the resident's id (the pool's sub)."""
    page.goto(f"{site.base}/pay/")
    page.get_by_role("button", name="はじめての方: アカウントを作成").click()
    form = page.locator("#resident-signup-form")
    form.get_by_label("メールアドレス").fill(email)
    form.get_by_label("パスワード", exact=True).fill(PASSWORD)
    form.get_by_label("パスワード(確認のためもう一度)").fill(PASSWORD + "x")
    page.get_by_role("button", name="作成する").click()
    expect(page.locator("#message")).to_contain_text("2回とも同じ")
    page.get_by_label("パスワード(確認のためもう一度)").fill(PASSWORD)
    page.get_by_role("button", name="作成する").click()
    expect(page.get_by_role("heading", name="メールアドレスの確認")).to_be_visible()
    page.get_by_label("確認コード").fill("123456")  # the local engine sends no mail and takes any code
    page.get_by_role("button", name="確認してログイン").click()
    page.get_by_role("heading", name="お店のQRコードを読み取る").wait_for()
    token = page.evaluate("sessionStorage.getItem('onagawa.consumerToken')")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["token_use"] == "access" and claims["iss"] == site.container.settings.cognito_issuer
    return str(claims["sub"])


def test_a_resident_signs_up_pays_and_sees_the_balance(site: Site, phone: Page) -> None:
    resident = sign_up(phone, site, "minato@example.jp")
    drive.grant(site.container, resident, 2_000, "2027-12-31")
    shop = site.shop("女川みなと食堂")
    phone.reload()
    expect(phone.locator("#scan-balance")).to_have_text("2,000")
    phone.get_by_text("カメラが使えないとき: コードを貼り付ける").click()
    phone.get_by_label("QRコードの内容").fill(shop.qr_payload)
    phone.get_by_role("button", name="このコードで進む").click()
    phone.get_by_label("支払うポイント(1ポイント=1円)").fill("700")
    phone.get_by_role("button", name="次へ").click()
    phone.get_by_role("button", name="支払う").click()
    expect(phone.get_by_role("heading", name="支払い完了")).to_be_visible()
    phone.goto(f"{site.base}/pay/balance")
    expect(phone.locator("#balance")).to_have_text("1,300")


def test_a_returning_resident_signs_in_and_an_expired_token_is_renewed(site: Site, phone: Page) -> None:
    resident = sign_up(phone, site, "kaede@example.jp")
    drive.grant(site.container, resident, 500, "2027-12-31")
    phone.evaluate("sessionStorage.clear()")  # a new tab: only the refresh token on the device remains
    phone.goto(f"{site.base}/pay/")
    expect(phone.locator("#scan-balance")).to_have_text("500")  # signed in again without a password

    phone.evaluate("localStorage.removeItem('onagawa.residentRefresh'); sessionStorage.clear()")  # signed out
    phone.goto(f"{site.base}/pay/")
    form = phone.locator("#resident-signin-form")
    expect(form.get_by_label("メールアドレス")).to_have_value("kaede@example.jp")  # remembered on this device
    form.get_by_label("パスワード").fill("wrong-password-9")
    form.get_by_role("button", name="ログイン").click()
    expect(phone.locator("#message")).to_have_text("メールアドレスまたはパスワードが違います。")
    form.get_by_label("パスワード").fill(PASSWORD)
    form.get_by_role("button", name="ログイン").click()
    expect(phone.locator("#scan-balance")).to_have_text("500")
