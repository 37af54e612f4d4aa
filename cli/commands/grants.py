"""``grants``: grant points to one consumer, or to many from a CSV file, each grant exactly once.

A bulk file is checked row by row by :func:`chalicelib.payments.grants.parse_bulk_csv` before
anything is sent; each good row goes out with the grant id derived from its content, so the API
replays (``Idempotent-Replayed: true``) every row a previous run already granted.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from chalicelib.core.clock import SystemClock, jst_date
from chalicelib.payments.commands import GrantRequest
from chalicelib.payments.grants import RowError, parse_bulk_csv
from cli.client import ApiClient, ApiError, CliError
from cli.context import OrderedGroup, pass_client
from cli.files import read_csv_text
from cli.output import err, out, print_fields

GRANTS_PATH = "/v1/admin/grants"


@click.group(cls=OrderedGroup, help="ポイントの付与 (grants)")
def grants() -> None:
    pass


@grants.command("add", help="利用者に1件付与 (grant points to one consumer)")
@click.option("--consumer-id", required=True, help="利用者ID (consumer id)")
@click.option("--points", required=True, type=int, help="ポイント数 (points, integer)")
@click.option("--expires-on", required=True, metavar="YYYY-MM-DD", help="有効期限の日 (last day of validity, JST)")
@click.option("--grant-id", help="付与ID、再実行しても二重にならない (grant id; makes re-runs safe)")
@pass_client
def add(client: ApiClient, consumer_id: str, points: int, expires_on: str, grant_id: str | None) -> None:
    body: dict[str, Any] = {"consumer_id": consumer_id, "points": points, "expires_on": expires_on}
    if grant_id:
        body["grant_id"] = grant_id
    reply = client.call("POST", GRANTS_PATH, body)
    grant = reply.json()
    if reply.replayed:
        out("この付与は登録済みです(変更なし)/ already granted, nothing changed")
    else:
        out("ポイントを付与しました / points granted")
    print_fields([("grant_id", grant["grant_id"]), ("consumer_id", grant["consumer_id"]),
                  ("points", f"{grant['points']:,}"), ("expires_on", grant["expires_on"])])


@dataclasses.dataclass
class BulkSummary:
    granted: int = 0
    already: int = 0
    errors: int = 0
    points_granted: int = 0

    def line(self) -> str:
        return (f"付与 {self.granted} 件 / 付与済み {self.already} 件 / エラー {self.errors} 件 "
                f"(granted {self.granted}, already granted {self.already}, errors {self.errors}; "
                f"{self.points_granted:,} pt granted now)")


def grant_rows(client: ApiClient, rows: Sequence[tuple[int, GrantRequest]], summary: BulkSummary) -> None:
    """POST each row's grant; a row the API refuses is reported and the rest go on.

    Refused rows are printed after the progress bar, which would otherwise overwrite them.
    """
    refused: list[str] = []
    try:
        with click.progressbar(length=len(rows), label="付与 / granting", file=sys.stderr, show_pos=True,
                               show_percent=True) as bar:
            for line, cmd in rows:
                try:
                    reply = client.call("POST", GRANTS_PATH, {
                        "grant_id": cmd.grant_id, "consumer_id": cmd.consumer_id, "points": cmd.points,
                        "expires_on": cmd.expires_on.isoformat(),
                    })
                except ApiError as exc:
                    if exc.status not in (400, 409):  # not about this row: auth, server, gateway
                        raise
                    summary.errors += 1
                    refused.append(f"行 {line} / line {line}: {exc}")
                else:
                    if reply.replayed:
                        summary.already += 1
                    else:
                        summary.granted += 1
                        summary.points_granted += cmd.points
                bar.update(1)
    finally:
        for message in refused:
            err(message)


@grants.command("bulk", short_help="CSVで一括付与 (bulk grant from a CSV file)",
                help="CSVで一括付与 (bulk grant from a CSV file).\n\n"
                     "CSV: consumer_id,points,expires_on[,grant_id] (見出し行あり / with a header). "
                     "UTF-8 か Shift_JIS (UTF-8 or Shift_JIS). "
                     "同じファイルを再実行しても二重には付与されません (re-running grants nothing twice).")
@click.argument("file", metavar="FILE.csv", type=click.Path(path_type=Path))
@click.option("--batch", default="",
              help="配布名。同じ内容の行を別の配布として付与するときに指定 "
                   "(distribution name; rows identical to an earlier file are granted again only with a new one)")
@pass_client
def bulk(client: ApiClient, file: Path, batch: str) -> None:
    text = read_csv_text(file)
    today = jst_date(SystemClock().now())
    summary = BulkSummary()
    good: list[tuple[int, GrantRequest]] = []
    for line, item in parse_bulk_csv(text, today=today, batch=batch):
        if isinstance(item, RowError):
            summary.errors += 1
            err(f"行 {line} / line {line}: {item.message}")
        else:
            good.append((line, item))
    if summary.errors:
        err(f"{summary.errors} 行に誤りがあります。これらの行は付与しません / "
            f"{summary.errors} bad row(s) will not be granted")
    try:
        if good:
            grant_rows(client, good, summary)
    except CliError:
        out(summary.line())
        err("途中で止まりました。同じファイルを再実行しても二重には付与されません / stopped part way; "
            "running the same file again grants nothing twice")
        raise
    out(summary.line())
    if summary.already:
        out("付与済みの行は今回は付与していません。別の配布として付与するには --batch に配布名を指定してください / "
            "rows granted before were skipped; to grant them as a new distribution, pass --batch NAME")
    if summary.errors:
        click.get_current_context().exit(1)
