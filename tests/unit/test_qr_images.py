"""QR images decode back to the payload; the printable letter is escaped and self-contained."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from chalicelib.merchants.qr import MerchantQR, encode_merchant_qr
from chalicelib.merchants.qr_images import (
    REISSUE_NOTE,
    qr_letter_html,
    qr_png,
    qr_svg,
)

PAYLOADS = {
    "ascii": encode_merchant_qr(MerchantQR("M7QK2D9XHT", "ONAGAWA SAKANA", "ONAGAWA SAKANA")),
    "japanese": encode_merchant_qr(MerchantQR("M7QK2D9XHT", "ONAGAWA SAKANA", "女川さかな店")),
    "one kanji": encode_merchant_qr(MerchantQR("M1", "UO", "魚")),
    "half-width kana": encode_merchant_qr(MerchantQR("M2", "CAFE", "ｶﾌｪ ｵﾅｶﾞﾜ")),
    "outside the BMP": encode_merchant_qr(MerchantQR("M3", "YOSHINOYA", "𠮷野家 女川店")),
    "longest names": encode_merchant_qr(
        MerchantQR("M" * 32, "X" * 25, "女川町中心部商店街テナント棟1階東側鮮魚海産物店舗", city="C" * 15)
    ),
}


def read_one(image: Image.Image) -> zxingcpp.Barcode:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, results
    return results[0]


# --- PNG --------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_png_decodes_to_exactly_the_payload(payload: str) -> None:
    result = read_one(Image.open(io.BytesIO(qr_png(payload))))

    assert result.format == zxingcpp.BarcodeFormat.QRCode
    # No ECI header is written; zxing-cpp guesses UTF-8 from the bytes, and the raw bytes agree.
    assert result.text == payload
    assert result.bytes.decode("utf-8") == payload
    assert result.ec_level == "M"


@pytest.mark.parametrize(("box_size", "border"), [(10, 4), (4, 4), (20, 6)])
def test_png_size_follows_box_size_and_keeps_a_white_quiet_zone(box_size: int, border: int) -> None:
    payload = PAYLOADS["japanese"]

    image = Image.open(io.BytesIO(qr_png(payload, box_size=box_size, border=border))).convert("L")

    assert image.width == image.height
    assert image.width % box_size == 0
    modules = image.width // box_size - 2 * border
    assert (modules - 17) % 4 == 0  # a QR symbol is 17 + 4·version modules wide
    quiet = border * box_size
    assert image.crop((0, 0, image.width, quiet)).getextrema() == (255, 255)
    assert image.crop((0, 0, quiet, image.height)).getextrema() == (255, 255)
    # The finder pattern's top-left module is dark.
    assert image.getpixel((quiet, quiet)) == 0
    assert read_one(image).text == payload


def test_png_refuses_an_empty_payload() -> None:
    with pytest.raises(ValueError):
        qr_png("")


# --- SVG --------------------------------------------------------------------------------------

_SQUARE = re.compile(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H([\d.]+)z")


def rasterise(svg: bytes, scale: int = 8) -> Image.Image:
    """Draw the SVG's path of module squares (the shape qrcode's SvgPathImage writes)."""
    root = ET.fromstring(svg)
    _, _, width, height = (float(v) for v in root.attrib["viewBox"].split())
    image = Image.new("L", (int(width * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    squares = _SQUARE.findall(path.attrib["d"])
    assert squares, "unexpected path syntax from qrcode's SVG factory"
    for x1, y1, x2, y2, _ in squares:
        draw.rectangle((float(x1) * scale, float(y1) * scale, float(x2) * scale - 1, float(y2) * scale - 1), fill=0)
    return image


@pytest.mark.parametrize("payload", [PAYLOADS["ascii"], PAYLOADS["japanese"]], ids=["ascii", "japanese"])
def test_svg_is_well_formed_and_encodes_the_payload(payload: str) -> None:
    svg = qr_svg(payload)

    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.attrib["width"].endswith("mm")
    assert read_one(rasterise(svg)).text == payload


def test_svg_has_a_white_background_for_dark_mode_screens() -> None:
    root = ET.fromstring(qr_svg(PAYLOADS["ascii"]))

    rect = root.find("{http://www.w3.org/2000/svg}rect")
    assert rect is not None
    assert rect.attrib["fill"] == "white"


# --- letter -----------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value) for name, value in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def letter(**overrides: str | None) -> str:
    values: dict[str, str | None] = {
        "payload": PAYLOADS["japanese"],
        "name_ja": "女川さかな店",
        "name_en": "ONAGAWA SAKANA",
        "merchant_id": "M7QK2D9XHT",
        "login_id": "onagawa-sakana",
        "initial_password": "k7m2pq9xr3tw",
        "console_url": "https://console.example.jp/merchant",
        "contact_phone": "0225-00-0000",
        "contact_name": "女川町商工会",
        "contact_hours": "受付時間 平日 9:00〜17:00",
        "contact_address": "〒986-2265 宮城県牡鹿郡女川町女川二丁目65番地2",
    }
    values.update(overrides)
    return qr_letter_html(**values)  # type: ignore[arg-type]


def parsed(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def test_letter_shows_the_shop_and_login_details() -> None:
    html = letter()
    text = "".join(parsed(html).text)

    for expected in ("女川さかな店", "ONAGAWA SAKANA", "M7QK2D9XHT", "onagawa-sakana", "k7m2pq9xr3tw", "0225-00-0000",
                     "女川町商工会", "受付時間 平日 9:00〜17:00", "宮城県牡鹿郡女川町女川二丁目65番地2"):
        assert expected in text
    assert "https://console.example.jp/merchant" in text
    assert REISSUE_NOTE not in text
    assert "支払い完了" in text
    assert "パスワードを変更" in text
    assert "保管" in text


def test_letter_without_password_says_it_will_be_sent_on_reissue() -> None:
    text = "".join(parsed(letter(initial_password=None)).text)

    assert "(再発行時にお知らせします)" in text
    assert "k7m2pq9xr3tw" not in text


def test_letter_is_an_a4_print_page_in_japanese() -> None:
    html = letter()

    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="ja">' in html
    assert re.search(r"@page\s*\{[^}]*size:\s*A4", html)


def test_letter_qr_decodes_to_the_payload() -> None:
    html = letter()

    images = [value for tag, name, value in parsed(html).attrs if tag == "img" and name == "src"]
    assert len(images) == 1
    assert images[0] is not None and images[0].startswith("data:image/png;base64,")
    png = base64.b64decode(images[0].removeprefix("data:image/png;base64,"), validate=True)
    assert read_one(Image.open(io.BytesIO(png))).text == PAYLOADS["japanese"]


HOSTILE = "<script>alert(1)</script>\"'&"


@pytest.mark.parametrize(
    "field", ["name_ja", "name_en", "merchant_id", "login_id", "initial_password", "console_url", "contact_phone",
              "contact_name", "contact_hours", "contact_address"]
)
def test_letter_escapes_every_value(field: str) -> None:
    html = letter(**{field: HOSTILE})

    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    document = parsed(html)
    assert "script" not in document.tags
    # Escaped, it comes back as the very same text when parsed.
    assert HOSTILE in "".join(document.text) or any(value and HOSTILE in value for _, _, value in document.attrs)


def test_letter_escapes_quotes_inside_attributes() -> None:
    html = letter(name_ja='" onerror="alert(1)')

    assert not any(name == "onerror" for _, name, _ in parsed(html).attrs)


def test_letter_loads_nothing_from_the_network() -> None:
    console_url = "https://console.example.jp/merchant"
    html = letter(console_url=console_url)
    document = parsed(html)

    assert not {"script", "link", "iframe", "object", "embed", "base"} & set(document.tags)
    for tag, name, value in document.attrs:
        if name in {"src", "href", "srcset", "poster", "data", "action"}:
            assert value is not None and value.startswith("data:"), (tag, name, value)
    assert "url(" not in html
    assert "@import" not in html
    # The console address is shown as text, and it is the only URL on the page.
    assert re.findall(r"https?://", html) == ["https://"]
    assert html.count(console_url) == 1
    csp = [value for tag, name, value in document.attrs if tag == "meta" and value and "default-src" in value]
    assert csp == ["default-src 'none'; img-src data:; style-src 'unsafe-inline'"]
