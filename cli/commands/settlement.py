"""``periods`` and ``payouts``: settlement periods, their files, and the bank's answer per payout.

Closing is exactly-once on the server, so ``periods close`` may be re-run; it says when the period
was already closed.
"""

from __future__ import annotations

import click

from cli.client import ApiClient, quote
from cli.context import OrderedGroup, pass_client
from cli.files import write_file
from cli.output import out, print_fields

period_argument = click.argument("period_id", metavar="PERIOD")
out_argument = click.argument("out_path", metavar="OUT")
PERIOD_HELP = "PERIOD は期間ID、例 2026-11-1 (period id, e.g. 2026-11-1)"


def period_path(period_id: str) -> str:
    return f"/v1/admin/periods/{quote(period_id)}"


# -- periods ---------------------------------------------------------------------------------------
@click.group(cls=OrderedGroup, help="精算期間 (settlement periods)")
def periods() -> None:
    pass


@periods.command("list", help="精算期間の一覧 (list periods and their state)")
@pass_client
def list_periods(client: ApiClient) -> None:
    for p in client.get_json("/v1/admin/periods")["items"]:
        out(f"  {p['period_id']:<10} {p['state']:<8} 振込予定日 {p['transfer_date']}  "
            f"{p['payouts_count']:>5} 件  {p['payouts_total']:>12,} 円")


@periods.command("close", short_help="期限の来た期間を締める (close a due period now)",
                 help=f"期限の来た期間を締める (close a due period now). {PERIOD_HELP}")
@period_argument
@pass_client
def close(client: ApiClient, period_id: str) -> None:
    result = client.post_json(f"{period_path(period_id)}/close", {})
    out("締め済みでした(変更なし)/ already closed" if result["already_closed"] else "締めました / period closed")
    print_fields([("period_id", result["period_id"]), ("payouts", result["payouts_count"]),
                  ("total", f"{result['payouts_total']:,}")])


@periods.command("report", short_help="精算報告CSVを保存 (save the payout report)",
                 help=f"精算報告CSVを保存 (save the payout report). {PERIOD_HELP}; OUT は保存先 (output file)")
@period_argument
@out_argument
@pass_client
def report(client: ApiClient, period_id: str, out_path: str) -> None:
    write_file(out_path, client.download_link(f"{period_path(period_id)}/report"), "ファイル")


@periods.command("zengin", short_help="全銀ファイルを保存 (save the Zengin file)",
                 help=f"全銀ファイルを保存 (save the Zengin file). {PERIOD_HELP}; OUT は保存先 (output file)")
@period_argument
@out_argument
@pass_client
def zengin(client: ApiClient, period_id: str, out_path: str) -> None:
    write_file(out_path, client.download_link(f"{period_path(period_id)}/zengin"), "ファイル")
    out("対象の振込は「振込手続中(exported)」になりました / the payouts in the file are now exported")


# -- payouts ---------------------------------------------------------------------------------------
@click.group(cls=OrderedGroup, help="振込の状態 (payouts)")
def payouts() -> None:
    pass


def mark(client: ApiClient, period_id: str, merchant_id: str, status: str) -> None:
    payout = client.post_json(f"{period_path(period_id)}/payouts/{quote(merchant_id)}/{status}")
    print_fields([("period_id", payout["period_id"]), ("merchant_id", payout["merchant_id"]),
                  ("amount", f"{payout['amount']:,}"), ("status", payout["status"])])


@payouts.command("mark-paid", help="振込済にする (mark paid)")
@period_argument
@click.argument("merchant_id", metavar="MERCHANT_ID")
@pass_client
def mark_paid(client: ApiClient, period_id: str, merchant_id: str) -> None:
    mark(client, period_id, merchant_id, "paid")


@payouts.command("mark-failed", help="振込不能にする (mark failed; re-exported next time)")
@period_argument
@click.argument("merchant_id", metavar="MERCHANT_ID")
@pass_client
def mark_failed(client: ApiClient, period_id: str, merchant_id: str) -> None:
    mark(client, period_id, merchant_id, "failed")
