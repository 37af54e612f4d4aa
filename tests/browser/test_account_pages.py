"""Issue 11 in a real browser: a freshly registered shop is led through changing its initial password
before it can see anything, and the operator's revocation ends an open console at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import BANK, Site
from tests.support import drive
from tests.support.local_api import http_json

pytestmark = pytest.mark.browser


def test_a_fresh_shop_is_led_through_changing_its_initial_password(site: Site, page: Page) -> None:
    reg = drive.register(site.container, name_ja="はじめて商店", name_en="HAJIMETE", bank=BANK, password=None)
    login_id, initial = reg.merchant.login_id, reg.initial_password

    page.goto(f"{site.base}/console/history")
    page.wait_for_url("**/console/login?next=history")
    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("パスワード").fill(initial)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/console/password?next=history")
    expect(page.locator("#must-change")).to_be_visible()

    # Nothing else opens until the password is changed: the history page sends it back here.
    page.goto(f"{site.base}/console/history")
    page.wait_for_url("**/console/password*")

    page.get_by_label("今のパスワード(初期パスワード)").fill(initial)
    page.get_by_label("新しいパスワード", exact=True).fill("password123")
    page.get_by_label("新しいパスワード(確認のためもう一度)").fill("password123")
    page.get_by_role("button", name="変更する").click()
    expect(page.locator("#password-message")).to_contain_text("推測されやすい")

    page.get_by_label("新しいパスワード", exact=True).fill("kamome-no-minato-7")
    page.get_by_label("新しいパスワード(確認のためもう一度)").fill("kamome-no-minato-8")
    page.get_by_role("button", name="変更する").click()
    expect(page.locator("#password-message")).to_contain_text("2回とも同じ")

    page.get_by_label("新しいパスワード(確認のためもう一度)").fill("kamome-no-minato-7")
    page.get_by_role("button", name="変更する").click()
    page.wait_for_url("**/console/history")
    expect(page.locator("#who-name")).to_have_text("はじめて商店")

    old, _, _ = http_json("POST", f"{site.base}/v1/auth/login", {"login_id": login_id, "password": initial})
    new, body, _ = http_json("POST", f"{site.base}/v1/auth/login",
                             {"login_id": login_id, "password": "kamome-no-minato-7"})
    assert (old, new, body["must_change_password"]) == (401, 200, False)


def test_revoking_access_ends_an_open_console(site: Site, page: Page) -> None:
    shop = site.shop("取り消し確認店")
    page.goto(f"{site.base}/console/history")
    page.get_by_label("ログインID").fill(shop.login_id)
    page.get_by_label("パスワード").fill(shop.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/console/history")
    site.container.merchants.revoke_access(shop.merchant_id)
    page.reload()
    page.wait_for_url("**/console/login*")
    page.get_by_label("ログインID").fill(shop.login_id)
    page.get_by_label("パスワード").fill(shop.password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("#message")).to_contain_text("ご利用いただけません")
