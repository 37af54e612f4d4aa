"""Images and the printable letter for a merchant's static QR code (SPEC §3).

Invariants:

- Images come from the ``qrcode`` package with error correction level M and the standard
  4-module quiet zone; PNG uses its pure-Python PyPNG factory so Pillow is never needed at run time.
- The payload is encoded as given (UTF-8 in byte mode; no ECI header, which ``qrcode`` cannot write).
- The letter is one self-contained HTML page: every value is HTML-escaped, the QR is an inline
  ``data:`` PNG, and a Content-Security-Policy forbids loading anything from the network.
"""

from __future__ import annotations

import base64
import io
from html import escape

import qrcode
import qrcode.constants
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathFillImage

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE_MODULES = 4

# Shown instead of the initial password when a letter is reprinted and the password is not at hand.
REISSUE_NOTE = "(再発行時にお知らせします)"


def _qr(payload: str, *, box_size: int, border: int) -> qrcode.QRCode:
    if not payload:
        raise ValueError("QR payload must not be empty")
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=box_size, border=border)
    code.add_data(payload)
    code.make(fit=True)
    return code


def qr_png(payload: str, box_size: int = 10, border: int = QUIET_ZONE_MODULES) -> bytes:
    """A 1-bit greyscale PNG of ``payload``; ``box_size`` pixels per module."""
    image = _qr(payload, box_size=box_size, border=border).make_image(image_factory=PyPNGImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_svg(payload: str) -> bytes:
    """A standalone SVG document (UTF-8, one path on a white background) of ``payload``."""
    image = _qr(payload, box_size=10, border=QUIET_ZONE_MODULES).make_image(image_factory=SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_png_data_uri(payload: str) -> str:
    """``data:image/png;base64,…`` for embedding the QR where no external file may be referenced."""
    return "data:image/png;base64," + base64.b64encode(qr_png(payload)).decode("ascii")


_LETTER_CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
html { font-family: "Hiragino Kaku Gothic ProN", "Hiragino Sans", "Yu Gothic", "Meiryo",
  "Noto Sans CJK JP", sans-serif; color: #000; background: #fff; }
body { margin: 0 auto; max-width: 186mm; font-size: 10.5pt; line-height: 1.55; }
h1 { font-size: 14pt; margin: 0 0 2mm; }
h2 { font-size: 11.5pt; margin: 4mm 0 1.5mm; border-bottom: 0.3mm solid #000; }
.poster { text-align: center; padding: 4mm 0 5mm; page-break-inside: avoid; break-inside: avoid; }
.poster .lead { font-size: 15pt; font-weight: bold; margin: 0 0 2mm; }
.poster .shop { font-size: 20pt; font-weight: bold; margin: 2mm 0 0; word-break: break-all; }
.poster .shop-en { font-size: 11pt; margin: 0; }
.poster .qr { width: 78mm; height: 78mm; image-rendering: pixelated; display: block; margin: 0 auto; }
.poster .mid { font-size: 9pt; margin: 1mm 0 0; }
.cut { border-top: 0.4mm dashed #000; text-align: center; font-size: 8pt; margin: 2mm 0 3mm; }
.cut span { position: relative; top: -0.8em; background: #fff; padding: 0 2mm; }
table.login { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm; }
table.login th, table.login td { border: 0.3mm solid #000; padding: 1.5mm 2.5mm; text-align: left; }
table.login th { width: 38mm; background: #eee; font-weight: normal; }
.secret { font-family: "Consolas", "Menlo", "Osaka-Mono", monospace; font-size: 13pt; letter-spacing: 0.08em; }
ol, ul { margin: 1mm 0; padding-left: 6mm; }
.note { font-size: 9.5pt; }
@media screen { body { padding: 10mm; } }
"""

# Nothing may be fetched: images are data: URIs and styles are inline.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def qr_letter_html(
    *,
    payload: str,
    name_ja: str,
    name_en: str,
    merchant_id: str,
    login_id: str,
    initial_password: str | None,
    console_url: str,
    contact_phone: str,
    contact_name: str,
    contact_hours: str,
    contact_address: str,
    store_id: str | None = None,
) -> str:
    """A print-ready A4 page: the QR to post at the till above a cut line, login details below it.

    ``store_id``: the letter of a shop added to the merchant, whose QR names that shop; its people sign
    in with their own staff logins, so the page carries no login ID or password."""
    e = escape
    password = e(initial_password) if initial_password is not None else e(REISSUE_NOTE)
    password_class = "secret" if initial_password is not None else ""
    shop_line = f'<p class="mid">店舗ID: {e(store_id)}</p>\n' if store_id else ""
    if store_id:
        login = f"""<h2>地域ポイントコンソール</h2>
<p>この店舗の売上は、事業者のコンソール({e(console_url)})で店舗を選んで確認できます。
店舗の方のログインは、事業者のオーナーがコンソールの「スタッフ」で担当店舗を選んで発行します。</p>
"""
    else:
        login = f"""<h2>地域ポイントコンソールへのログイン</h2>
<table class="login">
<tr><th>コンソールのアドレス</th><td>{e(console_url)}</td></tr>
<tr><th>ログインID</th><td class="secret">{e(login_id)}</td></tr>
<tr><th>初期パスワード</th><td class="{password_class}">{password}</td></tr>
</table>
<ul>
<li>上のアドレスをパソコンやスマートフォンのブラウザに入力し、ログインIDと初期パスワードでログインしてください。</li>
<li>初めてログインしたら、すぐにパスワードを変更してください。</li>
<li>この下半分はログイン情報が書かれた大切な書類です。掲示せず、他の人の目に触れない場所に保管してください。</li>
</ul>
"""
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{e(_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>QRコードとログイン情報のお知らせ - {e(name_ja)}</title>
<style>{_LETTER_CSS}</style>
</head>
<body>
<section class="poster">
<p class="lead">地域ポイントが使えます</p>
<img class="qr" src="{qr_png_data_uri(payload)}" alt="{e(name_ja)} のお支払い用QRコード">
<p class="shop">{e(name_ja)}</p>
<p class="shop-en">{e(name_en)}</p>
<p class="mid">事業者ID: {e(merchant_id)}</p>
{shop_line}</section>

<div class="cut"><span>きりとり線(上の部分をレジ付近に掲示してください)</span></div>

<h1>QRコードとログイン情報のお知らせ</h1>
<p>{e(name_ja)} 様</p>
<p>地域ポイント決済の取扱事業者としてご登録いただき、ありがとうございます。
上のQRコードは貴店専用です。お客さまから見やすく、読み取りやすい場所に掲示してください。</p>

<h2>お客さまのお支払いの流れ</h2>
<ol>
<li>お客さまがスマートフォンでこのQRコードを読み取ります。</li>
<li>お客さまがお支払いのポイント数を入力します(1ポイント=1円)。</li>
<li>お客さまが確認画面をお店の方に見せます。<strong>店名とポイント数が正しいか</strong>ご確認ください。</li>
<li>お客さまが「支払う」を押し、「支払い完了」と時刻・決済IDが表示されたらお支払い完了です。</li>
</ol>
<p class="note">売上は地域ポイントコンソールにすぐ表示されます(レジ画面ではお支払いごとにチャイムが鳴ります)。
お客さまの画面だけでなく、<strong>コンソールに新しいお支払いとその金額が出たこと</strong>をご確認ください。
誤ったお支払いはコンソールから取消できます。</p>

{login}
<h2>お問い合わせ</h2>
<p class="contact">{e(contact_name)} 電話 {e(contact_phone)}<br>
{e(contact_hours)}<br>
{e(contact_address)}</p>
</body>
</html>
"""
