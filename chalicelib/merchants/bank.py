"""A merchant's bank account for payouts, validated once at registration (SPEC §7).

Invariants
----------
- ``bank_code`` is 4 ASCII digits, ``branch_code`` 3, ``account_number`` 7, all kept as
  strings so leading zeros survive (``"0001"`` is a real bank code).
- ``account_type`` is the int 1 (普通), 2 (当座) or 4 (貯蓄); ``bool`` and numeric
  strings are refused, as everywhere a JSON integer is expected.
- ``holder_kana`` is already in the Zengin half-width set, 1–30 characters, with no
  leading or trailing spaces: what is stored is exactly what goes into the transfer
  file.
- A ``BankAccount`` cannot be built in an invalid state (``ValueError``); request input
  goes through :func:`bank_account`, which converts the holder name and reports the first
  problem as ``InvalidRequest`` with ``param="bank.<field>"`` and a Japanese message a
  person can act on.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from chalicelib.core.errors import InvalidRequest
from chalicelib.core.kana import ZenginCharacterError, is_zengin_kana, to_zengin_kana

ACCOUNT_TYPES: dict[int, str] = {1: "普通", 2: "当座", 4: "貯蓄"}
HOLDER_KANA_MAX_CHARS = 30

_DIGIT_FIELDS: dict[str, tuple[int, str]] = {
    "bank_code": (4, "金融機関コード"),
    "branch_code": (3, "支店コード"),
    "account_number": (7, "口座番号"),
}


def _digits_problem(field: str, value: object) -> str | None:
    width, label = _DIGIT_FIELDS[field]
    if not isinstance(value, str) or re.fullmatch(f"[0-9]{{{width}}}", value) is None:
        return f"{label}は半角数字{width}桁の文字列で指定してください。"
    return None


def _account_type_problem(value: object) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or value not in ACCOUNT_TYPES:
        return "預金種目は 1（普通）、2（当座）、4（貯蓄）のいずれかの数値で指定してください。"
    return None


def _holder_problem(value: str) -> str | None:
    """For an already-converted name."""
    if not value.strip():
        return "口座名義（カナ）を入力してください。"
    if value != value.strip(" "):
        return "口座名義（カナ）の前後に空白は入れられません。"
    if not is_zengin_kana(value):
        return "口座名義（カナ）に振込で使えない文字が含まれています。"
    if len(value) > HOLDER_KANA_MAX_CHARS:
        return (
            f"口座名義（カナ）は半角{HOLDER_KANA_MAX_CHARS}文字以内にしてください"
            f"（濁点・半濁点も1文字と数えます。現在{len(value)}文字）。"
        )
    return None


class BankAccount(msgspec.Struct, frozen=True):
    bank_code: str
    branch_code: str
    account_type: int
    account_number: str
    holder_kana: str

    def __post_init__(self) -> None:
        problems = [
            _digits_problem("bank_code", self.bank_code),
            _digits_problem("branch_code", self.branch_code),
            _account_type_problem(self.account_type),
            _digits_problem("account_number", self.account_number),
            (
                _holder_problem(self.holder_kana)
                if isinstance(self.holder_kana, str)
                else "口座名義（カナ）は文字列で指定してください。"
            ),
        ]
        found = [problem for problem in problems if problem is not None]
        if found:
            raise ValueError("invalid bank account: " + " ".join(found))

    @property
    def account_type_name(self) -> str:
        return ACCOUNT_TYPES[self.account_type]

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank_code": self.bank_code,
            "branch_code": self.branch_code,
            "account_type": self.account_type,
            "account_number": self.account_number,
            "holder_kana": self.holder_kana,
        }


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, param=f"bank.{field}")


def bank_account(*, bank_code: str, branch_code: str, account_type: int, account_number: str,
                 holder_kana: str) -> BankAccount:
    """A ``BankAccount`` from typed input (the request body already checked the shapes of the codes);
    else ``InvalidRequest`` naming ``bank.<field>``.

    The holder name is converted with :func:`to_zengin_kana` (so ``ヤマダ　タロウ`` is accepted and
    stored as ``ﾔﾏﾀﾞ ﾀﾛｳ``) and stripped of surrounding spaces before its length is checked.
    """
    for field, value in (("bank_code", bank_code), ("branch_code", branch_code), ("account_number", account_number)):
        problem = _digits_problem(field, value)
        if problem:
            raise _invalid(field, problem)
    problem = _account_type_problem(account_type)
    if problem:
        raise _invalid("account_type", problem)
    try:
        holder = to_zengin_kana(holder_kana).strip(" ")
    except ZenginCharacterError as exc:
        shown = exc.char if exc.char.isprintable() else f"U+{ord(exc.char):04X}"
        raise _invalid(
            "holder_kana",
            f"口座名義（カナ）に振込で使えない文字「{shown}」が含まれています"
            f"（{exc.position + 1}文字目）。"
            "カタカナ・英数字・一部の記号で入力してください。",
        ) from exc
    problem = _holder_problem(holder)
    if problem:
        raise _invalid("holder_kana", problem)
    return BankAccount(bank_code=bank_code, branch_code=branch_code, account_type=account_type,
                       account_number=account_number, holder_kana=holder)
