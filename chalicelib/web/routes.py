"""The routes of the HTML pages and their assets (not part of the JSON API, not in OpenAPI).

The page module loads on the first page request, so an API cold start does not pay for templates.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

routes = Blueprint(__name__)


def _serve(area: str, slug: str | None) -> Response:
    from chalicelib.web import pages

    return pages.serve(routes.current_request, area, slug)


@routes.route("/", methods=["GET"], name="web_landing")
def web_landing() -> Response:
    return _serve("landing", None)


@routes.route("/console", methods=["GET"], name="web_console_home")
def web_console_home() -> Response:
    return _serve("console", None)


@routes.route("/console/{page}", methods=["GET"], name="web_console_page")
def web_console_page(page: str) -> Response:
    return _serve("console", page)


@routes.route("/pay", methods=["GET"], name="web_pay_home")
def web_pay_home() -> Response:
    return _serve("pay", None)


@routes.route("/pay/{page}", methods=["GET"], name="web_pay_page")
def web_pay_page(page: str) -> Response:
    return _serve("pay", page)


@routes.route("/admin", methods=["GET"], name="web_admin_home")
def web_admin_home() -> Response:
    return _serve("admin", None)


@routes.route("/admin/{page}", methods=["GET"], name="web_admin_page")
def web_admin_page(page: str) -> Response:
    return _serve("admin", page)


@routes.route("/assets/{name}", methods=["GET"], name="web_asset")
def web_asset(name: str) -> Response:
    return _serve("assets", name)
