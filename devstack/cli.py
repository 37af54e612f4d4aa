"""商工会CLI (operator CLI): every operator task over the HTTP API, local stack or deployed stage.

    .venv/bin/python -m devstack.cli [--api URL] [--login-id ID] <group> <command> ...

Invariants:

- It speaks only the public HTTP API (``/v1/admin/...``), so it works the same against
  ``make run`` and a deployed stage, and every rule (validation, idempotency, roles) is the server's.
- The password never appears on the command line (it would show in ``ps`` and shell history): it
  comes from ``ONAGAWA_PASSWORD`` or is asked for with ``getpass``.
- Expected failures (API errors, bad files, no connection) print the API's Japanese message and
  code and exit 1, never a stack trace. Exit 2 is a usage error (argparse).
- ``grants bulk`` sends each good row with the grant id derived from the row
  (:func:`chalicelib.payments.grants.parse_bulk_csv`), so running the same file again grants nothing
  twice: the API answers a known grant id with ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from email.message import Message
from pathlib import Path
from typing import Any, TextIO, TypeAlias

from chalicelib.core.clock import SystemClock, jst_date
from chalicelib.payments.grants import GrantCommand, RowError, parse_bulk_csv

ENV_API = "ONAGAWA_API"
ENV_LOGIN_ID = "ONAGAWA_LOGIN_ID"
ENV_PASSWORD = "ONAGAWA_PASSWORD"
DEFAULT_API = "http://127.0.0.1:8000"
TIMEOUT_S = 30.0
REPLAYED_HEADER = "Idempotent-Replayed"

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


# -- errors ----------------------------------------------------------------------------------------
class CliError(Exception):
    """An expected failure: printed as one message, exit code 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(CliError):
    """The API answered with an error body (SPEC §9) or an unexpected status."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param

    def __str__(self) -> str:
        where = f", param={self.param}" if self.param else ""
        return f"{self.message} ({self.code}, HTTP {self.status}{where})"


def api_error_from(status: int, body: bytes) -> ApiError:
    try:
        error = json.loads(body.decode("utf-8"))["error"]
        return ApiError(status, str(error["code"]), str(error["message"]), error.get("param"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        snippet = body[:200].decode("utf-8", "replace").strip()
        return ApiError(status, "http_error", f"APIがエラーを返しました / the API answered HTTP {status}: {snippet}")


# -- HTTP ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise CliError(
                f"APIの応答がJSONではありません / the API did not answer JSON (HTTP {self.status})") from None

    @property
    def replayed(self) -> bool:
        return (self.headers.get(REPLAYED_HEADER) or "").lower() == "true"

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


class ApiClient:
    """A small JSON client for the operator API; logs in on first use and again if the session expired."""

    def __init__(self, base_url: str, login_id: str | None, password: Callable[[], str],
                 timeout_s: float = TIMEOUT_S) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise CliError(
                f"--api は http(s):// で始まるURLにしてください / --api must be an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.login_id = login_id
        self._password_source = password
        self._password: str | None = None
        self._token: str | None = None
        self.timeout_s = timeout_s

    # -- raw ----------------------------------------------------------------------------------
    def send(self, method: str, path: str, body: Any = None, *, accept: str = "application/json",
             token: str | None = None) -> Reply:
        headers = {"Accept": accept, "User-Agent": "onagawa-points-cli"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.headers, exc.read())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(f"APIに接続できません / cannot reach the API at {self.base_url}: {reason}") from None

    # -- authenticated ------------------------------------------------------------------------
    def login(self) -> str:
        if not self.login_id:
            raise CliError(f"ログインIDを --login-id か {ENV_LOGIN_ID} で指定してください / "
                           f"give the login id with --login-id or {ENV_LOGIN_ID}")
        if self._password is None:
            self._password = self._password_source()
        reply = self.send("POST", "/v1/auth/login", {"login_id": self.login_id, "password": self._password})
        if reply.status != 200:
            raise api_error_from(reply.status, reply.body)
        body = reply.json()
        if body.get("role") != "operator":
            raise CliError(f"{self.login_id} は商工会(operator)のアカウントではありません / "
                           f"{self.login_id} is not an operator account (role {body.get('role')!r})")
        self._token = str(body["token"])
        return self._token

    def call(self, method: str, path: str, body: Any = None, *, accept: str = "application/json",
             ok: Sequence[int] = (200, 201)) -> Reply:
        """An operator request; a 401 (expired session) logs in again and retries once.

        Retrying is safe: a 401 is answered before the route does anything.
        """
        fresh = self._token is None
        token = self._token or self.login()
        reply = self.send(method, path, body, accept=accept, token=token)
        if reply.status == 401 and not fresh:
            reply = self.send(method, path, body, accept=accept, token=self.login())
        if reply.status not in ok:
            raise api_error_from(reply.status, reply.body)
        return reply

    def get_json(self, path: str) -> Any:
        return self.call("GET", path).json()

    def post_json(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body).json()


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


# -- output ----------------------------------------------------------------------------------------
def out(text: str = "") -> None:
    print(text, flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def print_fields(fields: Sequence[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        out(f"  {key.ljust(width)}  {value}")


def write_file(path: str, data: bytes, what: str) -> None:
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        raise CliError(f"{what}を保存できません / cannot write {path}: {exc.strerror or exc}") from None
    out(f"{what}を保存しました / saved {path} ({len(data):,} bytes)")


def download(client: ApiClient, path: str, accept: str, expect_type: str) -> bytes:
    reply = client.call("GET", path, accept=accept, ok=(200,))
    if reply.content_type != expect_type:
        raise CliError(f"想定外の応答です / expected {expect_type}, the API sent {reply.content_type or 'nothing'}")
    return reply.body


def save_png(client: ApiClient, merchant_id: str, path: str) -> None:
    data = download(client, f"/v1/admin/merchants/{quote(merchant_id)}/qr.png", "image/png", "image/png")
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise CliError("PNG画像を受け取れませんでした / the API did not send PNG bytes")
    write_file(path, data, "QRコード(PNG)")


def save_svg(client: ApiClient, merchant_id: str, path: str) -> None:
    data = download(client, f"/v1/admin/merchants/{quote(merchant_id)}/qr.svg", "image/svg+xml", "image/svg+xml")
    write_file(path, data, "QRコード(SVG)")


def save_letter(client: ApiClient, merchant_id: str, path: str, password: str | None = None) -> None:
    """The printable letter; with ``password`` (just issued) it is printed on the letter."""
    url = f"/v1/admin/merchants/{quote(merchant_id)}/letter"
    if password is None:
        data = download(client, url, "text/html", "text/html")
    else:
        data = client.call("POST", url, {"initial_password": password}, accept="text/html", ok=(200,)).body
    write_file(path, data, "案内状")


# -- merchants -------------------------------------------------------------------------------------
def cmd_merchants_register(args: argparse.Namespace, client: ApiClient) -> int:
    body: dict[str, Any] = {
        "name_ja": args.name_ja,
        "name_en": args.name_en,
        "bank": {
            "bank_code": args.bank_code,
            "branch_code": args.branch_code,
            "account_type": args.account_type,
            "account_number": args.account_number,
            "holder_kana": args.holder_kana,
        },
    }
    if args.mcc is not None:
        body["mcc"] = args.mcc
    reg = client.post_json("/v1/admin/merchants", body)
    out("店舗を登録しました / merchant registered")
    print_fields([
        ("merchant_id", reg["merchant_id"]),
        ("login_id", reg["login_id"]),
        ("initial_password", reg["initial_password"]),
        ("qr_payload", reg["qr_payload"]),
    ])
    out("初期パスワードはこの画面にしか表示されません / the initial password is shown only here")
    if args.letter:
        save_letter(client, reg["merchant_id"], args.letter, reg["initial_password"])
    if args.qr:
        save_png(client, reg["merchant_id"], args.qr)
    return 0


def cmd_merchants_list(args: argparse.Namespace, client: ApiClient) -> int:
    cursor: str | None = None
    count = 0
    while True:
        query = urllib.parse.urlencode({"limit": 100, **({"cursor": cursor} if cursor else {})})
        page = client.get_json(f"/v1/admin/merchants?{query}")
        if count == 0:
            out(f"{'merchant_id':<12} {'status':<10} {'login_id':<16} {'name_en':<26} name_ja")
        for m in page["items"]:
            out(f"{m['merchant_id']:<12} {m['status']:<10} {m['login_id']:<16} {m['name_en']:<26} {m['name_ja']}")
            count += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break
    out(f"{count} 店舗 / merchants")
    return 0


def _print_merchant(m: Mapping[str, Any]) -> None:
    print_fields([("merchant_id", m["merchant_id"]), ("name_ja", m["name_ja"]), ("name_en", m["name_en"]),
                  ("status", m["status"]), ("login_id", m["login_id"])])


def cmd_merchants_suspend(args: argparse.Namespace, client: ApiClient) -> int:
    merchant = client.post_json(f"/v1/admin/merchants/{quote(args.merchant_id)}/suspend")
    out("利用を停止しました / merchant suspended")
    _print_merchant(merchant)
    return 0


def cmd_merchants_reactivate(args: argparse.Namespace, client: ApiClient) -> int:
    merchant = client.post_json(f"/v1/admin/merchants/{quote(args.merchant_id)}/reactivate")
    out("利用を再開しました / merchant reactivated")
    _print_merchant(merchant)
    return 0


def cmd_merchants_reset_password(args: argparse.Namespace, client: ApiClient) -> int:
    reply = client.post_json(f"/v1/admin/merchants/{quote(args.merchant_id)}/reset-password")
    out("パスワードを再発行しました / password reset")
    print_fields([("merchant_id", reply["merchant_id"]), ("login_id", reply["login_id"]),
                  ("initial_password", reply["initial_password"])])
    return 0


def cmd_merchants_qr(args: argparse.Namespace, client: ApiClient) -> int:
    if args.png:
        save_png(client, args.merchant_id, args.png)
    if args.svg:
        save_svg(client, args.merchant_id, args.svg)
    return 0


def cmd_merchants_letter(args: argparse.Namespace, client: ApiClient) -> int:
    save_letter(client, args.merchant_id, args.out)
    return 0


def add_merchant_commands(sub: Subparsers) -> None:
    p = sub.add_parser("register", help="店舗を登録 (register a merchant)")
    p.add_argument("--name-ja", required=True, help="店舗名(日本語、25文字以内)(shop name in Japanese)")
    p.add_argument("--name-en", required=True, help="店舗名(英字、25文字以内)(shop name in ASCII, for the QR)")
    p.add_argument("--mcc", help="業種コード4桁、省略時 5999 (merchant category code, default 5999)")
    p.add_argument("--bank-code", required=True, help="金融機関コード4桁 (bank code)")
    p.add_argument("--branch-code", required=True, help="支店コード3桁 (branch code)")
    p.add_argument("--account-type", required=True, type=int, choices=(1, 2, 4),
                   help="預金種目 1=普通 2=当座 4=貯蓄 (account type)")
    p.add_argument("--account-number", required=True, help="口座番号7桁 (account number)")
    p.add_argument("--holder-kana", required=True, help="口座名義(カナ)(account holder in kana)")
    p.add_argument("--letter", metavar="OUT.html", help="印刷用の案内状を保存 (save the printable letter)")
    p.add_argument("--qr", metavar="OUT.png", help="QRコードPNGを保存 (save the QR code as PNG)")
    p.set_defaults(handler=cmd_merchants_register)

    p = sub.add_parser("list", help="店舗一覧 (list merchants)")
    p.set_defaults(handler=cmd_merchants_list)

    for name, handler, text in (
        ("suspend", cmd_merchants_suspend, "利用停止 (suspend a merchant)"),
        ("reactivate", cmd_merchants_reactivate, "利用再開 (reactivate a merchant)"),
        ("reset-password", cmd_merchants_reset_password, "ログインのパスワード再発行 (reset the console password)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("merchant_id", metavar="ID", help="店舗ID (merchant id)")
        p.set_defaults(handler=handler)

    p = sub.add_parser("qr", help="QRコード画像を保存 (save the QR code image)")
    p.add_argument("merchant_id", metavar="ID", help="店舗ID (merchant id)")
    fmt = p.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--png", metavar="OUT.png", help="PNGで保存 (save as PNG)")
    fmt.add_argument("--svg", metavar="OUT.svg", help="SVGで保存 (save as SVG)")
    p.set_defaults(handler=cmd_merchants_qr)

    p = sub.add_parser("letter", help="印刷用の案内状を保存 (save the printable letter)")
    p.add_argument("merchant_id", metavar="ID", help="店舗ID (merchant id)")
    p.add_argument("out", metavar="OUT.html", help="保存先 (output file)")
    p.set_defaults(handler=cmd_merchants_letter)


# -- grants ----------------------------------------------------------------------------------------
def cmd_grants_add(args: argparse.Namespace, client: ApiClient) -> int:
    body: dict[str, Any] = {"consumer_id": args.consumer_id, "points": args.points, "expires_on": args.expires_on}
    if args.grant_id:
        body["grant_id"] = args.grant_id
    reply = client.call("POST", "/v1/admin/grants", body)
    grant = reply.json()
    if reply.replayed:
        out("この付与は登録済みです(変更なし)/ already granted, nothing changed")
    else:
        out("ポイントを付与しました / points granted")
    print_fields([("grant_id", grant["grant_id"]), ("consumer_id", grant["consumer_id"]),
                  ("points", f"{grant['points']:,}"), ("expires_on", grant["expires_on"])])
    return 0


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


def read_csv_text(path: str) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"ファイルを読めません / cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Excel's "CSV" in Japanese Windows is Shift_JIS (cp932); "CSV UTF-8" is the other choice.
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        raise CliError(
            f"{path} を UTF-8 でも Shift_JIS でも読めません / {path} is neither UTF-8 nor Shift_JIS") from None
    err(f"注意: {path} を Shift_JIS として読みました / note: read {path} as Shift_JIS (cp932)")
    return text


def grant_rows(client: ApiClient, rows: Sequence[tuple[int, GrantCommand]], summary: BulkSummary,
               *, stream: TextIO | None = None) -> None:
    """POST each row's grant; a row the API refuses is reported and the rest go on."""
    from tqdm import tqdm

    with tqdm(total=len(rows), unit="件", desc="付与 / granting", file=stream or sys.stderr,
              dynamic_ncols=True) as bar:
        for line, cmd in rows:
            try:
                reply = client.call("POST", "/v1/admin/grants", {
                    "grant_id": cmd.grant_id, "consumer_id": cmd.consumer_id, "points": cmd.points,
                    "expires_on": cmd.expires_on.isoformat(),
                })
            except ApiError as exc:
                if exc.status not in (400, 409):  # not about this row: auth, server, gateway
                    raise
                summary.errors += 1
                bar.write(f"行 {line} / line {line}: {exc}", file=sys.stderr)
            else:
                if reply.replayed:
                    summary.already += 1
                else:
                    summary.granted += 1
                    summary.points_granted += cmd.points
            bar.update(1)


def cmd_grants_bulk(args: argparse.Namespace, client: ApiClient) -> int:
    text = read_csv_text(args.file)
    today = jst_date(SystemClock().now())
    summary = BulkSummary()
    good: list[tuple[int, GrantCommand]] = []
    for line, item in parse_bulk_csv(text, today=today, batch=args.batch):
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
    return 1 if summary.errors else 0


def add_grant_commands(sub: Subparsers) -> None:
    p = sub.add_parser("add", help="利用者に1件付与 (grant points to one consumer)")
    p.add_argument("--consumer-id", required=True, help="利用者ID (consumer id)")
    p.add_argument("--points", required=True, type=int, help="ポイント数 (points, integer)")
    p.add_argument("--expires-on", required=True, metavar="YYYY-MM-DD", help="有効期限の日 (last day of validity, JST)")
    p.add_argument("--grant-id", help="付与ID、再実行しても二重にならない (grant id; makes re-runs safe)")
    p.set_defaults(handler=cmd_grants_add)

    p = sub.add_parser("bulk", help="CSVで一括付与 (bulk grant from a CSV file)",
                       description="CSV: consumer_id,points,expires_on[,grant_id] (見出し行あり / with a header). "
                                   "同じファイルを再実行しても二重には付与されません "
                                   "(re-running grants nothing twice).")
    p.add_argument("file", metavar="FILE.csv", help="付与するCSV (the CSV file)")
    p.add_argument("--batch", default="",
                   help="配布名。同じ内容の行を別の配布として付与するときに指定 "
                        "(distribution name; rows identical to an earlier file are granted again only with a new one)")
    p.set_defaults(handler=cmd_grants_bulk)


# -- ledger, periods, payouts ----------------------------------------------------------------------
def cmd_ledger_check(args: argparse.Namespace, client: ApiClient) -> int:
    report = client.get_json("/v1/admin/ledger/check")
    print_fields([(k, report[k]) for k in ("granted", "wallet_balances", "sales_outstanding", "expired",
                                           "difference", "wallets", "payments")])
    for problem in report["problems"]:
        err(f"  問題 / problem: {problem}")
    if report["ok"]:
        out("保存則は成り立っています / the ledger balances")
        return 0
    err("保存則が成り立っていません / the ledger does NOT balance")
    return 1


def cmd_periods_list(args: argparse.Namespace, client: ApiClient) -> int:
    for p in client.get_json("/v1/admin/periods")["items"]:
        out(f"  {p['period_id']:<10} {p['state']:<8} 振込予定日 {p['transfer_date']}  "
            f"{p['payouts_count']:>5} 件  {p['payouts_total']:>12,} 円")
    return 0


def cmd_periods_close(args: argparse.Namespace, client: ApiClient) -> int:
    result = client.post_json(f"/v1/admin/periods/{quote(args.period_id)}/close", {})
    out("締め済みでした(変更なし)/ already closed" if result["already_closed"] else "締めました / period closed")
    print_fields([("period_id", result["period_id"]), ("payouts", result["payouts_count"]),
                  ("total", f"{result['payouts_total']:,}")])
    return 0


def _fetch_link(client: ApiClient, path: str, target: str) -> None:
    link = client.get_json(path)
    try:
        with urllib.request.urlopen(link["url"], timeout=client.timeout_s) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise CliError(f"ダウンロードできません / download failed: {exc}") from None
    write_file(target, data, "ファイル")


def cmd_periods_report(args: argparse.Namespace, client: ApiClient) -> int:
    _fetch_link(client, f"/v1/admin/periods/{quote(args.period_id)}/report", args.out)
    return 0


def cmd_periods_zengin(args: argparse.Namespace, client: ApiClient) -> int:
    _fetch_link(client, f"/v1/admin/periods/{quote(args.period_id)}/zengin", args.out)
    out("対象の振込は「振込手続中(exported)」になりました / the payouts in the file are now exported")
    return 0


def cmd_payouts_mark(args: argparse.Namespace, client: ApiClient) -> int:
    status = "paid" if args.command == "mark-paid" else "failed"
    payout = client.post_json(f"/v1/admin/periods/{quote(args.period_id)}/payouts/{quote(args.merchant_id)}/{status}")
    print_fields([("period_id", payout["period_id"]), ("merchant_id", payout["merchant_id"]),
                  ("amount", f"{payout['amount']:,}"), ("status", payout["status"])])
    return 0


def add_ledger_commands(sub: Subparsers) -> None:
    p = sub.add_parser("check", help="ポイントの保存則を検査 (check the conservation rule over the store)")
    p.set_defaults(handler=cmd_ledger_check)


def add_period_commands(sub: Subparsers) -> None:
    p = sub.add_parser("list", help="精算期間の一覧 (list periods and their state)")
    p.set_defaults(handler=cmd_periods_list)
    for name, handler, helptext in (("close", cmd_periods_close, "期限の来た期間を締める (close a due period now)"),
                                    ("report", cmd_periods_report, "精算報告CSVを保存 (save the payout report)"),
                                    ("zengin", cmd_periods_zengin, "全銀ファイルを保存 (save the Zengin file)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("period_id", metavar="PERIOD", help="例 2026-11-1")
        if name != "close":
            p.add_argument("out", metavar="OUT", help="保存先 (output file)")
        p.set_defaults(handler=handler)


def add_payout_commands(sub: Subparsers) -> None:
    for name, helptext in (("mark-paid", "振込済にする (mark paid)"),
                           ("mark-failed", "振込不能にする (mark failed; re-exported next time)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("period_id", metavar="PERIOD")
        p.add_argument("merchant_id", metavar="MERCHANT_ID")
        p.set_defaults(handler=cmd_payouts_mark)


# -- the command tree ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CommandGroup:
    help: str
    add_commands: Callable[[Subparsers], None]


# One entry per top-level word.
COMMAND_GROUPS: dict[str, CommandGroup] = {
    "merchants": CommandGroup("店舗の登録と管理 (merchants)", add_merchant_commands),
    "grants": CommandGroup("ポイントの付与 (grants)", add_grant_commands),
    "ledger": CommandGroup("台帳の検査 (ledger)", add_ledger_commands),
    "periods": CommandGroup("精算期間 (settlement periods)", add_period_commands),
    "payouts": CommandGroup("振込の状態 (payouts)", add_payout_commands),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.cli",
        description="女川 地域ポイント 商工会CLI (operator CLI). パスワードは "
                    f"{ENV_PASSWORD} か入力で指定 (password from {ENV_PASSWORD} or prompted).",
    )
    parser.add_argument("--api", default=os.environ.get(ENV_API) or DEFAULT_API,
                        help=f"APIのURL (API base URL; env {ENV_API}, default {DEFAULT_API})")
    parser.add_argument("--login-id", default=os.environ.get(ENV_LOGIN_ID),
                        help=f"商工会のログインID (operator login id; env {ENV_LOGIN_ID})")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    for name, group in COMMAND_GROUPS.items():
        group_parser = groups.add_parser(name, help=group.help, description=group.help)
        commands = group_parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
        group.add_commands(commands)
    return parser


def read_password() -> str:
    password = os.environ.get(ENV_PASSWORD)
    if password:
        return password
    if not sys.stdin.isatty():
        raise CliError(f"パスワードを {ENV_PASSWORD} で指定してください / set {ENV_PASSWORD} (no terminal to ask on)")
    return getpass.getpass("パスワード / password: ")


def main(argv: Sequence[str] | None = None, *, password: Callable[[], str] = read_password) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, ApiClient], int] = args.handler
    try:
        client = ApiClient(args.api, args.login_id, password)
        return handler(args, client)
    except CliError as exc:
        err(f"エラー / error: {exc}")
        return 1
    except KeyboardInterrupt:
        err("中断しました / interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
