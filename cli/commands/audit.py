"""``audit``: the audit log of every merchant and of the chamber (read only: entries cannot be changed)."""

from __future__ import annotations

import urllib.parse

import click

from cli.client import ApiClient
from cli.context import OrderedGroup, pass_client
from cli.files import write_file
from cli.output import out


@click.group(cls=OrderedGroup, help="操作履歴 (audit log)")
def audit() -> None:
    pass


@audit.command("list", help="操作履歴を新しい順に表示 (list the newest audit entries)")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True,
              help="表示する件数 (how many entries)")
@click.option("--merchant", "merchant_id", help="この事業者の記録だけ (only this merchant's entries)")
@pass_client
def list_audit(client: ApiClient, limit: int, merchant_id: str | None) -> None:
    cursor: str | None = None
    shown = 0
    header = False
    while shown < limit:
        query = urllib.parse.urlencode({"limit": min(200, limit), **({"cursor": cursor} if cursor else {})})
        page = client.get_json(f"/v1/admin/audit?{query}")
        if not header:  # printed once the API has answered, so a failure prints no table
            out(f"{'at':<29} {'action':<18} {'actor':<20} {'merchant':<12} {'ip':<16} target")
            header = True
        for item in page["items"]:
            if merchant_id and item.get("merchant_id") != merchant_id:
                continue
            out(f"{item['at']:<29} {item['action']:<18} {item['actor'][:20]:<20} {item.get('merchant_id') or '-':<12} "
                f"{item['ip'] or '-':<16} {item['target']}")
            shown += 1
            if shown >= limit:
                break
        cursor = page.get("next_cursor")
        if not cursor:
            break
    out(f"{shown} 件 / entries")


@audit.command("export", short_help="操作履歴CSVを保存 (save the audit log as CSV)",
               help="操作履歴(全事業者と商工会)をCSVで保存 (save the whole audit log as CSV). "
                    "OUT は保存先 (output file)")
@click.argument("out_path", metavar="OUT")
@pass_client
def export_audit(client: ApiClient, out_path: str) -> None:
    write_file(out_path, client.download_link("/v1/admin/audit/exports", method="POST"), "操作履歴CSV")
