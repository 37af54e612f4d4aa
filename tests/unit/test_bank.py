"""Merchant bank account validation at registration: the request body's declaration checks the
shapes, :func:`bank_account` converts and checks the holder name."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.errors import InvalidRequest
from chalicelib.http.bodies import decode_json
from chalicelib.http.routes.merchants import RegisterBody
from chalicelib.merchants.bank import BankAccount, bank_account


def parse_bank_account(raw: object) -> BankAccount:
    """What registration does with the ``bank`` member of its body."""
    import json

    body = decode_json(json.dumps({"name_ja": "店", "name_en": "SHOP", "bank": raw}), "application/json",
                       RegisterBody)
    b = body.bank
    return bank_account(bank_code=b.bank_code, branch_code=b.branch_code, account_type=b.account_type,
                        account_number=b.account_number, holder_kana=b.holder_kana)


def valid(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": 1,
        "account_number": "1234567",
        "holder_kana": "ヤマダ　タロウ",
    }
    raw.update(overrides)
    return raw


def test_parses_and_converts_the_holder_name() -> None:
    account = parse_bank_account(valid())
    assert account == BankAccount("0001", "001", 1, "1234567", "ﾔﾏﾀﾞ ﾀﾛｳ")
    assert account.account_type_name == "普通"
    assert account.to_dict() == {
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": 1,
        "account_number": "1234567",
        "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ",
    }
    assert parse_bank_account(account.to_dict()) == account


@pytest.mark.parametrize(
    ("overrides", "holder"),
    [
        ({"account_type": 2}, "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ({"account_type": 4}, "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ({"holder_kana": "  ｶ)ｵﾅｶﾞﾜｼｮｳﾃﾝ  "}, "ｶ)ｵﾅｶﾞﾜｼﾖｳﾃﾝ"),
        ({"holder_kana": "かぶしきがいしゃ　おながわ"}, "ｶﾌﾞｼｷｶﾞｲｼﾔ ｵﾅｶﾞﾜ"),
        ({"holder_kana": "ｱ" * 30}, "ｱ" * 30),
        # 15 voiced kana are 30 half-width characters: exactly at the limit
        ({"holder_kana": "ガ" * 15}, "ｶﾞ" * 15),
    ],
)
def test_accepted_variants(overrides: dict[str, Any], holder: str) -> None:
    account = parse_bank_account(valid(**overrides))
    assert account.holder_kana == holder
    assert account.account_type == overrides.get("account_type", 1)


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        # not an object at all
        (None, "bank"),
        ([], "bank"),
        ("0001", "bank"),
        # unknown and missing keys
        (valid(swift="X"), "bank.swift"),
        ({k: v for k, v in valid().items() if k != "bank_code"}, "bank.bank_code"),
        ({k: v for k, v in valid().items() if k != "holder_kana"}, "bank.holder_kana"),
        # bank code: exactly 4 ASCII digits, as a string
        (valid(bank_code="001"), "bank.bank_code"),
        (valid(bank_code="00011"), "bank.bank_code"),
        (valid(bank_code=1), "bank.bank_code"),
        (valid(bank_code="０００１"), "bank.bank_code"),
        (valid(bank_code="00a1"), "bank.bank_code"),
        (valid(bank_code=" 001"), "bank.bank_code"),
        # branch code: 3 digits
        (valid(branch_code="01"), "bank.branch_code"),
        (valid(branch_code="0001"), "bank.branch_code"),
        (valid(branch_code=None), "bank.branch_code"),
        # account type: int 1, 2 or 4 only
        (valid(account_type=3), "bank.account_type"),
        (valid(account_type=9), "bank.account_type"),
        (valid(account_type=0), "bank.account_type"),
        (valid(account_type="1"), "bank.account_type"),
        (valid(account_type=True), "bank.account_type"),
        (valid(account_type=1.0), "bank.account_type"),
        # account number: 7 digits
        (valid(account_number="123456"), "bank.account_number"),
        (valid(account_number="12345678"), "bank.account_number"),
        (valid(account_number=1234567), "bank.account_number"),
        (valid(account_number="123-567"), "bank.account_number"),
        # holder name
        (valid(holder_kana="山田太郎"), "bank.holder_kana"),
        (valid(holder_kana="ヤマダ・タロウ"), "bank.holder_kana"),
        (valid(holder_kana=""), "bank.holder_kana"),
        (valid(holder_kana="　 "), "bank.holder_kana"),
        (valid(holder_kana="ｱ" * 31), "bank.holder_kana"),
        (valid(holder_kana="ガ" * 16), "bank.holder_kana"),  # 32 after conversion
        (valid(holder_kana=["ヤマダ"]), "bank.holder_kana"),
        (valid(holder_kana=None), "bank.holder_kana"),
    ],
)
def test_rejected_with_the_offending_param(raw: object, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_bank_account(raw)
    assert caught.value.param == param
    assert caught.value.code == "invalid_request"
    # the message is for a person, in Japanese
    assert any("\u3040" <= char <= "\u30ff" for char in caught.value.message)


def test_the_offending_character_is_named() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_bank_account(valid(holder_kana="ヤマダ・タロウ"))
    assert "「・」" in caught.value.message
    assert "4文字目" in caught.value.message


def test_length_message_counts_half_width_characters() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_bank_account(valid(holder_kana="ガ" * 16))
    assert "32文字" in caught.value.message


@pytest.mark.parametrize(
    "fields",
    [
        ("001", "001", 1, "1234567", "ﾔﾏﾀﾞ"),
        ("0001", "001", 3, "1234567", "ﾔﾏﾀﾞ"),
        ("0001", "001", True, "1234567", "ﾔﾏﾀﾞ"),
        ("0001", "001", 1, "123456", "ﾔﾏﾀﾞ"),
        ("0001", "001", 1, "1234567", "ヤマダ"),  # not converted
        ("0001", "001", 1, "1234567", " ﾔﾏﾀﾞ"),  # untrimmed
        ("0001", "001", 1, "1234567", ""),
    ],
)
def test_an_invalid_account_cannot_be_built(fields: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        BankAccount(*fields)
