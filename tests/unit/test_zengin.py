"""The Zengin 総合振込 file, read back by an independent reader written from the layout."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.clock import UTC
from chalicelib.core.kana import ZENGIN_KANA
from chalicelib.settlement.zengin import (
    ZenginOriginator,
    ZenginTransfer,
    write_zengin,
)

# -- an independent reader: byte offsets typed in from the published layout --------------
# (0-based, end-exclusive; the record is 120 bytes, then CR LF)

HEADER = {
    "data_kind": (0, 1),
    "type_code": (1, 3),
    "code_kind": (3, 4),
    "requester_code": (4, 14),
    "requester_name": (14, 54),
    "transfer_mmdd": (54, 58),
    "bank_code": (58, 62),
    "bank_name": (62, 77),
    "branch_code": (77, 80),
    "branch_name": (80, 95),
    "account_type": (95, 96),
    "account_number": (96, 103),
    "dummy": (103, 120),
}
DATA = {
    "data_kind": (0, 1),
    "bank_code": (1, 5),
    "bank_name": (5, 20),
    "branch_code": (20, 23),
    "branch_name": (23, 38),
    "clearing_house": (38, 42),
    "account_type": (42, 43),
    "account_number": (43, 50),
    "holder_name": (50, 80),
    "amount": (80, 90),
    "new_code": (90, 91),
    "customer_code1": (91, 101),
    "customer_code2": (101, 111),
    "transfer_method": (111, 112),
    "edi_flag": (112, 113),
    "dummy": (113, 120),
}
TRAILER = {"data_kind": (0, 1), "count": (1, 7), "total": (7, 19), "dummy": (19, 120)}
END = {"data_kind": (0, 1), "dummy": (1, 120)}

HALF_WIDTH_KANA = {chr(code) for code in range(0xFF61, 0xFFA0)}


def read_records(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) == 120, (len(line), line)
        assert b"\r" not in line and b"\n" not in line
    assert len(data) == 122 * len(lines)
    return lines


def fields(record: bytes, layout: dict[str, tuple[int, int]]) -> dict[str, str]:
    parsed = {}
    for name, (start, end) in layout.items():
        text = record[start:end].decode("shift_jis")
        # half-width only: every byte decodes to exactly one character
        assert len(text) == end - start, name
        parsed[name] = text
    return parsed


def read_file(data: bytes) -> dict[str, Any]:
    records = read_records(data)
    kinds = [record[:1] for record in records]
    assert kinds[0] == b"1"
    assert kinds[-2:] == [b"8", b"9"]
    assert set(kinds[1:-2]) <= {b"2"}
    header = fields(records[0], HEADER)
    data_records = [fields(record, DATA) for record in records[1:-2]]
    trailer = fields(records[-2], TRAILER)
    end = fields(records[-1], END)
    assert header["dummy"].strip(" ") == ""
    assert trailer["dummy"].strip(" ") == ""
    assert end["dummy"].strip(" ") == ""
    return {"header": header, "data": data_records, "trailer": trailer, "end": end}


def is_half_width_text(text: str) -> bool:
    return all(0x20 <= ord(char) <= 0x7E or char in HALF_WIDTH_KANA for char in text)


# -- fixtures -------------------------------------------------------------------------------

ORIGINATOR = ZenginOriginator(
    requester_code="0123456789",
    requester_name_kana="ｵﾅｶﾞﾜﾁﾖｳｼﾖｳｺｳｶｲ",
    bank_code="0169",
    bank_name_kana="ｼﾁｼﾞﾕｳｺﾞ",
    branch_code="101",
    branch_name_kana="ｵﾅｶﾞﾜ",
    account_type=1,
    account_number="0012345",
)


def transfer(**overrides: Any) -> ZenginTransfer:
    base = ZenginTransfer(
        bank_code="0001",
        bank_name_kana="ﾐｽﾞﾎ",
        branch_code="001",
        branch_name_kana="ﾄｳｷﾖｳ",
        account_type=1,
        account_number="1234567",
        holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ",
        amount=12_345,
    )
    return dataclasses.replace(base, **overrides)


TRANSFER_DAY = dt.date(2026, 11, 30)


def test_a_file_with_three_transfers_reads_back() -> None:
    transfers = [
        transfer(),
        transfer(
            bank_code="9900",
            bank_name_kana="",
            branch_code="019",
            branch_name_kana="",
            account_type=2,
            account_number="7654321",
            holder_kana="ｶ)ｵﾅｶﾞﾜｽｲｻﾝ",
            amount=9_999_999_999,
            customer_code1="42",
        ),
        transfer(holder_kana="ｱ" * 30, amount=1, account_type=4),
    ]
    parsed = read_file(write_zengin(ORIGINATOR, transfers, TRANSFER_DAY))

    header = parsed["header"]
    assert header["data_kind"] == "1"
    assert header["type_code"] == "21"
    assert header["code_kind"] == "0"
    assert header["requester_code"] == "0123456789"
    assert header["requester_name"] == "ｵﾅｶﾞﾜﾁﾖｳｼﾖｳｺｳｶｲ".ljust(40)
    assert header["transfer_mmdd"] == "1130"
    assert header["bank_code"] == "0169"
    assert header["bank_name"] == "ｼﾁｼﾞﾕｳｺﾞ".ljust(15)
    assert header["branch_code"] == "101"
    assert header["branch_name"] == "ｵﾅｶﾞﾜ".ljust(15)
    assert header["account_type"] == "1"
    assert header["account_number"] == "0012345"

    first, second, third = parsed["data"]
    assert first["bank_code"] == "0001"
    assert first["bank_name"] == "ﾐｽﾞﾎ".ljust(15)
    assert first["branch_code"] == "001"
    assert first["branch_name"] == "ﾄｳｷﾖｳ".ljust(15)
    assert first["clearing_house"] == "    "
    assert first["account_type"] == "1"
    assert first["account_number"] == "1234567"
    assert first["holder_name"] == "ﾔﾏﾀﾞ ﾀﾛｳ".ljust(30)
    assert first["amount"] == "0000012345"
    assert first["new_code"] == "0"
    assert first["customer_code1"] == " " * 10
    assert first["customer_code2"] == " " * 10
    assert first["edi_flag"] == " "

    assert second["bank_name"] == " " * 15  # unknown names are blank
    assert second["branch_code"] == "019"
    assert second["account_type"] == "2"
    assert second["holder_name"].rstrip() == "ｶ)ｵﾅｶﾞﾜｽｲｻﾝ"
    assert second["amount"] == "9999999999"
    assert second["customer_code1"] == "0000000042"

    assert third["holder_name"] == "ｱ" * 30
    assert third["amount"] == "0000000001"
    assert third["account_type"] == "4"

    trailer = parsed["trailer"]
    assert trailer["count"] == "000003"
    assert trailer["total"] == f"{12_345 + 9_999_999_999 + 1:012d}"
    assert int(trailer["total"]) == sum(int(d["amount"]) for d in parsed["data"])
    assert parsed["end"]["data_kind"] == "9"

    for record in [header, *parsed["data"]]:
        for value in record.values():
            assert is_half_width_text(value)


def test_names_decode_as_half_width_katakana() -> None:
    data = write_zengin(ORIGINATOR, [transfer(holder_kana="ｶﾞﾊﾟ ｱｲｳ")], TRANSFER_DAY)
    holder = read_file(data)["data"][0]["holder_name"].rstrip()
    assert holder == "ｶﾞﾊﾟ ｱｲｳ"
    assert all(char in HALF_WIDTH_KANA or char == " " for char in holder)
    # and at the byte level: JIS X 0201 katakana live in 0xA1–0xDF
    raw = data[122 + 50 : 122 + 80].rstrip(b" ")
    assert raw == b"\xb6\xde\xca\xdf \xb1\xb2\xb3"


def test_account_number_is_zero_padded() -> None:
    data = write_zengin(ORIGINATOR, [transfer(account_number="12345")], TRANSFER_DAY)
    assert read_file(data)["data"][0]["account_number"] == "0012345"


@pytest.mark.parametrize("amount", [0, -1, 10_000_000_000])
def test_amount_out_of_range(amount: int) -> None:
    with pytest.raises(ValueError, match="amount"):
        write_zengin(ORIGINATOR, [transfer(amount=amount)], TRANSFER_DAY)


@pytest.mark.parametrize("amount", [1.0, True, "100"])
def test_amount_must_be_int(amount: object) -> None:
    with pytest.raises(TypeError, match="amount"):
        write_zengin(ORIGINATOR, [transfer(amount=amount)], TRANSFER_DAY)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"holder_kana": "ｱ" * 31}, "holder_kana"),
        ({"holder_kana": "ヤマダ"}, "holder_kana"),  # full-width
        ({"holder_kana": "ﾔﾏﾀﾞ･ﾀﾛｳ"}, "holder_kana"),  # half-width, but not Zengin
        ({"holder_kana": "yamada"}, "holder_kana"),  # lower case
        ({"holder_kana": ""}, "holder_kana"),
        ({"holder_kana": "   "}, "holder_kana"),
        ({"bank_name_kana": "ｱ" * 16}, "bank_name_kana"),
        ({"branch_name_kana": "ｼﾃﾝ\r\n"}, "branch_name_kana"),
        ({"bank_code": "001"}, "bank_code"),
        ({"bank_code": "00001"}, "bank_code"),
        ({"bank_code": "０００１"}, "bank_code"),
        ({"branch_code": "1"}, "branch_code"),
        ({"account_number": "12345678"}, "account_number"),
        ({"account_number": ""}, "account_number"),
        ({"account_type": 3}, "account_type"),
        ({"account_type": True}, "account_type"),
        ({"customer_code1": "ABC"}, "customer_code1"),
        ({"customer_code1": "12345678901"}, "customer_code1"),
    ],
)
def test_bad_transfer_fields(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=rf"transfers\[1\]\.{field}"):
        write_zengin(ORIGINATOR, [transfer(), transfer(**overrides)], TRANSFER_DAY)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"requester_code": "123456789"}, "requester_code"),
        ({"requester_name_kana": "ｱ" * 41}, "requester_name_kana"),
        ({"requester_name_kana": ""}, "requester_name_kana"),
        ({"requester_name_kana": "商工会"}, "requester_name_kana"),
        ({"bank_code": "169"}, "bank_code"),
        ({"branch_name_kana": "ｱ" * 16}, "branch_name_kana"),
        ({"account_type": 5}, "account_type"),
    ],
)
def test_bad_originator_fields(overrides: dict[str, Any], field: str) -> None:
    originator = dataclasses.replace(ORIGINATOR, **overrides)
    with pytest.raises(ValueError, match=rf"originator\.{field}"):
        write_zengin(originator, [transfer()], TRANSFER_DAY)


def test_no_transfers_is_refused() -> None:
    with pytest.raises(ValueError, match="no transfers"):
        write_zengin(ORIGINATOR, [], TRANSFER_DAY)


def test_transfer_date_must_be_a_date() -> None:
    with pytest.raises(TypeError):
        write_zengin(ORIGINATOR, [transfer()], dt.datetime(2026, 11, 30, tzinfo=UTC))


def test_transfers_may_be_any_iterable() -> None:
    data = write_zengin(ORIGINATOR, (transfer(amount=n) for n in (1, 2, 3)), TRANSFER_DAY)
    parsed = read_file(data)
    assert [int(d["amount"]) for d in parsed["data"]] == [1, 2, 3]
    assert parsed["trailer"]["count"] == "000003"
    assert parsed["trailer"]["total"] == "000000000006"


kana_names = st.text(
    alphabet=st.sampled_from(sorted(set(ZENGIN_KANA) | set("ﾞﾟ ABC0123().-/"))),
    min_size=1,
    max_size=30,
).filter(lambda name: name.strip(" ") != "")

transfers = st.builds(
    ZenginTransfer,
    bank_code=st.from_regex(r"[0-9]{4}", fullmatch=True),
    bank_name_kana=st.text(alphabet=st.sampled_from(sorted(ZENGIN_KANA)), max_size=15),
    branch_code=st.from_regex(r"[0-9]{3}", fullmatch=True),
    branch_name_kana=st.text(alphabet=st.sampled_from(sorted(ZENGIN_KANA)), max_size=15),
    account_type=st.sampled_from([1, 2, 4]),
    account_number=st.from_regex(r"[0-9]{1,7}", fullmatch=True),
    holder_kana=kana_names,
    amount=st.integers(min_value=1, max_value=9_999_999_999),
    customer_code1=st.one_of(st.just(""), st.from_regex(r"[0-9]{1,10}", fullmatch=True)),
)


@settings(max_examples=60)
@given(st.lists(transfers, min_size=1, max_size=20), st.dates())
def test_any_valid_batch_reads_back_with_matching_totals(batch: list[ZenginTransfer], day: dt.date) -> None:
    parsed = read_file(write_zengin(ORIGINATOR, batch, day))
    assert parsed["header"]["transfer_mmdd"] == day.strftime("%m%d")
    assert len(parsed["data"]) == len(batch)
    assert int(parsed["trailer"]["count"]) == len(batch)
    assert int(parsed["trailer"]["total"]) == sum(t.amount for t in batch)
    for record, sent in zip(parsed["data"], batch, strict=True):
        assert int(record["amount"]) == sent.amount
        assert record["holder_name"].rstrip(" ") == sent.holder_kana.rstrip(" ")
        assert record["bank_code"] == sent.bank_code
        assert record["account_number"] == sent.account_number.zfill(7)
        assert is_half_width_text(record["holder_name"])
