"""The static merchant QR payload (SPEC §3): EMVCo MPM TLV with our own scheme GUID.

Invariants:

- A payload is a sequence of ``ID LEN VALUE`` fields: ``ID`` and ``LEN`` are two ASCII digits,
  ``LEN`` is 01–99 and counts characters (Unicode code points), not UTF-8 bytes.
- ``00`` (= ``01``) is the first field and ``63`` (CRC, length ``04``) the last. The CRC is
  CRC-16/CCITT-FALSE over the UTF-8 bytes of everything before the CRC value, including the
  literal ``6304``, written as 4 upper-case hex digits.
- Our scheme is static only: ``01`` = ``11``; currency ``53`` = ``392`` (JPY); country
  ``58`` = ``JP``; template ``26`` carries the scheme GUID (``00``) and the merchant id (``01``).
- The encoder only produces payloads the decoder accepts: bad input is a ``ValueError`` at
  encode time (a programming or data-entry error), never a QR that cannot be paid with.
- The decoder accepts any ``str`` and raises nothing but :class:`InvalidQR`: a scanned code is
  untrusted input and must never become a 500.
- Whether the merchant exists and is active is not decided here; that is the payment service's
  job (``merchant_unavailable``).

Pure stdlib; no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import msgspec

from chalicelib.core.errors import InvalidQR

DEFAULT_GUID = "JP.ONAGAWA.CHIIKIPOINT"
DEFAULT_MCC = "5999"
DEFAULT_CITY = "ONAGAWA"

MAX_PAYLOAD_CHARS = 512
MAX_FIELD_CHARS = 99
NAME_MAX_CHARS = 25
CITY_MAX_CHARS = 15
GUID_MAX_CHARS = 32
MERCHANT_ID_MAX_CHARS = 32

PAYLOAD_FORMAT = "01"
STATIC_POINT_OF_INITIATION = "11"
CURRENCY_JPY = "392"
COUNTRY_JP = "JP"
LANGUAGE_JA = "JA"

# Field ids of the top level and of the templates we use.
ID_FORMAT = "00"
ID_INITIATION = "01"
ID_MERCHANT_ACCOUNT = "26"
ID_MCC = "52"
ID_CURRENCY = "53"
ID_COUNTRY = "58"
ID_NAME = "59"
ID_CITY = "60"
ID_CRC = "63"
ID_LANGUAGE_TEMPLATE = "64"
SUB_GUID = "00"
SUB_MERCHANT_ID = "01"
SUB_LANGUAGE = "00"
SUB_ALT_NAME = "01"

_CRC_PREFIX = ID_CRC + "04"
_CRC_VALUE = re.compile(r"[0-9A-F]{4}")
_MCC = re.compile(r"[0-9]{4}")
_MERCHANT_ID = re.compile(r"[0-9A-Za-z._-]+")
# Categories no shop name or payload may contain: controls, format characters (bidi overrides,
# zero-width joiners), surrogates, private use, unassigned, and line/paragraph separators.
# Ordinary spaces, including the ideographic space U+3000 common in Japanese names, are fine.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _crc_hex(text: str) -> str:
    return f"{crc16_ccitt_false(text.encode('utf-8')):04X}"


# --- generic TLV layer -------------------------------------------------------------------


def encode_tlv(fields: list[tuple[str, str]]) -> str:
    """Join ``(id, value)`` pairs as ``ID LEN VALUE``; LEN counts characters (1–99)."""
    parts: list[str] = []
    for field_id, value in fields:
        if len(field_id) != 2 or not _is_ascii_digits(field_id):
            raise ValueError(f"TLV id must be two digits, got {field_id!r}")
        if not 1 <= len(value) <= MAX_FIELD_CHARS:
            raise ValueError(f"TLV field {field_id} must be 1–{MAX_FIELD_CHARS} characters, got {len(value)}")
        parts.append(f"{field_id}{len(value):02d}{value}")
    return "".join(parts)


def parse_tlv(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into ``(id, value)`` pairs in order, or raise :class:`InvalidQR`.

    Rejects non-digit ids or lengths, a length of 00, a value running past the end, and an
    empty input. Duplicate ids are returned as they are; the caller decides what they mean.
    """
    if not isinstance(text, str) or not text:
        raise InvalidQR(param="qr", reason="empty_tlv")
    fields: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        header = text[pos : pos + 4]
        if len(header) < 4 or not _is_ascii_digits(header):
            raise InvalidQR(param="qr", reason="bad_tlv_header", offset=pos)
        length = int(header[2:])
        if length == 0:
            raise InvalidQR(param="qr", reason="empty_tlv_value", offset=pos)
        start = pos + 4
        end = start + length
        if end > len(text):
            raise InvalidQR(param="qr", reason="truncated_tlv_value", offset=pos)
        fields.append((header[:2], text[start:end]))
        pos = end
    return fields


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts "²" and "٣"; int() would then misread a length.
    return all("0" <= ch <= "9" for ch in text)


# --- names and other values ----------------------------------------------------------------


def _is_printable_ascii(text: str) -> bool:
    return all(" " <= ch <= "~" for ch in text)


def _has_forbidden_char(text: str) -> bool:
    return any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text)


def validate_name_en(value: str) -> str:
    """Field ``59``: 1–25 printable ASCII characters; surrounding spaces are dropped."""
    cleaned = value.strip()
    if not cleaned:
        raise ValueError("英字店名(name_en)を入力してください。")
    if not _is_printable_ascii(cleaned):
        raise ValueError("英字店名(name_en)は半角英数字と記号(ASCII)だけで入力してください。")
    if len(cleaned) > NAME_MAX_CHARS:
        raise ValueError(f"英字店名(name_en)は{NAME_MAX_CHARS}文字以内で入力してください(現在{len(cleaned)}文字)。")
    return cleaned


def validate_name_ja(value: str) -> str:
    """Template ``64``/``01``: 1–25 characters (code points, after NFC), no control characters.

    NFC keeps a name typed with combining dakuten the same length and bytes as the precomposed
    form; stronger (NFKC) folding would change how the shop writes its own name.
    """
    cleaned = unicodedata.normalize("NFC", value).strip()
    if not cleaned:
        raise ValueError("店名(name_ja)を入力してください。")
    if _has_forbidden_char(cleaned):
        raise ValueError("店名(name_ja)に制御文字など使えない文字が含まれています。")
    if len(cleaned) > NAME_MAX_CHARS:
        raise ValueError(f"店名(name_ja)は{NAME_MAX_CHARS}文字以内で入力してください(現在{len(cleaned)}文字)。")
    return cleaned


def validate_city(value: str) -> str:
    """Field ``60``: 1–15 printable ASCII characters."""
    cleaned = value.strip()
    if not cleaned or len(cleaned) > CITY_MAX_CHARS or not _is_printable_ascii(cleaned):
        raise ValueError(f"city must be 1–{CITY_MAX_CHARS} printable ASCII characters, got {value!r}")
    return cleaned


def validate_mcc(value: str) -> str:
    """Field ``52``: exactly four ASCII digits."""
    if not _MCC.fullmatch(value):
        raise ValueError(f"mcc must be 4 digits, got {value!r}")
    return value


def validate_merchant_id(value: str) -> str:
    """Template ``26``/``01``: 1–32 characters of ``A–Z a–z 0–9 . _ -``."""
    if not (1 <= len(value) <= MERCHANT_ID_MAX_CHARS and _MERCHANT_ID.fullmatch(value) and value.isascii()):
        raise ValueError(f"merchant_id must be 1–{MERCHANT_ID_MAX_CHARS} of [0-9A-Za-z._-], got {value!r}")
    return value


def _validate_guid(value: str) -> str:
    if not (1 <= len(value) <= GUID_MAX_CHARS and _is_printable_ascii(value) and " " not in value):
        raise ValueError(f"guid must be 1–{GUID_MAX_CHARS} printable ASCII characters without spaces, got {value!r}")
    return value


# --- merchant QR -----------------------------------------------------------------------------


class MerchantQR(msgspec.Struct, frozen=True):
    """What a merchant's static QR says. ``name_en``/``city`` are ASCII; ``name_ja`` is Japanese."""

    merchant_id: str
    name_en: str
    name_ja: str
    mcc: str = DEFAULT_MCC
    city: str = DEFAULT_CITY


def encode_merchant_qr(qr: MerchantQR, guid: str = DEFAULT_GUID) -> str:
    """The payload text to print as a QR code. Raises ``ValueError`` for values we cannot encode.

    Names are cleaned (stripped, ``name_ja`` NFC) first, so decoding gives the cleaned values.
    """
    account = encode_tlv([(SUB_GUID, _validate_guid(guid)), (SUB_MERCHANT_ID, validate_merchant_id(qr.merchant_id))])
    language = encode_tlv([(SUB_LANGUAGE, LANGUAGE_JA), (SUB_ALT_NAME, validate_name_ja(qr.name_ja))])
    body = encode_tlv(
        [
            (ID_FORMAT, PAYLOAD_FORMAT),
            (ID_INITIATION, STATIC_POINT_OF_INITIATION),
            (ID_MERCHANT_ACCOUNT, account),
            (ID_MCC, validate_mcc(qr.mcc)),
            (ID_CURRENCY, CURRENCY_JPY),
            (ID_COUNTRY, COUNTRY_JP),
            (ID_NAME, validate_name_en(qr.name_en)),
            (ID_CITY, validate_city(qr.city)),
            (ID_LANGUAGE_TEMPLATE, language),
        ]
    )
    signed = body + _CRC_PREFIX
    return signed + _crc_hex(signed)


def decode_merchant_qr(payload: str, guid: str = DEFAULT_GUID) -> MerchantQR:
    """Parse and verify a scanned payload; any problem is :class:`InvalidQR` (code ``invalid_qr``)."""
    if not isinstance(payload, str):
        raise InvalidQR(param="qr", reason="not_text")
    text = payload.strip()
    if not text:
        raise InvalidQR(param="qr", reason="empty")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise InvalidQR(param="qr", reason="too_long")
    # Checked before anything is encoded: a lone surrogate would make .encode("utf-8") raise.
    if _has_forbidden_char(text):
        raise InvalidQR(param="qr", reason="control_character")

    fields = parse_tlv(text)
    if fields[0] != (ID_FORMAT, PAYLOAD_FORMAT):
        raise InvalidQR(param="qr", reason="bad_payload_format")
    crc_id, crc_value = fields[-1]
    # parse_tlv succeeded, so a last field "63" of four characters is exactly the last 8 characters.
    if crc_id != ID_CRC or not _CRC_VALUE.fullmatch(crc_value):
        raise InvalidQR(param="qr", reason="bad_crc")
    if _crc_hex(text[:-4]) != crc_value:
        raise InvalidQR(param="qr", reason="crc_mismatch")

    top = _unique(fields)
    if top.get(ID_INITIATION) != STATIC_POINT_OF_INITIATION:
        raise InvalidQR(param="qr", reason="not_static")
    if top.get(ID_CURRENCY) != CURRENCY_JPY:
        raise InvalidQR(param="qr", reason="bad_currency")
    if top.get(ID_COUNTRY) != COUNTRY_JP:
        raise InvalidQR(param="qr", reason="bad_country")

    account = _unique(parse_tlv(_required(top, ID_MERCHANT_ACCOUNT)))
    if account.get(SUB_GUID) != guid:
        raise InvalidQR(param="qr", reason="other_scheme")
    merchant_id = _checked(validate_merchant_id, _required(account, SUB_MERCHANT_ID))
    mcc = _checked(validate_mcc, _required(top, ID_MCC))
    name_en = _checked(validate_name_en, _required(top, ID_NAME))
    city = _checked(validate_city, top[ID_CITY]) if ID_CITY in top else DEFAULT_CITY

    name_ja = name_en
    if ID_LANGUAGE_TEMPLATE in top:
        language = _unique(parse_tlv(top[ID_LANGUAGE_TEMPLATE]))
        if language.get(SUB_LANGUAGE) != LANGUAGE_JA:
            raise InvalidQR(param="qr", reason="bad_language")
        name_ja = _checked(validate_name_ja, _required(language, SUB_ALT_NAME))

    return MerchantQR(merchant_id=merchant_id, name_en=name_en, name_ja=name_ja, mcc=mcc, city=city)


def _unique(fields: list[tuple[str, str]]) -> dict[str, str]:
    # A repeated id makes the payload ambiguous (which merchant?), so it is refused, not merged.
    result: dict[str, str] = {}
    for field_id, value in fields:
        if field_id in result:
            raise InvalidQR(param="qr", reason="duplicate_field", field=field_id)
        result[field_id] = value
    return result


def _required(fields: dict[str, str], field_id: str) -> str:
    value = fields.get(field_id)
    if value is None:
        raise InvalidQR(param="qr", reason="missing_field", field=field_id)
    return value


def _checked(validate: Callable[[str], str], value: str) -> str:
    # The encode-time validators double as decode-time checks; their ValueError becomes InvalidQR.
    try:
        return validate(value)
    except ValueError as exc:
        raise InvalidQR(param="qr", reason="bad_value") from exc
