"""Issue 6: what the page routes answer over HTTP, without a browser — security headers on every
page, the login redirect, the HTML 404, assets and their cache rules, the base path behind a stage."""

from __future__ import annotations

import re
import types
import urllib.error
import urllib.request

import msgspec
import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Container
from chalicelib.web import assets, pages
from tests.browser.conftest import Site

PAGES = ["/console/", "/console/login", "/console/history", "/console/transactions", "/console/payouts",
         "/console/contact", "/pay/", "/pay/home", "/pay/balance", "/admin/", "/admin/login", "/admin/merchants",
         "/admin/periods"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read().decode("utf-8")


def csp(headers: dict[str, str]) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_strict_headers(site: Site, path: str) -> None:
    status, headers, body = fetch(site.base + path)
    assert status in (200, 303)
    policy = csp(headers) if status == 200 else None
    if status == 303:
        assert re.search(r"/(console|admin)/login\?next=\w+$", headers["location"])
        return
    assert policy is not None
    assert headers["content-type"].startswith("text/html")
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["img-src"] == "'self' data: blob:" and policy["media-src"] == "'self' blob:"
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    assert "<script>" not in body and not re.search(r"<[^>]*\son[a-z]+\s*=", body)  # no inline script at all
    assert body.startswith("<!DOCTYPE html>") and '<html lang="ja"' in body
    camera = "camera=(self)" in headers["permissions-policy"]
    assert camera == path.startswith("/pay")
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert len(ids) == len(set(ids)), "duplicate ids"
    for target in re.findall(r'<label[^>]*\sfor="([^"]+)"', body):
        assert target in ids, f"label for a missing control: {target}"


def test_a_session_of_the_right_role_opens_the_console(site: Site) -> None:
    shop = site.shop("ヘッダー確認店")
    token = site.login_token(shop)
    status, _, body = fetch(site.base + "/console/payouts", {"Cookie": f"session={token}"})
    assert status == 200 and 'aria-current="page">振込履歴<' in body
    status, headers, _ = fetch(site.base + "/admin/merchants", {"Cookie": f"session={token}"})
    assert status == 303 and headers["location"].endswith("/admin/login?next=merchants")
    status, headers, _ = fetch(site.base + "/console/history", {"Cookie": "session=v1.forged.token"})
    assert status == 303


def test_the_development_login_is_offered_only_on_the_local_stage(site: Site) -> None:
    _, _, body = fetch(site.base + "/pay/home")
    assert 'data-dev-login="1"' in body
    local = site.container
    bootstrap.override(Container(settings=msgspec.structs.replace(local.settings, stage="prod",
                                                              dev_issuer_enabled=False), clock=local.clock))
    try:
        _, _, body = fetch(site.base + "/pay/home")
    finally:
        bootstrap.override(local)
    assert 'data-dev-login="0"' in body


def test_unknown_pages_and_assets_are_html_404(site: Site) -> None:
    for path in ("/console/nope", "/pay/%3Cscript%3E", "/assets/..%2Fpages.py", "/assets/pages.py"):
        status, headers, body = fetch(site.base + path)
        assert status == 404 and headers["content-type"].startswith("text/html"), path
        assert "<script" not in body


def test_assets_are_cacheable_only_at_their_current_version(site: Site) -> None:
    status, _, body = fetch(site.base + "/pay/home")
    urls = re.findall(r'(?:src|href)="(/assets/[^"]+)"', body)
    assert {u.split("?")[0] for u in urls} == {"/assets/style.css", "/assets/common.js", "/assets/jsqr.js",
                                              "/assets/resident.js",
                                              "/assets/pay.js"}
    for url in urls:
        status, headers, _ = fetch(site.base + url)
        assert status == 200 and "immutable" in headers["cache-control"], url
        name = url.split("?")[0].rsplit("/", 1)[1]
        assert headers["content-type"] == assets.ASSETS[name]
    status, headers, _ = fetch(site.base + "/assets/pay.js?v=old")
    assert status == 200 and headers["cache-control"] == "no-cache"


def test_jsqr_is_served_with_its_license() -> None:
    assert "Apache License" in assets.load("jsqr.LICENSE.txt").body
    assert "jsQR" in assets.load("jsqr.js").body


def fake_request(resource: str, actual: str, params: dict[str, str] | None = None) -> object:
    return types.SimpleNamespace(path=resource, uri_params=params, context={"path": actual})


@pytest.mark.parametrize(("resource", "actual", "params", "base"), [
    ("/console", "/console", None, ""),
    ("/console", "/console/", None, ""),
    ("/console/{page}", "/api/console/history", {"page": "history"}, "/api"),
    ("/pay", "/prod/pay/", None, "/prod"),
    ("/console/{page}", "/x\"y/console/history", {"page": "history"}, ""),  # never echo odd characters
    ("/console/{page}", "/elsewhere", {"page": "history"}, ""),
])
def test_base_path_follows_the_stage_prefix(resource: str, actual: str, params: dict[str, str] | None,
                                            base: str) -> None:
    assert pages.base_path(fake_request(resource, actual, params)) == base  # type: ignore[arg-type]
