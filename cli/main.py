"""The root command group: global options, the API client, and the one place failures become exit codes.

Exit codes: 0 done; 1 an expected failure (:class:`~cli.client.CliError`: the API's message and
code, a bad file, no connection), a bulk file with bad rows, or a ledger that does not balance;
2 a usage error (click); 130 interrupted.
"""

from __future__ import annotations

from typing import Any

import click

from cli.client import DEFAULT_API, ENV_API, ENV_LOGIN_ID, ENV_PASSWORD, ApiClient, CliError, check_api_url
from cli.commands.audit import audit
from cli.commands.claims import claims
from cli.commands.grants import grants
from cli.commands.ledger import ledger
from cli.commands.merchants import merchants
from cli.commands.settlement import payouts, periods
from cli.commands.stores import stores
from cli.context import OrderedGroup, Session
from cli.output import err

PROG_NAME = "python -m cli"


class OperatorGroup(OrderedGroup):
    """Turns every expected failure below it into one printed line and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as exc:
            err(f"エラー / error: {exc}")
            ctx.exit(1)
        except KeyboardInterrupt:
            err("中断しました / interrupted")
            ctx.exit(130)


def _api_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_api_url(value)
    except CliError as exc:
        raise click.BadParameter(exc.message, ctx=ctx, param=param) from None


@click.group(
    cls=OperatorGroup,
    help=f"女川 地域ポイント 商工会CLI (operator CLI). パスワードは {ENV_PASSWORD} か入力で指定 "
         f"(password from {ENV_PASSWORD} or prompted).",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--api", envvar=ENV_API, default=DEFAULT_API, show_default=True, show_envvar=True, metavar="URL",
              callback=_api_url, help="APIのURL (API base URL)")
@click.option("--login-id", envvar=ENV_LOGIN_ID, show_envvar=True, metavar="ID",
              help="商工会のログインID (operator login id)")
@click.pass_context
def cli(ctx: click.Context, api: str, login_id: str | None) -> None:
    session = ctx.ensure_object(Session)
    session.client = ApiClient(api, login_id, session.password)


for group in (merchants, stores, grants, claims, ledger, periods, payouts, audit):
    cli.add_command(group)


def run() -> None:
    """The console entry point (``python -m cli``)."""
    cli.main(prog_name=PROG_NAME)
