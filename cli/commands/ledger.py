"""``ledger``: the conservation check over the whole store: the last nightly report, or a run now."""

from __future__ import annotations

import click

from cli.client import ApiClient
from cli.context import OrderedGroup, pass_client
from cli.output import err, out, print_fields

REPORTED = ("checked_at", "granted", "wallet_balances", "sales_outstanding", "expired", "difference", "wallets")


@click.group(cls=OrderedGroup, help="台帳の検査 (ledger)")
def ledger() -> None:
    pass


@ledger.command("check", short_help="ポイントの保存則の検査結果 (the conservation check's last report)",
                help="毎晩の検査の最新結果を表示、--now で今すぐ検査。成り立たなければ終了コード1 "
                     "(show the nightly check's last report, or run it now with --now; exit 1 if it fails)")
@click.option("--now", "run_now", is_flag=True, help="今すぐ検査する (run the check now; reads every wallet)")
@pass_client
def check(client: ApiClient, run_now: bool) -> None:
    report = client.post_json("/v1/admin/ledger/check") if run_now else client.get_json("/v1/admin/ledger/check")
    print_fields([(key, report[key]) for key in REPORTED])
    for batch in report.get("claim_batches", []):
        out(f"  受取コード {batch['batch_id']}: 発行 {batch['issued']:,} / 受取済み {batch['claimed']:,} / "
            f"未受取 {batch['unclaimed']:,} pt (issued / claimed / unclaimed)")
    for problem in report["problems"]:
        err(f"  問題 / problem: {problem}")
    if report["ok"]:
        out("保存則は成り立っています / the ledger balances")
        return
    err("保存則が成り立っていません / the ledger does NOT balance")
    click.get_current_context().exit(1)
