"""Merchant QR payload: CRC, TLV layer, encode/decode round trip and every rejection (SPEC §3)."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import InvalidQR
from chalicelib.merchants.qr import (
    DEFAULT_GUID,
    MAX_PAYLOAD_CHARS,
    MerchantQR,
    crc16_ccitt_false,
    decode_merchant_qr,
    encode_merchant_qr,
    encode_tlv,
    parse_tlv,
    validate_name_en,
    validate_name_ja,
)

# The EMVCo MPM specification's published sample (a Chinese merchant, dynamic, CNY).
EMVCO_SAMPLE = (
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678"
    "520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京"
    "540523.7253031565502016233030412340603***0708A60086670902ME91320016A011223344998877"
    "0708123456786304A13A"
)

SHOP = MerchantQR(merchant_id="M7QK2D9XHT", name_en="ONAGAWA SAKANA", name_ja="女川さかな店")


def sign(body: str) -> str:
    """Append a correct CRC field, so a test payload fails for the reason under test only."""
    signed = body + "6304"
    return signed + f"{crc16_ccitt_false(signed.encode('utf-8')):04X}"


def fields_of(qr: MerchantQR = SHOP) -> list[tuple[str, str]]:
    """The valid payload's fields without the CRC, for tests that change one of them."""
    return parse_tlv(encode_merchant_qr(qr))[:-1]


def replace(fields: list[tuple[str, str]], field_id: str, value: str | None) -> list[tuple[str, str]]:
    """``fields`` with ``field_id``'s value replaced, or the field removed when ``value`` is None."""
    assert any(fid == field_id for fid, _ in fields), field_id
    if value is None:
        return [(fid, v) for fid, v in fields if fid != field_id]
    return [(fid, value if fid == field_id else v) for fid, v in fields]


def rejection_reason(payload: str) -> str:
    with pytest.raises(InvalidQR) as caught:
        decode_merchant_qr(payload)
    assert caught.value.code == "invalid_qr"
    assert caught.value.param == "qr"
    reason = caught.value.context["reason"]
    assert isinstance(reason, str)
    return reason


# --- CRC ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"123456789", 0x29B1),  # the catalogued check value of CRC-16/CCITT-FALSE
        (b"", 0xFFFF),  # nothing processed: the init value, no final xor
        (b"A", 0xB915),
        ("女".encode(), binascii.crc_hqx("女".encode(), 0xFFFF)),
    ],
)
def test_crc16_ccitt_false_known_values(data: bytes, expected: int) -> None:
    assert crc16_ccitt_false(data) == expected


@given(st.binary(max_size=600))
def test_crc16_matches_stdlib_crc_hqx_with_init_ffff(data: bytes) -> None:
    # binascii.crc_hqx is the same non-reflected 0x1021 CRC; seeded with 0xFFFF it is CCITT-FALSE.
    assert crc16_ccitt_false(data) == binascii.crc_hqx(data, 0xFFFF)


# --- EMVCo public sample ----------------------------------------------------------------------


def test_emvco_sample_parses_and_its_crc_verifies() -> None:
    fields = parse_tlv(EMVCO_SAMPLE)

    assert fields[0] == ("00", "01")
    assert fields[-1] == ("63", "A13A")
    assert crc16_ccitt_false(EMVCO_SAMPLE[:-4].encode("utf-8")) == 0xA13A
    # LEN counts characters: 最佳运输 is 4 characters (12 UTF-8 bytes) and the template is 20 long.
    language = parse_tlv(dict(fields)["64"])
    assert language == [("00", "ZH"), ("01", "最佳运输"), ("02", "北京")]
    assert encode_tlv(fields[:-1]) + "6304A13A" == EMVCO_SAMPLE


def test_emvco_sample_is_not_one_of_our_merchant_codes() -> None:
    # Its CRC is fine; it is dynamic (01=12), CNY (53=156), CN and has no template 26 of our GUID.
    assert rejection_reason(EMVCO_SAMPLE) == "not_static"


def test_emvco_sample_made_static_is_still_rejected_for_its_currency() -> None:
    fields = replace(parse_tlv(EMVCO_SAMPLE)[:-1], "01", "11")
    assert rejection_reason(sign(encode_tlv(fields))) == "bad_currency"


# --- TLV layer ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ([("00", "01")], "000201"),
        ([("59", "A" * 99)], "5999" + "A" * 99),
        ([("64", "女川")], "6402女川"),  # characters, not the 6 UTF-8 bytes
        ([("01", "11"), ("52", "5999")], "0102115204" + "5999"),
    ],
)
def test_tlv_encode_and_parse_are_inverse(fields: list[tuple[str, str]], text: str) -> None:
    assert encode_tlv(fields) == text
    assert parse_tlv(text) == fields


@pytest.mark.parametrize(
    "fields",
    [
        [("0", "x")],  # id of one digit
        [("AB", "x")],  # id not digits
        [("123", "x")],
        [("59", "")],  # EMVCo lengths are 01–99
        [("59", "A" * 100)],
    ],
)
def test_tlv_encode_refuses_what_cannot_be_represented(fields: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError, match="TLV"):
        encode_tlv(fields)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty_tlv"),
        ("0", "bad_tlv_header"),  # header cut short
        ("000", "bad_tlv_header"),
        ("0A0201", "bad_tlv_header"),  # non-digit id
        ("00X201", "bad_tlv_header"),  # non-digit length
        ("00²201", "bad_tlv_header"),  # a Unicode digit that int() would accept
        ("0003AB", "truncated_tlv_value"),
        ("000201 ", "bad_tlv_header"),  # trailing garbage
        ("0002010", "bad_tlv_header"),
        ("0000", "empty_tlv_value"),
    ],
)
def test_tlv_parse_rejects_malformed_structure(text: str, reason: str) -> None:
    with pytest.raises(InvalidQR) as caught:
        parse_tlv(text)
    assert caught.value.context["reason"] == reason


# --- encode / decode round trip ---------------------------------------------------------------


def test_encoded_payload_has_the_fields_in_spec_order() -> None:
    payload = encode_merchant_qr(SHOP)

    assert parse_tlv(payload)[:-1] == [
        ("00", "01"),
        ("01", "11"),
        ("26", "0022JP.ONAGAWA.CHIIKIPOINT0110M7QK2D9XHT"),
        ("52", "5999"),
        ("53", "392"),
        ("58", "JP"),
        ("59", "ONAGAWA SAKANA"),
        ("60", "ONAGAWA"),
        ("64", "0002JA0106女川さかな店"),
    ]
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == f"{crc16_ccitt_false(payload[:-4].encode('utf-8')):04X}"


@pytest.mark.parametrize(
    "qr",
    [
        SHOP,
        MerchantQR("1", "A", "あ"),
        MerchantQR("m-0001_x.y", "CAFE & BAR <25 CHARS MAX>", "カフェ&バー 女川 駅前店", mcc="5812", city="ISHINOMAKI"),
        MerchantQR("M" * 32, "X" * 25, "漢" * 25, city="C" * 15),
        MerchantQR("M1", "YOSHINOYA", "𠮷野家"),  # outside the BMP: one character, 4 UTF-8 bytes
        MerchantQR("M2", "ONAGAWA FISH", "女川 魚市場"),  # ideographic space U+3000
        MerchantQR("M3", "6304ABCD", "６３０４"),  # names that look like a CRC field
    ],
)
def test_round_trip(qr: MerchantQR) -> None:
    payload = encode_merchant_qr(qr)

    assert decode_merchant_qr(payload) == qr
    assert len(payload) <= MAX_PAYLOAD_CHARS


def test_round_trip_with_another_guid() -> None:
    payload = encode_merchant_qr(SHOP, guid="JP.EXAMPLE.TOWN")

    assert decode_merchant_qr(payload, guid="JP.EXAMPLE.TOWN") == SHOP
    assert rejection_reason(payload) == "other_scheme"


def test_encode_cleans_names_so_decoding_gives_the_cleaned_values() -> None:
    messy = MerchantQR("M1", "  ONAGAWA  ", "\u3000か\u3099っこう ")  # combining dakuten, padding

    decoded = decode_merchant_qr(encode_merchant_qr(messy))

    assert decoded == MerchantQR("M1", "ONAGAWA", "がっこう")


@pytest.mark.parametrize("padding", [" ", "\n", "\r\n", "\t ", "\u3000"])
def test_surrounding_whitespace_is_ignored(padding: str) -> None:
    assert decode_merchant_qr(padding + encode_merchant_qr(SHOP) + padding) == SHOP


def test_template_64_is_optional_and_name_ja_falls_back_to_name_en() -> None:
    payload = sign(encode_tlv(replace(fields_of(), "64", None)))

    assert decode_merchant_qr(payload) == MerchantQR(SHOP.merchant_id, SHOP.name_en, SHOP.name_en)


def test_city_is_optional_on_decode() -> None:
    shop = MerchantQR("M1", "A", "あ", city="SENDAI")
    payload = sign(encode_tlv(replace(fields_of(shop), "60", None)))

    assert decode_merchant_qr(payload).city == "ONAGAWA"


def test_unknown_fields_are_ignored() -> None:
    fields = fields_of()
    fields.insert(8, ("62", encode_tlv([("07", "TILL1")])))
    fields.append(("80", "anything"))

    assert decode_merchant_qr(sign(encode_tlv(fields))) == SHOP


def padded_payload(total_chars: int) -> str:
    """A valid payload grown to exactly ``total_chars`` with unknown fields."""
    body = encode_tlv(fields_of())
    remaining = total_chars - len(body) - 8
    filler: list[tuple[str, str]] = []
    while remaining > 0:
        chunk = min(remaining - 4, 99)
        if chunk < 1:  # too little room for a field: shorten the previous one instead
            last_id, last_value = filler.pop()
            filler.append((last_id, last_value[: len(last_value) - 5]))
            remaining += 5
            continue
        filler.append((str(80 + len(filler)), "Z" * chunk))
        remaining -= chunk + 4
    payload = sign(body + encode_tlv(filler))
    assert len(payload) == total_chars
    return payload


def test_payload_of_exactly_512_characters_is_accepted() -> None:
    assert decode_merchant_qr(padded_payload(MAX_PAYLOAD_CHARS)) == SHOP


def test_payload_of_513_characters_is_rejected() -> None:
    assert rejection_reason(padded_payload(MAX_PAYLOAD_CHARS + 1)) == "too_long"


# --- rejections -------------------------------------------------------------------------------

VALID = encode_merchant_qr(SHOP)
ACCOUNT = "0022JP.ONAGAWA.CHIIKIPOINT0110M7QK2D9XHT"


def flip_last_crc_digit(payload: str) -> str:
    return payload[:-1] + ("0" if payload[-1] != "0" else "1")


REJECTIONS: list[tuple[str, str, str]] = [
    # (case, payload, reason)
    ("empty", "", "empty"),
    ("whitespace only", " \n\t", "empty"),
    ("bad crc", flip_last_crc_digit(VALID), "crc_mismatch"),
    ("one character of the body changed", VALID.replace("SAKANA", "SAKANO"), "crc_mismatch"),
    ("crc missing", VALID[:-8], "bad_crc"),
    ("crc not last", VALID + "6002XX", "bad_crc"),
    ("crc of length 5", VALID[:-8] + "6305" + VALID[-4:] + "0", "bad_crc"),
    ("crc of length 3", VALID[:-8] + "6303" + VALID[-3:], "bad_crc"),
    ("crc not hex", sign(encode_tlv(fields_of()))[:-4] + "12G4", "bad_crc"),
    ("trailing garbage", VALID + "1", "bad_tlv_header"),
    ("leading garbage", "X" + VALID, "bad_tlv_header"),
    ("length too long", VALID.replace("5914ONAGAWA SAKANA", "5918ONAGAWA SAKANA"), "bad_tlv_header"),
    ("length beyond the end", VALID[:-8] + "6399" + VALID[-4:], "truncated_tlv_value"),
    ("length not digits", VALID.replace("5914", "59E4"), "bad_tlv_header"),
    ("00 not first", sign(encode_tlv([("01", "11"), ("00", "01"), *fields_of()[2:]])), "bad_payload_format"),
    ("00 is not 01", sign(encode_tlv(replace(fields_of(), "00", "02"))), "bad_payload_format"),
    ("00 missing", sign(encode_tlv(replace(fields_of(), "00", None))), "bad_payload_format"),
    ("01 missing", sign(encode_tlv(replace(fields_of(), "01", None))), "not_static"),
    ("01 dynamic (12)", sign(encode_tlv(replace(fields_of(), "01", "12"))), "not_static"),
    ("01 unknown (13)", sign(encode_tlv(replace(fields_of(), "01", "13"))), "not_static"),
    ("26 missing", sign(encode_tlv(replace(fields_of(), "26", None))), "missing_field"),
    ("26 without merchant id", sign(encode_tlv(replace(fields_of(), "26", "0022" + DEFAULT_GUID))), "missing_field"),
    ("26 without guid", sign(encode_tlv(replace(fields_of(), "26", "0110M7QK2D9XHT"))), "other_scheme"),
    ("26 not a template", sign(encode_tlv(replace(fields_of(), "26", "JP.ONAGAWA"))), "bad_tlv_header"),
    (
        "another guid",
        sign(encode_tlv(replace(fields_of(), "26", ACCOUNT.replace("ONAGAWA", "SENDAI!")))),
        "other_scheme",
    ),
    (
        "guid in another case",
        sign(encode_tlv(replace(fields_of(), "26", ACCOUNT.replace("ONAGAWA", "onagawa")))),
        "other_scheme",
    ),
    ("merchant id with a space", sign(encode_tlv(replace(fields_of(), "26", ACCOUNT[:-2] + " T"))), "bad_value"),
    ("52 missing", sign(encode_tlv(replace(fields_of(), "52", None))), "missing_field"),
    ("52 not 4 digits", sign(encode_tlv(replace(fields_of(), "52", "59A9"))), "bad_value"),
    ("53 missing", sign(encode_tlv(replace(fields_of(), "53", None))), "bad_currency"),
    ("53 is CNY", sign(encode_tlv(replace(fields_of(), "53", "156"))), "bad_currency"),
    ("58 missing", sign(encode_tlv(replace(fields_of(), "58", None))), "bad_country"),
    ("58 is CN", sign(encode_tlv(replace(fields_of(), "58", "CN"))), "bad_country"),
    ("59 missing", sign(encode_tlv(replace(fields_of(), "59", None))), "missing_field"),
    ("59 longer than 25", sign(encode_tlv(replace(fields_of(), "59", "A" * 26))), "bad_value"),
    ("59 not ASCII", sign(encode_tlv(replace(fields_of(), "59", "女川"))), "bad_value"),
    ("60 longer than 15", sign(encode_tlv(replace(fields_of(), "60", "C" * 16))), "bad_value"),
    ("64 in Chinese", sign(encode_tlv(replace(fields_of(), "64", "0002ZH0104最佳运输"))), "bad_language"),
    ("64 without the name", sign(encode_tlv(replace(fields_of(), "64", "0002JA"))), "missing_field"),
    ("64 name longer than 25", sign(encode_tlv(replace(fields_of(), "64", "0002JA0126" + "漢" * 26))), "bad_value"),
    (
        "duplicate 26",
        sign(encode_tlv([*fields_of()[:3], ("26", ACCOUNT[:-2] + "ZZ"), *fields_of()[3:]])),
        "duplicate_field",
    ),
    ("duplicate 01 in 26", sign(encode_tlv(replace(fields_of(), "26", ACCOUNT + "0102ZZ"))), "duplicate_field"),
    ("newline inside", VALID[:30] + "\n" + VALID[30:], "control_character"),
    ("NUL inside", VALID[:30] + "\x00" + VALID[30:], "control_character"),
    (
        "zero-width space in name_ja",
        sign(encode_tlv(replace(fields_of(), "64", "0002JA0103女\u200b川"))),
        "control_character",
    ),
    (
        "bidi override in name_ja",
        sign(encode_tlv(replace(fields_of(), "64", "0002JA0103女\u202e川"))),
        "control_character",
    ),
    ("lone surrogate", VALID[:30] + "\ud800" + VALID[30:], "control_character"),
    ("longer than 512", VALID + "9" * 600, "too_long"),
]


@pytest.mark.parametrize(("payload", "reason"), [(p, r) for _, p, r in REJECTIONS], ids=[c for c, _, _ in REJECTIONS])
def test_decode_rejects(payload: str, reason: str) -> None:
    assert rejection_reason(payload) == reason


def test_lower_case_crc_is_rejected() -> None:
    # Find a payload whose CRC has a letter in it, so lower-casing really changes it.
    payload = next(
        p for p in (encode_merchant_qr(MerchantQR(f"M{i}", "A", "あ")) for i in range(100)) if p[-4:].isdigit() is False
    )
    assert decode_merchant_qr(payload).name_en == "A"
    assert rejection_reason(payload[:-4] + payload[-4:].lower()) == "bad_crc"


def test_the_rejection_table_starts_from_a_payload_that_decodes() -> None:
    # Guards the table: every case above is a valid payload with one thing broken.
    assert decode_merchant_qr(VALID) == SHOP
    assert decode_merchant_qr(sign(encode_tlv(fields_of()))) == SHOP


# --- encode-time validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qr", "guid", "message"),
    [
        (MerchantQR("M1", "", "あ"), DEFAULT_GUID, "name_en"),
        (MerchantQR("M1", "   ", "あ"), DEFAULT_GUID, "name_en"),
        (MerchantQR("M1", "A" * 26, "あ"), DEFAULT_GUID, "25"),
        (MerchantQR("M1", "女川", "あ"), DEFAULT_GUID, "ASCII"),
        (MerchantQR("M1", "A\tB", "あ"), DEFAULT_GUID, "ASCII"),
        (MerchantQR("M1", "A", ""), DEFAULT_GUID, "name_ja"),
        (MerchantQR("M1", "A", "漢" * 26), DEFAULT_GUID, "25"),
        (MerchantQR("M1", "A", "女\x00川"), DEFAULT_GUID, "制御文字"),
        (MerchantQR("M1", "A", "女\n川"), DEFAULT_GUID, "制御文字"),
        (MerchantQR("M1", "A", "あ", mcc="599"), DEFAULT_GUID, "mcc"),
        (MerchantQR("M1", "A", "あ", mcc="５９９９"), DEFAULT_GUID, "mcc"),
        (MerchantQR("M1", "A", "あ", city=""), DEFAULT_GUID, "city"),
        (MerchantQR("M1", "A", "あ", city="C" * 16), DEFAULT_GUID, "city"),
        (MerchantQR("M1", "A", "あ", city="女川"), DEFAULT_GUID, "city"),
        (MerchantQR("", "A", "あ"), DEFAULT_GUID, "merchant_id"),
        (MerchantQR("M 1", "A", "あ"), DEFAULT_GUID, "merchant_id"),
        (MerchantQR("M" * 33, "A", "あ"), DEFAULT_GUID, "merchant_id"),
        (MerchantQR("Ｍ1", "A", "あ"), DEFAULT_GUID, "merchant_id"),
        (SHOP, "", "guid"),
        (SHOP, "G" * 33, "guid"),
        (SHOP, "JP ONAGAWA", "guid"),
    ],
)
def test_encode_refuses_bad_values(qr: MerchantQR, guid: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_merchant_qr(qr, guid=guid)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [("ONAGAWA", "ONAGAWA"), ("  Cafe 2F ", "Cafe 2F"), ("~!@#$%^&*()", "~!@#$%^&*()"), ("A" * 25, "A" * 25)],
)
def test_validate_name_en_cleans(raw: str, cleaned: str) -> None:
    assert validate_name_en(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("女川さかな店", "女川さかな店"),
        ("\u3000女川 魚市場 ", "女川 魚市場"),  # inner ideographic space kept, outer stripped
        ("か\u3099", "が"),  # NFC
        ("ｶﾌｪ", "ｶﾌｪ"),  # half-width katakana kept as the shop writes it (no NFKC)
        ("漢" * 25, "漢" * 25),
    ],
)
def test_validate_name_ja_cleans(raw: str, cleaned: str) -> None:
    assert validate_name_ja(raw) == cleaned


# --- properties -------------------------------------------------------------------------------

ascii_name = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=25).map(
    str.strip
)
japanese_name = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x3000, max_codepoint=0x30FF),  # kana and CJK punctuation
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # kanji
        st.characters(exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"]),  # anything else a name might hold
    ),
    min_size=1,
    max_size=25,
)
merchant_id = st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZabc._-", min_size=1, max_size=32)


@settings(max_examples=300)
@given(mid=merchant_id, name_en=ascii_name, name_ja=japanese_name, mcc=st.from_regex(r"\A[0-9]{4}\Z"))
def test_round_trip_property(mid: str, name_en: str, name_ja: str, mcc: str) -> None:
    assume(name_en)
    try:
        # Empty after stripping, or longer than 25 after NFC (a few characters decompose).
        cleaned_ja = validate_name_ja(name_ja)
    except ValueError:
        assume(False)
    qr = MerchantQR(mid, name_en, cleaned_ja, mcc=mcc)

    assert decode_merchant_qr(encode_merchant_qr(qr)) == qr


def decode_or_invalid(payload: str) -> MerchantQR | None:
    """Decode; InvalidQR is an answer, any other exception fails the test."""
    try:
        decoded = decode_merchant_qr(payload)
    except InvalidQR as exc:
        assert exc.code == "invalid_qr"
        return None
    # Whatever gets through must be something we could have printed ourselves.
    assert decode_merchant_qr(encode_merchant_qr(decoded)) == decoded
    return decoded


# Hypothesis never draws surrogates by itself; a str from a broken decoder can still hold one.
any_character = st.one_of(st.characters(codec=None, exclude_categories=()), st.sampled_from("\ud800\udbff\udc00"))


@settings(max_examples=500)
@given(st.text(alphabet=any_character, max_size=600))
@example("00020101021163041D3A")
@example("6304")
@example("0002016304")
def test_arbitrary_text_only_ever_raises_invalid_qr(text: str) -> None:
    decode_or_invalid(text)


@st.composite
def mutated_payload(draw: st.DrawFn) -> str:
    payload = encode_merchant_qr(SHOP)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(payload)))
        char = draw(st.one_of(any_character, st.sampled_from("0123456789\n ")))
        operation = draw(st.sampled_from(["insert", "replace", "delete", "truncate", "duplicate"]))
        if operation == "insert":
            payload = payload[:position] + char + payload[position:]
        elif operation == "replace":
            payload = payload[:position] + char + payload[position + 1 :]
        elif operation == "delete":
            payload = payload[:position] + payload[position + 1 :]
        elif operation == "truncate":
            payload = payload[:position]
        else:
            payload = payload[:position] + payload[position:] * 2
    return payload


@settings(max_examples=500)
@given(mutated_payload())
def test_mutated_payloads_only_ever_raise_invalid_qr(payload: str) -> None:
    decode_or_invalid(payload)


@settings(max_examples=500)
@given(data=st.data())
def test_any_single_ascii_substitution_is_detected(data: st.DataObject) -> None:
    # Same-length single-byte change = a burst of at most 8 bits: CRC-16 catches every one.
    payload = encode_merchant_qr(SHOP)
    ascii_positions = [i for i, ch in enumerate(payload) if ch.isascii()]
    position = data.draw(st.sampled_from(ascii_positions))
    char = data.draw(st.characters(min_codepoint=0x21, max_codepoint=0x7E).filter(lambda c: c != payload[position]))

    with pytest.raises(InvalidQR):
        decode_merchant_qr(payload[:position] + char + payload[position + 1 :])
