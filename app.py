"""The application: the API's blueprints, the web pages, the edge middleware and the schedules.

Routes live with their capability in ``chalicelib/http/routes/`` (each declared once, with its
role, bodies and errors); the pages in ``chalicelib/web``. Nothing here handles a request itself.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, Cron

from chalicelib.http import local_gateway
from chalicelib.http.edge import install_middleware
from chalicelib.http.routes import (
    audit,
    auth,
    claims,
    console,
    merchants,
    meta,
    payments,
    residents,
    settlement,
    staff,
)
from chalicelib.web import routes as web

app = Chalice(app_name="onagawa-points")
app.api.binary_types.append("image/png")
install_middleware(app)
local_gateway.install()

for routes in (auth.routes, residents.routes, merchants.routes, payments.routes, console.routes, settlement.routes,
               staff.routes, audit.routes, claims.routes, meta.routes):
    app.register_blueprint(routes.blueprint)
app.register_blueprint(web.routes)


@app.schedule(Cron(5, 15, "*", "*", "?", "*"), name="close_settlement_periods")
def close_settlement_periods(event: Any) -> None:
    """Every day at 00:05 JST (15:05 UTC): close every period whose end plus the grace has passed."""
    from chalicelib.http import jobs

    jobs.close_settlement_periods()


@app.schedule(Cron(30, 15, "*", "*", "?", "*"), name="run_ledger_check")
def run_ledger_check(event: Any) -> None:
    """Every day at 00:30 JST (15:30 UTC), after the close: the conservation check, its report kept."""
    from chalicelib.http import jobs

    jobs.run_ledger_check()
