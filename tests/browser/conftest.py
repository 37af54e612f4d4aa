"""Real-browser tests: Debian's headless Chromium driven by Playwright against the app served over
HTTP on 127.0.0.1 (chalice's local server), with the moto engine behind it.

- One stack and one server per test module (seeding is cheap; a fresh engine per test is not).
  Every test registers its own shops and consumers, so tests in a module do not see each other's data.
- The clock is the system clock, except while a test seeds payments "in the past" (``site.at``).
- The browser runs in a time zone far from Japan so every JST computation in the pages is exercised.
- Any uncaught page error or Content-Security-Policy violation fails the test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

from app import app as chalice_app
from chalicelib import bootstrap
from chalicelib.config import reset_settings
from chalicelib.core.clock import JST, UTC, truncate_ms
from devstack.engine import LocalEngine
from tests.support import drive
from tests.support.local_api import http_json, serve_app
from tests.support.stack import Stack, build_stack, test_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync", "--lang=ja",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BROWSER_TZ = "America/Los_Angeles"  # not Japan: the pages must compute JST themselves
BANK = {"bank_code": "0001", "branch_code": "123", "account_type": 1, "account_number": "1234567",
        "holder_kana": "オナガワショウテン"}
OPERATOR = ("ops-browser", "operator-pass-123")


class SeedClock:
    """The system clock, unless pinned to a moment while a test seeds history."""

    def __init__(self) -> None:
        self.pinned: dt.datetime | None = None

    def now(self) -> dt.datetime:
        return self.pinned or truncate_ms(dt.datetime.now(UTC))


@dataclasses.dataclass
class Shop:
    merchant_id: str
    name_ja: str
    login_id: str
    password: str
    qr_payload: str


_serial = itertools.count(1)


@dataclasses.dataclass
class Site:
    base: str
    stack: Stack
    clock: SeedClock

    @property
    def container(self) -> bootstrap.Container:
        return self.stack.container

    def shop(self, name_ja: str = "女川商店", name_en: str = "ONAGAWA SHOTEN") -> Shop:
        reg = drive.register(self.container, name_ja=name_ja, name_en=name_en, bank=BANK)
        return Shop(reg.merchant.merchant_id, reg.merchant.name_ja, reg.merchant.login_id, reg.initial_password,
                    reg.qr_payload)

    def consumer(self, points: int = 10_000) -> str:
        consumer_id = f"C-BROWSER-{next(_serial)}-{uuid.uuid4().hex[:6].upper()}"
        expires = dt.date(dt.datetime.now(JST).year + 2, 12, 31)
        drive.grant(self.container, consumer_id, points, expires)
        return consumer_id

    def operator(self) -> tuple[str, str]:
        with contextlib.suppress(Exception):  # created once per module
            self.container.accounts.create(login_id=OPERATOR[0], role="operator", password=OPERATOR[1],
                                           merchant_id=None, now=self.clock.now())
        return OPERATOR

    @contextlib.contextmanager
    def at(self, moment: dt.datetime) -> Iterator[None]:
        self.clock.pinned = truncate_ms(moment.astimezone(UTC))
        try:
            yield
        finally:
            self.clock.pinned = None

    def sell(self, shop: Shop, consumer: str, amount: int, when: dt.datetime | None = None) -> str:
        with self.at(when) if when else contextlib.nullcontext():
            body = drive.pay(self.container, consumer, shop.merchant_id, amount)
        return str(body["payment_id"])

    def balance(self, consumer: str) -> int:
        return self.container.payments.wallet(consumer).balance(self.clock.now())

    def consumer_payments(self, consumer: str) -> list[dict[str, Any]]:
        return [i for i in self.stack.all_items() if i.get("sk") == "PAYMENT" and i.get("consumer_id") == consumer]

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, data, _ = http_json(method, self.base + path, body, headers=headers)
        return status, data

    def login_token(self, shop: Shop) -> str:
        status, body = self.api("POST", "/v1/auth/login", {"login_id": shop.login_id, "password": shop.password})
        assert status == 200, body
        return str(body["token"])


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (installs Debian's chromium and fonts-noto-cjk)")
    with sync_playwright() as p:
        yield p


def launch(playwright: Playwright, *extra_args: str) -> Browser:
    # LANGUAGE (with --lang) gives Chromium its Japanese UI locale, e.g. for date inputs.
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args],
                                      env={**os.environ, "LANGUAGE": "ja"})


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = launch(playwright)
    yield b
    b.close()


@pytest.fixture(scope="module")
def site(engine: LocalEngine, keys_dir: Path) -> Iterator[Site]:
    clock = SeedClock()
    stack = build_stack(engine, keys_dir, clock=clock)
    # What `chalice local` does with the stage's environment: a few code paths (the development
    # issuer's key location) read settings from the environment rather than the container.
    env = test_env(keys_dir)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    reset_settings()
    original_class = chalice_app.__class__  # serve_app swaps it for chalice's thread-safe local class
    try:
        with serve_app() as base:
            yield Site(base=base, stack=stack, clock=clock)
    finally:
        chalice_app.__class__ = original_class
        bootstrap.override(None)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()


def new_context(browser: Browser, viewport: dict[str, int] = DESKTOP, **kw: Any) -> BrowserContext:
    return browser.new_context(viewport=viewport, locale="ja-JP", timezone_id=BROWSER_TZ, accept_downloads=True,
                               **kw)


class PageErrors:
    """Uncaught script errors and CSP violations of every page a test opened."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused to" in msg.text):
                self.errors.append(f"CSP: {msg.text}")

        page.on("console", on_console)
        return page


@pytest.fixture
def page_errors() -> Iterator[PageErrors]:
    watcher = PageErrors()
    yield watcher
    assert watcher.errors == []


@pytest.fixture
def context(browser: Browser, page_errors: PageErrors) -> Iterator[BrowserContext]:
    ctx = new_context(browser)
    ctx.on("page", page_errors.watch)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save ``artifacts/screenshots/<name>-<phone|desktop>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{'phone' if width < 600 else 'desktop'}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def console_login(page: Page, site: Site, shop: Shop, page_name: str = "history") -> None:
    page.goto(f"{site.base}/console/{page_name}")
    page.wait_for_url("**/console/login?next=*")
    page.get_by_label("ログインID").fill(shop.login_id)
    page.get_by_label("パスワード").fill(shop.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"**/console/{page_name}")


def pay_login(page: Page, site: Site, consumer: str) -> None:
    page.goto(f"{site.base}/pay/")
    page.get_by_label("利用者ID").fill(consumer)
    page.get_by_role("button", name="開発用トークンでログイン").click()
    page.get_by_role("heading", name="お店のQRコードを読み取る").wait_for()


def jst(text: str) -> dt.datetime:
    """'2026-11-01 09:00:00.000' in JST."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=JST)
