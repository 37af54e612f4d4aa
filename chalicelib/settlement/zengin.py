"""Writer for the Zengin 総合振込 file (種別コード 21) that the bank pays out from.

Invariants
----------
- The file is a header record (データ区分 1), one data record (2) per transfer, a
  trailer (8) and an end record (9). Every record is exactly 120 bytes followed by CRLF;
  the layouts below are checked to add up to 120 when this module is imported.
- Encoding is Shift_JIS with half-width characters only (JIS X 0201: ASCII and
  half-width katakana), one byte per character, so byte offsets equal character offsets.
  Text fields must already be in the Zengin set (:mod:`chalicelib.core.kana`); the
  writer validates, it never converts, so what the operator checked is what the bank
  receives.
- Numeric fields are ASCII digits, right-aligned and zero-padded; text fields are
  left-aligned and space-padded; fields the file does not use (ダミー, 手形交換所番号)
  are spaces. Nothing is truncated: a value too long for its field raises
  ``ValueError``.
- Amounts are ``int`` yen (= points), 1 to 9,999,999,999 per transfer; the trailer's
  count and total are computed from the data records written, never passed in. A file
  with no transfer is refused: the bank would reject it, and a period with no payout
  needs no file.

Fields written with fixed values: コード区分 ``0`` (JIS/Shift_JIS), 新規コード ``0``
(その他), 顧客コード2 / 振込指定区分 / 識別表示 blank (no EDI information; the bank's
default transfer method). 顧客コード1 is blank unless given, then at most 10 digits,
zero-padded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from chalicelib.core.kana import encode_sjis_halfwidth, is_zengin_kana

RECORD_LENGTH = 120
RECORD_SEPARATOR = b"\r\n"
TRANSFER_TYPE_CODE = "21"  # 総合振込
CODE_KIND_JIS = "0"
NEW_CODE_OTHER = "0"

MAX_TRANSFER_AMOUNT = 9_999_999_999  # 10 digits
MAX_TOTAL_AMOUNT = 999_999_999_999  # 12 digits in the trailer
MAX_TRANSFER_COUNT = 999_999  # 6 digits in the trailer

ACCOUNT_TYPES = frozenset({1, 2, 4, 9})  # 普通, 当座, 貯蓄, その他

Kind = Literal["N", "C"]


class _Field(NamedTuple):
    name: str
    width: int
    kind: Kind  # N: digits, right-aligned, zero-padded; C: half-width text, left-aligned


HEADER_LAYOUT: tuple[_Field, ...] = (
    _Field("data_kind", 1, "N"),  # データ区分 = 1
    _Field("type_code", 2, "N"),  # 種別コード = 21
    _Field("code_kind", 1, "N"),  # コード区分 = 0
    _Field("requester_code", 10, "N"),  # 依頼人コード (委託者コード)
    _Field("requester_name", 40, "C"),  # 依頼人名
    _Field("transfer_mmdd", 4, "N"),  # 取組日 MMDD
    _Field("bank_code", 4, "N"),  # 仕向銀行番号
    _Field("bank_name", 15, "C"),  # 仕向銀行名
    _Field("branch_code", 3, "N"),  # 仕向支店番号
    _Field("branch_name", 15, "C"),  # 仕向支店名
    _Field("account_type", 1, "N"),  # 預金種目 (依頼人)
    _Field("account_number", 7, "N"),  # 口座番号 (依頼人)
    _Field("dummy", 17, "C"),  # ダミー
)

DATA_LAYOUT: tuple[_Field, ...] = (
    _Field("data_kind", 1, "N"),  # データ区分 = 2
    _Field("bank_code", 4, "N"),  # 被仕向銀行番号
    _Field("bank_name", 15, "C"),  # 被仕向銀行名
    _Field("branch_code", 3, "N"),  # 被仕向支店番号
    _Field("branch_name", 15, "C"),  # 被仕向支店名
    _Field("clearing_house", 4, "C"),  # 手形交換所番号 (unused: spaces)
    _Field("account_type", 1, "N"),  # 預金種目
    _Field("account_number", 7, "N"),  # 口座番号
    _Field("holder_name", 30, "C"),  # 受取人名
    _Field("amount", 10, "N"),  # 振込金額
    _Field("new_code", 1, "N"),  # 新規コード
    _Field("customer_code1", 10, "C"),  # 顧客コード1 (digits when given, else spaces)
    _Field("customer_code2", 10, "C"),  # 顧客コード2
    _Field("transfer_method", 1, "C"),  # 振込指定区分
    _Field("edi_flag", 1, "C"),  # 識別表示
    _Field("dummy", 7, "C"),  # ダミー
)

TRAILER_LAYOUT: tuple[_Field, ...] = (
    _Field("data_kind", 1, "N"),  # データ区分 = 8
    _Field("count", 6, "N"),  # 合計件数
    _Field("total", 12, "N"),  # 合計金額
    _Field("dummy", 101, "C"),  # ダミー
)

END_LAYOUT: tuple[_Field, ...] = (
    _Field("data_kind", 1, "N"),  # データ区分 = 9
    _Field("dummy", 119, "C"),  # ダミー
)

for _layout in (HEADER_LAYOUT, DATA_LAYOUT, TRAILER_LAYOUT, END_LAYOUT):
    if sum(field.width for field in _layout) != RECORD_LENGTH:  # pragma: no cover - layout bug
        raise AssertionError(f"Zengin layout is not {RECORD_LENGTH} bytes: {_layout}")


@dataclass(frozen=True)
class ZenginOriginator:
    """The operator's own account, from configuration (依頼人 = 商工会)."""

    requester_code: str  # 依頼人コード, 10 digits, assigned by the bank
    requester_name_kana: str  # ≤ 40 half-width characters
    bank_code: str  # 4 digits
    bank_name_kana: str  # ≤ 15, may be ""
    branch_code: str  # 3 digits
    branch_name_kana: str  # ≤ 15, may be ""
    account_type: int  # 1 普通, 2 当座, 4 貯蓄, 9 その他
    account_number: str  # up to 7 digits, zero-padded


@dataclass(frozen=True)
class ZenginTransfer:
    """One payout to one merchant."""

    bank_code: str  # 4 digits
    bank_name_kana: str  # ≤ 15, may be "" when unknown
    branch_code: str  # 3 digits
    branch_name_kana: str  # ≤ 15, may be "" when unknown
    account_type: int  # 1 普通, 2 当座, 4 貯蓄, 9 その他
    account_number: str  # up to 7 digits, zero-padded
    holder_kana: str  # ≤ 30, Zengin set
    amount: int  # yen (= points), 1 … 9,999,999,999
    customer_code1: str = ""  # up to 10 digits, or "" for none


def _code(value: object, width: int, where: str, *, exact: bool) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise ValueError(f"{where}: expected ASCII digits, got {value!r}")
    if len(value) > width or (exact and len(value) != width):
        expected = f"exactly {width}" if exact else f"at most {width}"
        raise ValueError(f"{where}: expected {expected} digits, got {len(value)} ({value!r})")
    return value


def _account_type(value: object, where: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value not in ACCOUNT_TYPES:
        raise ValueError(f"{where}: account type must be one of {sorted(ACCOUNT_TYPES)}, got {value!r}")
    return str(value)


def _text(value: object, width: int, where: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected str, got {type(value).__name__}")
    if required and not value.strip(" "):
        raise ValueError(f"{where}: must not be blank")
    if not is_zengin_kana(value):
        bad = next(char for char in value if not is_zengin_kana(char))
        raise ValueError(
            f"{where}: {bad!r} (U+{ord(bad):04X}) is not a Zengin half-width "
            "character; convert with to_zengin_kana() first"
        )
    if len(value) > width:
        raise ValueError(f"{where}: {len(value)} characters, at most {width} fit ({value!r})")
    return value


def _amount(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{where}: amount must be int yen, got {type(value).__name__}")
    if not 1 <= value <= MAX_TRANSFER_AMOUNT:
        raise ValueError(f"{where}: amount must be 1..{MAX_TRANSFER_AMOUNT:,} yen, got {value:,}")
    return value


def _render(layout: tuple[_Field, ...], values: Mapping[str, str]) -> bytes:
    parts: list[str] = []
    for field in layout:
        value = values.get(field.name, "")
        if len(value) > field.width:  # pragma: no cover - validated before rendering
            raise ValueError(f"{field.name}: {value!r} longer than {field.width}")
        if field.kind == "N":
            parts.append(value.rjust(field.width, "0"))
        else:
            parts.append(value.ljust(field.width, " "))
    record = encode_sjis_halfwidth("".join(parts))
    if len(record) != RECORD_LENGTH:  # pragma: no cover - guaranteed by layout and validation
        raise AssertionError(f"record is {len(record)} bytes, not {RECORD_LENGTH}")
    return record + RECORD_SEPARATOR


def _header(originator: ZenginOriginator, transfer_date: dt.date) -> bytes:
    where = "originator"
    return _render(
        HEADER_LAYOUT,
        {
            "data_kind": "1",
            "type_code": TRANSFER_TYPE_CODE,
            "code_kind": CODE_KIND_JIS,
            "requester_code": _code(originator.requester_code, 10, f"{where}.requester_code", exact=True),
            "requester_name": _text(
                originator.requester_name_kana,
                40,
                f"{where}.requester_name_kana",
                required=True,
            ),
            "transfer_mmdd": f"{transfer_date.month:02d}{transfer_date.day:02d}",
            "bank_code": _code(originator.bank_code, 4, f"{where}.bank_code", exact=True),
            "bank_name": _text(originator.bank_name_kana, 15, f"{where}.bank_name_kana"),
            "branch_code": _code(originator.branch_code, 3, f"{where}.branch_code", exact=True),
            "branch_name": _text(originator.branch_name_kana, 15, f"{where}.branch_name_kana"),
            "account_type": _account_type(originator.account_type, f"{where}.account_type"),
            "account_number": _code(originator.account_number, 7, f"{where}.account_number", exact=False),
        },
    )


def _data(transfer: ZenginTransfer, index: int) -> tuple[bytes, int]:
    where = f"transfers[{index}]"
    amount = _amount(transfer.amount, f"{where}.amount")
    customer_code1 = transfer.customer_code1
    if customer_code1 != "":
        customer_code1 = _code(customer_code1, 10, f"{where}.customer_code1", exact=False).rjust(10, "0")
    record = _render(
        DATA_LAYOUT,
        {
            "data_kind": "2",
            "bank_code": _code(transfer.bank_code, 4, f"{where}.bank_code", exact=True),
            "bank_name": _text(transfer.bank_name_kana, 15, f"{where}.bank_name_kana"),
            "branch_code": _code(transfer.branch_code, 3, f"{where}.branch_code", exact=True),
            "branch_name": _text(transfer.branch_name_kana, 15, f"{where}.branch_name_kana"),
            "account_type": _account_type(transfer.account_type, f"{where}.account_type"),
            "account_number": _code(transfer.account_number, 7, f"{where}.account_number", exact=False),
            "holder_name": _text(transfer.holder_kana, 30, f"{where}.holder_kana", required=True),
            "amount": str(amount),
            "new_code": NEW_CODE_OTHER,
            "customer_code1": customer_code1,
        },
    )
    return record, amount


def write_zengin(
    originator: ZenginOriginator,
    transfers: Iterable[ZenginTransfer],
    transfer_date: dt.date,
) -> bytes:
    """The whole 総合振込 file for ``transfers``, paid on ``transfer_date`` (取組日).

    Raises ``ValueError`` for an amount outside 1..9,999,999,999, a code that is not the
    right number of digits, a text field too long or not in the Zengin half-width set,
    no transfers at all, or totals beyond what the trailer can hold; ``TypeError`` for a
    non-int amount.
    """
    if isinstance(transfer_date, dt.datetime) or not isinstance(transfer_date, dt.date):
        raise TypeError("transfer_date must be a calendar date (JST), not a datetime")
    records = [_header(originator, transfer_date)]
    count = 0
    total = 0
    for index, transfer in enumerate(transfers):
        record, amount = _data(transfer, index)
        records.append(record)
        count += 1
        total += amount
    if count == 0:
        raise ValueError("no transfers: a Zengin file needs at least one data record")
    if count > MAX_TRANSFER_COUNT:
        raise ValueError(f"{count:,} transfers, at most {MAX_TRANSFER_COUNT:,} fit in one file")
    if total > MAX_TOTAL_AMOUNT:
        raise ValueError(f"total {total:,} yen exceeds the trailer's {MAX_TOTAL_AMOUNT:,}")
    records.append(_render(TRAILER_LAYOUT, {"data_kind": "8", "count": str(count), "total": str(total)}))
    records.append(_render(END_LAYOUT, {"data_kind": "9"}))
    return b"".join(records)
