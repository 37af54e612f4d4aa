"""Printable claim-code letters: A4 HTML, one page per code, in Japanese.

Each page carries the points, the expiry, the code in large type, short instructions, the consumer
contact and a QR code (SVG, inline: the page fetches nothing) that opens the pay pages with the code
filled in (``<base>/pay/?code=XXXX-XXXX-XXXX-XXXX``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from html import escape

from chalicelib.merchants.qr_images import qr_svg
from chalicelib.payments.claim_codes import display

_CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
html { font-family: "Hiragino Kaku Gothic ProN", "Hiragino Sans", "Yu Gothic", "Meiryo",
  "Noto Sans CJK JP", sans-serif; color: #000; background: #fff; }
body { margin: 0; font-size: 11pt; line-height: 1.6; }
.letter { page-break-after: always; break-after: page; max-width: 180mm; margin: 0 auto; }
.letter:last-child { page-break-after: auto; break-after: auto; }
h1 { font-size: 18pt; margin: 0 0 4mm; }
.points { font-size: 26pt; font-weight: bold; margin: 2mm 0; }
.expiry { font-size: 12pt; margin: 0 0 4mm; }
.code { font-family: "Consolas", "Menlo", "Osaka-Mono", monospace; font-size: 28pt; font-weight: bold;
  letter-spacing: 0.06em; border: 0.6mm solid #000; padding: 3mm 5mm; text-align: center; margin: 4mm 0; }
.qr { width: 50mm; height: 50mm; display: block; margin: 2mm auto; }
.qr svg { width: 100%; height: 100%; }
.url { font-size: 8.5pt; text-align: center; word-break: break-all; }
ol { padding-left: 6mm; }
.note { font-size: 9.5pt; }
.serial { font-size: 8pt; text-align: right; color: #333; }
@media screen { body { padding: 10mm; background: #eee; } .letter { background: #fff; padding: 10mm;
  margin-bottom: 10mm; } }
"""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _inline_svg(payload: str) -> str:
    text = qr_svg(payload).decode("utf-8")
    return text[text.index("<svg"):]  # drop the XML declaration: the SVG sits inside the HTML


def claim_url(base_url: str, code: str) -> str:
    return f"{base_url}/pay/?code={display(code)}"


def letters_html(*, batch_id: str, points: int, expires_on: dt.date, codes: Iterable[tuple[int, str]],
                 base_url: str, contact_name: str, contact_hours: str, contact_phone: str) -> str:
    e = escape
    expiry = f"{expires_on.year}年{expires_on.month}月{expires_on.day}日"
    pages = []
    for index, code in codes:
        url = claim_url(base_url, code)
        pages.append(f"""<section class="letter">
<h1>地域ポイント 受取コードのお知らせ</h1>
<p class="points">{points:,} ポイント</p>
<p class="expiry">有効期限: {e(expiry)} まで(受け取りもお支払いもこの日まで)</p>
<p>受取コード</p>
<p class="code" data-code="{e(display(code))}">{e(display(code))}</p>
<div class="qr" role="img" aria-label="受取コードを入力済みの受け取り画面を開くQRコード">{_inline_svg(url)}</div>
<p class="url">{e(url)}</p>
<h2>受け取り方</h2>
<ol>
<li>スマートフォンで上のQRコードを読み取ります(または {e(base_url)}/pay/ を開いて受取コードを入力します)。</li>
<li>地域ポイントのアカウントでログインします(はじめての方はその場で登録できます)。</li>
<li>「受け取る」を押すと、{points:,} ポイントが残高に加わります。</li>
</ol>
<p class="note">受取コードは1回だけ使えます。他の人に見せたり渡したりしないでください。
1ポイント=1円として、地域ポイントの使えるお店でお支払いに使えます。</p>
<p class="note">お問い合わせ: {e(contact_name)} 電話 {e(contact_phone)}({e(contact_hours)})</p>
<p class="serial">{e(batch_id)} No.{index + 1}</p>
</section>""")
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{e(_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>受取コードのお知らせ - {e(batch_id)}</title>
<style>{_CSS}</style>
</head>
<body>
{chr(10).join(pages)}
</body>
</html>
"""
