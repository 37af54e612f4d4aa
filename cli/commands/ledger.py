"""``ledger``: the conservation check over the whole store, as the API computes it."""

from __future__ import annotations

import click

from cli.client import ApiClient
from cli.context import OrderedGroup, pass_client
from cli.output import err, out, print_fields

REPORTED = ("granted", "wallet_balances", "sales_outstanding", "expired", "difference", "wallets", "payments")


@click.group(cls=OrderedGroup, help="台帳の検査 (ledger)")
def ledger() -> None:
    pass


@ledger.command("check", short_help="ポイントの保存則を検査 (check the conservation rule over the store)",
                help="ポイントの保存則を検査、成り立たなければ終了コード1 "
                     "(check the conservation rule over the store; exit 1 if it fails)")
@pass_client
def check(client: ApiClient) -> None:
    report = client.get_json("/v1/admin/ledger/check")
    print_fields([(key, report[key]) for key in REPORTED])
    for problem in report["problems"]:
        err(f"  問題 / problem: {problem}")
    if report["ok"]:
        out("保存則は成り立っています / the ledger balances")
        return
    err("保存則が成り立っていません / the ledger does NOT balance")
    click.get_current_context().exit(1)
