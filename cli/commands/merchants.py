"""``merchants``: register shops, list them, suspend and reactivate, reset passwords, QR codes and letters."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

import click

from cli.client import ApiClient, CliError, quote
from cli.context import OrderedGroup, pass_client
from cli.files import write_file
from cli.output import out, print_fields

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PAGE_SIZE = 100


@click.group(cls=OrderedGroup, help="店舗の登録と管理 (merchants)")
def merchants() -> None:
    pass


# -- files -----------------------------------------------------------------------------------------
def save_png(client: ApiClient, merchant_id: str, path: str) -> None:
    data = client.download(f"/v1/admin/merchants/{quote(merchant_id)}/qr.png", accept="image/png",
                           expect_type="image/png")
    if not data.startswith(PNG_SIGNATURE):
        raise CliError("PNG画像を受け取れませんでした / the API did not send PNG bytes")
    write_file(path, data, "QRコード(PNG)")


def save_svg(client: ApiClient, merchant_id: str, path: str) -> None:
    data = client.download(f"/v1/admin/merchants/{quote(merchant_id)}/qr.svg", accept="image/svg+xml",
                           expect_type="image/svg+xml")
    write_file(path, data, "QRコード(SVG)")


def save_letter(client: ApiClient, merchant_id: str, path: str, password: str | None = None) -> None:
    """The printable letter; with ``password`` (just issued) it is printed on the letter."""
    url = f"/v1/admin/merchants/{quote(merchant_id)}/letter"
    if password is None:
        data = client.download(url, accept="text/html", expect_type="text/html")
    else:
        data = client.call("POST", url, {"initial_password": password}, accept="text/html", ok=(200,)).body
    write_file(path, data, "案内状")


# -- commands --------------------------------------------------------------------------------------
@merchants.command("register", help="店舗を登録 (register a merchant)")
@click.option("--name-ja", required=True, help="店舗名(日本語、25文字以内)(shop name in Japanese)")
@click.option("--name-en", required=True, help="店舗名(英字、25文字以内)(shop name in ASCII, for the QR)")
@click.option("--mcc", help="業種コード4桁、省略時 5999 (merchant category code, default 5999)")
@click.option("--bank-code", required=True, help="金融機関コード4桁 (bank code)")
@click.option("--branch-code", required=True, help="支店コード3桁 (branch code)")
@click.option("--account-type", required=True, type=click.Choice([1, 2, 4]),
              help="預金種目 1=普通 2=当座 4=貯蓄 (account type)")
@click.option("--account-number", required=True, help="口座番号7桁 (account number)")
@click.option("--holder-kana", required=True, help="口座名義(カナ)(account holder in kana)")
@click.option("--letter", metavar="OUT.html", help="印刷用の案内状を保存 (save the printable letter)")
@click.option("--qr", metavar="OUT.png", help="QRコードPNGを保存 (save the QR code as PNG)")
@pass_client
def register(client: ApiClient, *, name_ja: str, name_en: str, mcc: str | None, bank_code: str, branch_code: str,
             account_type: int, account_number: str, holder_kana: str, letter: str | None, qr: str | None) -> None:
    body: dict[str, Any] = {
        "name_ja": name_ja,
        "name_en": name_en,
        "bank": {
            "bank_code": bank_code,
            "branch_code": branch_code,
            "account_type": account_type,
            "account_number": account_number,
            "holder_kana": holder_kana,
        },
    }
    if mcc is not None:
        body["mcc"] = mcc
    reg = client.post_json("/v1/admin/merchants", body)
    out("店舗を登録しました / merchant registered")
    print_fields([
        ("merchant_id", reg["merchant_id"]),
        ("login_id", reg["login_id"]),
        ("initial_password", reg["initial_password"]),
        ("qr_payload", reg["qr_payload"]),
    ])
    out("初期パスワードはこの画面にしか表示されません / the initial password is shown only here")
    if letter:
        save_letter(client, reg["merchant_id"], letter, reg["initial_password"])
    if qr:
        save_png(client, reg["merchant_id"], qr)


@merchants.command("list", help="店舗一覧 (list merchants)")
@pass_client
def list_merchants(client: ApiClient) -> None:
    cursor: str | None = None
    count = 0
    while True:
        query = urllib.parse.urlencode({"limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})})
        page = client.get_json(f"/v1/admin/merchants?{query}")
        if cursor is None:  # the header once the API has answered, so a failure prints no table
            out(f"{'merchant_id':<12} {'status':<10} {'login_id':<16} {'name_en':<26} name_ja")
        for m in page["items"]:
            out(f"{m['merchant_id']:<12} {m['status']:<10} {m['login_id']:<16} {m['name_en']:<26} {m['name_ja']}")
            count += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break
    out(f"{count} 店舗 / merchants")


def _print_merchant(m: Mapping[str, Any]) -> None:
    print_fields([("merchant_id", m["merchant_id"]), ("name_ja", m["name_ja"]), ("name_en", m["name_en"]),
                  ("status", m["status"]), ("login_id", m["login_id"])])


merchant_id_argument = click.argument("merchant_id", metavar="ID")


@merchants.command("suspend", short_help="利用停止 (suspend a merchant)",
                   help="利用停止 (suspend a merchant). ID は店舗ID (merchant id)")
@merchant_id_argument
@pass_client
def suspend(client: ApiClient, merchant_id: str) -> None:
    merchant = client.post_json(f"/v1/admin/merchants/{quote(merchant_id)}/suspend")
    out("利用を停止しました / merchant suspended")
    _print_merchant(merchant)


@merchants.command("reactivate", short_help="利用再開 (reactivate a merchant)",
                   help="利用再開 (reactivate a merchant). ID は店舗ID (merchant id)")
@merchant_id_argument
@pass_client
def reactivate(client: ApiClient, merchant_id: str) -> None:
    merchant = client.post_json(f"/v1/admin/merchants/{quote(merchant_id)}/reactivate")
    out("利用を再開しました / merchant reactivated")
    _print_merchant(merchant)


@merchants.command("reset-password", short_help="ログインのパスワード再発行 (reset the console password)",
                   help="ログインのパスワード再発行 (reset the console password). ID は店舗ID (merchant id)")
@merchant_id_argument
@pass_client
def reset_password(client: ApiClient, merchant_id: str) -> None:
    reply = client.post_json(f"/v1/admin/merchants/{quote(merchant_id)}/reset-password")
    out("パスワードを再発行しました / password reset")
    print_fields([("merchant_id", reply["merchant_id"]), ("login_id", reply["login_id"]),
                  ("initial_password", reply["initial_password"])])


@merchants.command("qr", short_help="QRコード画像を保存 (save the QR code image)",
                   help="QRコード画像を保存、--png か --svg のどちらか (save the QR code image: --png or --svg)")
@merchant_id_argument
@click.option("--png", metavar="OUT.png", help="PNGで保存 (save as PNG)")
@click.option("--svg", metavar="OUT.svg", help="SVGで保存 (save as SVG)")
@pass_client
def qr(client: ApiClient, merchant_id: str, png: str | None, svg: str | None) -> None:
    if (png is None) == (svg is None):
        raise click.UsageError("--png か --svg のどちらか一つを指定してください / give exactly one of --png and --svg",
                               ctx=click.get_current_context())
    if png:
        save_png(client, merchant_id, png)
    if svg:
        save_svg(client, merchant_id, svg)


@merchants.command("letter", short_help="印刷用の案内状を保存 (save the printable letter)",
                   help="印刷用の案内状を保存 (save the printable letter). OUT.html は保存先 (output file)")
@merchant_id_argument
@click.argument("out_path", metavar="OUT.html")
@pass_client
def letter(client: ApiClient, merchant_id: str, out_path: str) -> None:
    save_letter(client, merchant_id, out_path)
