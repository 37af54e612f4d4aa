"""``stores``: a merchant's shops (店舗): add one, list them, their QR codes and letters, suspend and
reactivate an added one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from cli.client import ApiClient, CliError, quote
from cli.context import OrderedGroup, pass_client
from cli.files import write_file
from cli.output import out, print_fields

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@click.group(cls=OrderedGroup, help="事業者の店舗 (stores: the shops of a merchant)")
def stores() -> None:
    pass


merchant_id_argument = click.argument("merchant_id", metavar="MERCHANT_ID")
store_id_argument = click.argument("store_id", metavar="STORE_ID")


def _base(merchant_id: str, store_id: str | None = None) -> str:
    path = f"/v1/admin/merchants/{quote(merchant_id)}/stores"
    return f"{path}/{quote(store_id)}" if store_id is not None else path


def _print_store(s: Mapping[str, Any]) -> None:
    print_fields([("store_id", s["store_id"]), ("merchant_id", s["merchant_id"]), ("name_ja", s["name_ja"]),
                  ("name_en", s["name_en"]), ("status", s["status"]), ("qr_payload", s["qr_payload"])])


@stores.command("add", help="店舗を追加 (add a shop to a merchant)")
@merchant_id_argument
@click.option("--name-ja", required=True, help="店舗名(日本語、25文字以内)(shop name in Japanese)")
@click.option("--name-en", required=True, help="店舗名(英字、25文字以内)(shop name in ASCII, for the QR)")
@click.option("--mcc", help="業種コード4桁、省略時は事業者と同じ (merchant category code, default the merchant's)")
@click.option("--letter", metavar="OUT.html", help="印刷用の案内状を保存 (save the printable letter)")
@click.option("--qr", metavar="OUT.png", help="QRコードPNGを保存 (save the QR code as PNG)")
@pass_client
def add(client: ApiClient, merchant_id: str, *, name_ja: str, name_en: str, mcc: str | None, letter: str | None,
        qr: str | None) -> None:
    body: dict[str, Any] = {"name_ja": name_ja, "name_en": name_en}
    if mcc is not None:
        body["mcc"] = mcc
    store = client.post_json(_base(merchant_id), body)
    out("店舗を追加しました / shop added")
    _print_store(store)
    if letter:
        save_letter(client, merchant_id, store["store_id"], letter)
    if qr:
        save_png(client, merchant_id, store["store_id"], qr)


@stores.command("list", help="事業者の店舗一覧 (list a merchant's shops; the default shop first)")
@merchant_id_argument
@pass_client
def list_stores(client: ApiClient, merchant_id: str) -> None:
    page = client.get_json(_base(merchant_id))
    out(f"{'store_id':<12} {'status':<10} {'default':<8} {'name_en':<26} name_ja")
    for s in page["items"]:
        out(f"{s['store_id']:<12} {s['status']:<10} {'yes' if s['is_default'] else '':<8} {s['name_en']:<26} "
            f"{s['name_ja']}")
    out(f"{len(page['items'])} 店舗 / shops")


def save_png(client: ApiClient, merchant_id: str, store_id: str, path: str) -> None:
    data = client.download(f"{_base(merchant_id, store_id)}/qr.png", accept="image/png", expect_type="image/png")
    if not data.startswith(PNG_SIGNATURE):
        raise CliError("PNG画像を受け取れませんでした / the API did not send PNG bytes")
    write_file(path, data, "QRコード(PNG)")


def save_svg(client: ApiClient, merchant_id: str, store_id: str, path: str) -> None:
    data = client.download(f"{_base(merchant_id, store_id)}/qr.svg", accept="image/svg+xml",
                           expect_type="image/svg+xml")
    write_file(path, data, "QRコード(SVG)")


def save_letter(client: ApiClient, merchant_id: str, store_id: str, path: str) -> None:
    data = client.download(f"{_base(merchant_id, store_id)}/letter", accept="text/html", expect_type="text/html")
    write_file(path, data, "案内状")


@stores.command("qr", short_help="店舗のQRコード画像を保存 (save a shop's QR code image)",
                help="店舗のQRコード画像を保存、--png か --svg のどちらか (save a shop's QR code: --png or --svg)")
@merchant_id_argument
@store_id_argument
@click.option("--png", metavar="OUT.png", help="PNGで保存 (save as PNG)")
@click.option("--svg", metavar="OUT.svg", help="SVGで保存 (save as SVG)")
@pass_client
def qr(client: ApiClient, merchant_id: str, store_id: str, png: str | None, svg: str | None) -> None:
    if (png is None) == (svg is None):
        raise click.UsageError("--png か --svg のどちらか一つを指定してください / give exactly one of --png and --svg",
                               ctx=click.get_current_context())
    if png:
        save_png(client, merchant_id, store_id, png)
    if svg:
        save_svg(client, merchant_id, store_id, svg)


@stores.command("letter", short_help="店舗の案内状を保存 (save a shop's printable letter)",
                help="店舗の印刷用案内状を保存 (save a shop's printable letter). OUT.html は保存先 (output file)")
@merchant_id_argument
@store_id_argument
@click.argument("out_path", metavar="OUT.html")
@pass_client
def letter(client: ApiClient, merchant_id: str, store_id: str, out_path: str) -> None:
    save_letter(client, merchant_id, store_id, out_path)


@stores.command("suspend", help="店舗の利用停止 (suspend an added shop)")
@merchant_id_argument
@store_id_argument
@pass_client
def suspend(client: ApiClient, merchant_id: str, store_id: str) -> None:
    _print_store(client.post_json(f"{_base(merchant_id, store_id)}/suspend"))
    out("店舗の利用を停止しました / shop suspended")


@stores.command("reactivate", help="店舗の利用再開 (reactivate an added shop)")
@merchant_id_argument
@store_id_argument
@pass_client
def reactivate(client: ApiClient, merchant_id: str, store_id: str) -> None:
    _print_store(client.post_json(f"{_base(merchant_id, store_id)}/reactivate"))
    out("店舗の利用を再開しました / shop reactivated")
