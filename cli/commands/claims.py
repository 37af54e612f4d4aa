"""``claims``: claim-code (受取コード) batches: issue one, list them, save their CSV and letters.

A batch is idempotent on its id. Without ``--batch-id`` the CLI makes one up before sending, so a
timed-out request can be sent again with the id it printed and never issues a second batch.
"""

from __future__ import annotations

import secrets

import click

from cli.client import ApiClient, quote
from cli.context import OrderedGroup, pass_client
from cli.files import write_file
from cli.output import out, print_fields

BATCHES_PATH = "/v1/admin/claim-batches"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
batch_argument = click.argument("batch_id", metavar="BATCH_ID")


def new_batch_id() -> str:
    return "CB" + "".join(secrets.choice(CROCKFORD) for _ in range(10))


@click.group(cls=OrderedGroup, help="受取コード (claim codes)")
def claims() -> None:
    pass


@claims.command("create", help="受取コードを発行 (issue a batch of one-time claim codes)")
@click.option("--count", required=True, type=int, help="コードの数 (how many codes)")
@click.option("--points", required=True, type=int, help="1コードのポイント数 (points per code)")
@click.option("--expires-on", required=True, metavar="YYYY-MM-DD", help="有効期限の日 (last day, JST)")
@click.option("--batch-id", help="バッチID、再実行しても二重にならない (batch id; makes re-runs safe)")
@pass_client
def create(client: ApiClient, count: int, points: int, expires_on: str, batch_id: str | None) -> None:
    batch_id = batch_id or new_batch_id()
    out(f"発行中 / issuing batch {batch_id} …")
    reply = client.call("POST", BATCHES_PATH, {"batch_id": batch_id, "count": count, "points": points,
                                               "expires_on": expires_on})
    batch = reply.json()
    out("発行済みでした(変更なし)/ already issued, nothing changed" if reply.replayed
        else "受取コードを発行しました / claim codes issued")
    print_fields([("batch_id", batch["batch_id"]), ("count", f"{batch['count']:,}"),
                  ("points", f"{batch['points']:,}"), ("expires_on", batch["expires_on"])])


@claims.command("list", help="バッチの一覧 (list batches with claimed and unclaimed points)")
@pass_client
def list_batches(client: ApiClient) -> None:
    items = client.get_json(BATCHES_PATH)["items"]
    if not items:
        out("バッチはありません / no batches")
    for b in items:
        out(f"  {b['batch_id']:<20} {b['count']:>6,} 件 × {b['points']:>7,} pt  有効期限 {b['expires_on']}  "
            f"受取済み {b['claimed_count']:,} 件 {b['claimed_points']:,} pt  未受取 {b['unclaimed_points']:,} pt")


@claims.command("codes", help="受取コードのCSVを保存 (save the batch's codes as CSV)")
@batch_argument
@click.option("--out", "out_path", metavar="FILE", help="保存先 (output file; default 受取コード_BATCH_ID.csv)")
@pass_client
def codes(client: ApiClient, batch_id: str, out_path: str | None) -> None:
    data = client.download_link(f"{BATCHES_PATH}/{quote(batch_id)}/codes")
    write_file(out_path or f"受取コード_{batch_id}.csv", data, "CSV")


@claims.command("letters", help="印刷用の案内状(HTML)を保存 (save printable letters, one page per code)")
@batch_argument
@click.option("--out", "out_path", metavar="FILE", help="保存先 (output file; default 受取コード_BATCH_ID.html)")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="最初のコードの番号-1 (first code, 0-based)")
@click.option("--limit", type=click.IntRange(1, 200), default=200, show_default=True,
              help="1ファイルの枚数 (letters in the file, at most 200)")
@pass_client
def letters(client: ApiClient, batch_id: str, out_path: str | None, offset: int, limit: int) -> None:
    data = client.download(f"{BATCHES_PATH}/{quote(batch_id)}/letters?offset={offset}&limit={limit}",
                           accept="text/html", expect_type="text/html")
    write_file(out_path or f"受取コード_{batch_id}.html", data, "案内状")
