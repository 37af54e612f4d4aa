"""The HTML pages: merchant console (``/console``), consumer pay flow (``/pay``), operator pages
(``/admin``), and the route helper that gives each of them its security headers.

Invariants:

- A page is a static shell. No stored data is rendered on the server: the page's script asks the
  same-origin JSON API and builds the DOM with ``textContent``, never ``innerHTML``. The few values
  the server does render (the base path, flags, asset URLs) go through ``html.escape``.
- Every page carries a strict Content-Security-Policy: script and style only from this origin
  (no inline script at all), images also from ``data:``/``blob:``, no plugin, no framing, no
  ``<base>``. The operator pages additionally allow the one inline stylesheet of the printable QR
  letter, by its hash, because the letter (rendered by the API with the freshly issued password)
  is opened from them as a ``blob:`` document, which inherits their policy.
- Pages are not part of the JSON API: they are registered with plain ``app.route`` through
  ``web.routes`` (a blueprint) and are not listed in the OpenAPI document.
- A console or operator page asked without a valid session of its role redirects to its login
  page. This is a convenience only: the API checks the session (and CSRF) again on every call.
- Links are prefixed with the base path the request came through (``/api`` behind API Gateway's
  stage, nothing on ``chalice local`` or a custom domain), so the pages work under either.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import re
import string
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chalice.app import Request, Response

from chalicelib import bootstrap
from chalicelib.accounts.sessions import Principal
from chalicelib.core.errors import Unauthenticated
from chalicelib.http.auth import session_cookie
from chalicelib.http.logs import logger
from chalicelib.web import assets

TEMPLATE_DIR = Path(__file__).with_name("templates")

_CSP_BASE = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' blob:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(extra_style: str = "") -> str:
    directives = dict(_CSP_BASE)
    if extra_style:
        directives["style-src"] = f"'self' {extra_style}"
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def page_headers(*, csp: str, camera: bool = False) -> dict[str, str | list[str]]:
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": f"camera=({'self' if camera else ''}), microphone=(), geolocation=()",
    }


_SAFE_BASE = re.compile(r"^(?:/[A-Za-z0-9._~-]+)*$")
_MINUTE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")


def base_path(request: Request) -> str:
    """The prefix before the route in the URL the client used: ``/api`` behind API Gateway's stage
    URL, empty on ``chalice local`` and on a custom domain without a base path."""
    resource = request.path
    for key, value in (request.uri_params or {}).items():
        resource = resource.replace("{" + key + "}", value)
    full = str((request.context or {}).get("path") or "").rstrip("/")
    resource = resource.rstrip("/")
    if resource and full.endswith(resource):
        prefix = full[: len(full) - len(resource)]
        if _SAFE_BASE.match(prefix):
            return prefix
    return ""


def redirect(location: str) -> Response:
    return Response(body="", status_code=303, headers={"Location": location, "Cache-Control": "no-store"})


def session_principal(request: Request) -> Principal | None:
    """Who the request's session cookie belongs to, or ``None`` when it has no live session."""
    c = bootstrap.container()
    token = session_cookie({k.lower(): v for k, v in request.headers.items()}, c.settings)
    if not token:
        return None
    try:
        return c.sessions.verify(token)
    except Unauthenticated:
        return None


# -- documents -------------------------------------------------------------------------------------
TOWN_PRODUCT = "女川 地域ポイント"
CONSOLE_NAME = "地域ポイントコンソール"


@dataclasses.dataclass(frozen=True)
class PageDef:
    slug: str
    title: str
    template: str
    in_menu: bool = True
    scripts: tuple[str, ...] = ()  # loaded before the area's own script
    staff_roles: tuple[str, ...] | None = None  # console: which staff see it (None: everyone); the API decides


@dataclasses.dataclass(frozen=True)
class Area:
    key: str  # "console" | "pay" | "admin"
    path: str  # "/console"
    product: str  # shown in the header and the <title>
    script: str  # the area's asset
    pages: tuple[PageDef, ...]
    login_role: str | None  # the session role its pages need; None: no session cookie (pay)
    default: str

    def page(self, slug: str) -> PageDef | None:
        return next((p for p in self.pages if p.slug == slug), None)


CONSOLE = Area(
    key="console", path="/console", product=CONSOLE_NAME, script="console.js", login_role="merchant",
    default="history",
    pages=(
        PageDef("history", "取引履歴", "console_history.html"),
        PageDef("transactions", "取引情報", "console_transactions.html", staff_roles=("owner", "manager")),
        PageDef("register", "レジ画面", "console_register.html"),
        PageDef("payouts", "振込履歴", "console_payouts.html", staff_roles=("owner", "manager")),
        PageDef("staff", "スタッフ", "console_staff.html", staff_roles=("owner",)),
        PageDef("audit", "操作履歴", "audit.html", staff_roles=("owner",)),
        PageDef("contact", "お問い合わせ", "console_contact.html"),
        PageDef("login", "ログイン", "login.html", in_menu=False),
        PageDef("password", "パスワード変更", "password.html", in_menu=False, scripts=("password.js",)),
    ),
)
PAY = Area(
    key="pay", path="/pay", product="お支払い", script="pay.js", login_role=None, default="home",
    pages=(
        PageDef("home", "お支払い", "pay_home.html", scripts=("jsqr.js", "resident.js")),
        PageDef("balance", "残高と利用履歴", "pay_balance.html", scripts=("resident.js",)),
    ),
)
ADMIN = Area(
    key="admin", path="/admin", product="商工会 管理画面", script="admin.js", login_role="operator",
    default="merchants",
    pages=(
        PageDef("merchants", "事業者", "admin_merchants.html"),
        PageDef("periods", "精算・振込", "admin_periods.html"),
        PageDef("claims", "受取コード", "admin_claims.html"),
        PageDef("audit", "操作履歴", "audit.html"),
        PageDef("login", "ログイン", "login.html", in_menu=False),
        PageDef("password", "パスワード変更", "password.html", in_menu=False, scripts=("password.js",)),
    ),
)
AREAS = {a.key: a for a in (CONSOLE, PAY, ADMIN)}


@functools.cache
def _template(name: str) -> string.Template:
    return string.Template((TEMPLATE_DIR / name).read_text(encoding="utf-8"))


def _allowed(page: PageDef, staff_role: str | None) -> bool:
    return page.staff_roles is None or staff_role is None or staff_role in page.staff_roles


def _landing(area: Area, staff_role: str | None) -> str:
    """Where a console person starts: a clerk at the register view, everyone else at the history."""
    return "register" if area.key == "console" and staff_role == "clerk" else area.default


def _menu(area: Area, current: str, base: str, staff_role: str | None = None) -> str:
    items = []
    for p in area.pages:
        if not p.in_menu or not _allowed(p, staff_role):
            continue
        current_attr = ' aria-current="page"' if p.slug == current else ""
        href = escape(f"{base}{area.path}/{p.slug}")
        items.append(f'<li><a href="{href}"{current_attr}>{escape(p.title)}</a></li>')
    return "\n".join(items)


def _document(area: Area, page: PageDef, base: str, data: dict[str, str], staff_role: str | None = None) -> str:
    e = escape
    attrs = {"data-base": base, "data-area": area.key, "data-page": page.slug, **data}
    html_attrs = " ".join(f'{k}="{e(v)}"' for k, v in attrs.items())
    content = _template(page.template).substitute(base=e(base), area=e(area.path), title=e(page.title))
    is_login = page.slug == "login"
    if area.key == "pay":
        header_extra = (f'<a class="header-link" href="{e(base)}/pay/balance">残高・履歴</a>'
                        if page.slug != "balance" else
                        f'<a class="header-link" href="{e(base)}/pay/home">支払う</a>')
        nav = ""
    elif is_login:
        header_extra = ""
        nav = ""
    else:
        header_extra = ('<p class="who"><span class="who-name" id="who-name"></span>'
                        '<button type="button" class="link-button" id="logout">ログアウト</button></p>')
        nav = (f'<nav class="sidemenu" aria-label="メニュー"><ul>\n{_menu(area, page.slug, base, staff_role)}\n'
               '</ul></nav>')
    scripts = "\n".join(f'<script src="{e(assets.url(base, name))}" defer></script>'
                        for name in ("common.js", *page.scripts, area.script))
    layout = "layout-login" if is_login else ("layout-pay" if area.key == "pay" else "layout-menu")
    return f"""<!DOCTYPE html>
<html lang="ja" {html_attrs}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(page.title)} | {e(area.product if area.product != page.title else TOWN_PRODUCT)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{e(assets.url(base, "style.css"))}">
{scripts}
</head>
<body class="area-{e(area.key)} {layout}">
<a class="skip-link" href="#main">本文へ移動</a>
<header class="topbar">
<p class="brand"><span class="brand-town">女川</span> 地域ポイント
<span class="brand-product">{e(area.product)}</span></p>
{header_extra}
</header>
<div class="frame">
{nav}
<main id="main" tabindex="-1">
<noscript><p class="message error">この画面を使うには JavaScript を有効にしてください。</p></noscript>
{content}
</main>
</div>
</body>
</html>
"""


@functools.cache
def _letter_style_source() -> str:
    """The CSP source allowing the printable letter's inline stylesheet (by its SHA-256)."""
    from chalicelib.merchants.qr_images import qr_letter_html  # QR image libraries only when needed

    html = qr_letter_html(payload="0", name_ja="-", name_en="-", merchant_id="-", login_id="-",
                          initial_password=None, console_url="-", contact_phone="-", contact_name="-",
                          contact_hours="-", contact_address="-")
    sources = []
    for css in re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
        sources.append(f"'sha256-{digest}'")
    return " ".join(sources)


def error_page(status: int, base: str) -> Response:
    title, text = {
        404: ("ページが見つかりません", "お探しのページは見つかりませんでした。アドレスをご確認ください。"),
    }.get(status, ("エラーが発生しました", "時間をおいてもう一度お試しください。"))
    body = f"""<!DOCTYPE html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="{escape(assets.url(base, "style.css"))}"></head>
<body class="layout-login"><main id="main" class="card narrow"><h1>{escape(title)}</h1><p>{escape(text)}</p>
<p><a href="{escape(base)}/">トップページへ</a></p>
</main></body></html>
"""
    return Response(body=body, status_code=status, headers=page_headers(csp=content_security_policy()))


_KEPT = {"from": _MINUTE, "to": _MINUTE, "status": re.compile(r"^(completed|cancelled)$")}


def _kept_query(request: Request) -> str:
    """The range and filter of a console page, carried through its login (nothing else is)."""
    params: dict[str, Any] = dict(request.query_params or {})
    kept = [(k, str(params[k])) for k, pattern in _KEPT.items() if pattern.match(str(params.get(k, "")))]
    return "".join(f"&{k}={quote(v)}" for k, v in kept)


def landing(request: Request) -> Response:
    """``/``: what this site is, and the way to each of its three parts."""
    base = escape(base_path(request))
    sites = (
        ("/pay/", "お支払い", "利用者の方: お店のQRコードを読み取って、ポイントで支払います。"
                             "残高と利用履歴も見られます。"),
        ("/console/", CONSOLE_NAME, "事業者の方: 売上をリアルタイムで確かめ、レジ画面・取引履歴・振込履歴・"
                                    "お問い合わせ先を見られます。"),
        ("/admin/", "商工会 管理画面", "商工会の方: 事業者の登録、QRコードの案内状、精算と振込を行います。"),
    )
    items = "\n".join(f'<li class="site"><a href="{base}{path}">{escape(name)}</a><p>{escape(text)}</p></li>'
                      for path, name, text in sites)
    body = f"""<!DOCTYPE html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(TOWN_PRODUCT)}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="{escape(assets.url(base_path(request), "style.css"))}"></head>
<body class="layout-login">
<header class="topbar"><p class="brand"><span class="brand-town">女川</span> 地域ポイント</p></header>
<main id="main" class="card landing"><h1>女川町の地域ポイント</h1>
<p>女川町内のお店で使えるポイントです(1ポイント=1円)。ご利用になる画面を選んでください。</p>
<ul class="sites">
{items}
</ul>
</main></body></html>
"""
    return Response(body=body, status_code=200, headers=page_headers(csp=content_security_policy()))


def render(request: Request, area_key: str, slug: str | None) -> Response:
    """The page ``slug`` of an area (its default page when ``None``), or a redirect to its login."""
    area = AREAS[area_key]
    base = base_path(request)
    page = area.page(slug or area.default)
    if page is None:
        return error_page(404, base)
    staff_role: str | None = None
    if area.login_role and page.slug != "login":
        principal = session_principal(request)
        if principal is None or principal.role != area.login_role:
            return redirect(f"{base}{area.path}/login?next={quote(page.slug)}{_kept_query(request)}")
        staff_role = principal.staff_role
        if not slug and _landing(area, staff_role) != page.slug:
            return redirect(f"{base}{area.path}/{_landing(area, staff_role)}")
        if principal.must_change_password and page.slug != "password":
            # an initial or reset password: nothing else until it is changed
            return redirect(f"{base}{area.path}/password?next={quote(page.slug)}")
        if not _allowed(page, staff_role):
            # the menu does not offer it and the API refuses what it would ask: start where they may
            return redirect(f"{base}{area.path}/{_landing(area, staff_role)}")
    data: dict[str, str] = {}
    if staff_role:
        data["data-staff-role"] = staff_role
    extra_style = ""
    if area.key == "pay":
        settings = bootstrap.container().settings
        data["data-dev-login"] = "1" if settings.is_local and settings.dev_issuer_enabled else "0"
        data["data-resident-login"] = "1" if settings.cognito_enabled else "0"
        data["data-max-points"] = str(settings.max_payment_points)
    if area.key == "admin":
        extra_style = _letter_style_source()
    if page.slug == "login":
        data["data-login-role"] = area.login_role or ""
    html = _document(area, page, base, data, staff_role)
    return Response(body=html, status_code=200,
                    headers=page_headers(csp=content_security_policy(extra_style), camera=area.key == "pay"))


def asset(request: Request, name: str) -> Response:
    params: dict[str, Any] = dict(request.query_params or {})
    found = assets.response(name, params.get("v"))
    return found if found is not None else error_page(404, base_path(request))



def serve(request: Request, area_key: str, slug: str | None) -> Response:
    """A page, or the error page if rendering fails (pages never answer with a stack trace)."""
    try:
        if area_key == "assets":
            return asset(request, slug or "")
        if area_key == "landing":
            return landing(request)
        return render(request, area_key, slug)
    except Exception:
        logger.exception("page failed")
        return error_page(500, base_path(request))
