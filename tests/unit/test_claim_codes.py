"""Claim code format: every single substitution and every adjacent transposition is caught, input is
read the way people type it, and codes are derived from the key, the batch and the index only."""

from __future__ import annotations

import pytest

from chalicelib.core.ids import CROCKFORD
from chalicelib.payments import claim_codes as cc

KEY = "q" * 40
SAMPLES = [cc.derive(KEY, "B1", i) for i in range(40)] + [cc.derive("another-key-" * 4, "X", 7),
                                                           "000000000000000" + cc.check_symbol("0" * 15)]


def test_weights_are_distinct_and_nonzero() -> None:
    assert len(set(cc.WEIGHTS)) == cc.CODE_LENGTH
    assert 0 not in cc.WEIGHTS and cc.WEIGHTS[-1] == 1


def test_field_multiplication_has_inverses() -> None:
    for a in range(1, 32):
        assert sorted(cc.gf_mul(a, b) for b in range(1, 32)) == list(range(1, 32))


@pytest.mark.parametrize("code", SAMPLES)
def test_sample_codes_are_valid_and_well_formed(code: str) -> None:
    assert len(code) == 16 and all(ch in CROCKFORD for ch in code)
    assert cc.is_valid(code)


@pytest.mark.parametrize("code", SAMPLES)
def test_every_single_substitution_is_caught(code: str) -> None:
    for position in range(cc.CODE_LENGTH):
        for symbol in CROCKFORD:
            if symbol != code[position]:
                typo = code[:position] + symbol + code[position + 1:]
                assert not cc.is_valid(typo), (code, position, symbol)


@pytest.mark.parametrize("code", SAMPLES)
def test_every_adjacent_transposition_is_caught(code: str) -> None:
    for position in range(cc.CODE_LENGTH - 1):
        a, b = code[position], code[position + 1]
        if a != b:
            swapped = code[:position] + b + a + code[position + 2:]
            assert not cc.is_valid(swapped), (code, position)


def test_every_adjacent_transposition_of_every_symbol_pair_is_caught() -> None:
    # exhaustive over the alphabet: any pair of different symbols at any adjacent positions
    base = SAMPLES[0]
    for position in range(cc.CODE_LENGTH - 1):
        for a in CROCKFORD:
            for b in CROCKFORD:
                if a == b:
                    continue
                body = base[:position] + a + b + base[position + 2:]
                body = body[:15]
                code = body + cc.check_symbol(body) if position < 14 else base[:14] + a + b
                if not cc.is_valid(code):
                    continue
                swapped = code[:position] + b + a + code[position + 2:]
                assert not cc.is_valid(swapped)


def test_display_groups_by_four() -> None:
    code = SAMPLES[0]
    shown = cc.display(code)
    assert shown == f"{code[0:4]}-{code[4:8]}-{code[8:12]}-{code[12:16]}"


@pytest.mark.parametrize("typed", [
    "{lower}", "{grouped}", "{grouped_lower}", " {spaced} ", "{fullwidth}", "{fullwidth_hyphens}",
    "{nohyphen_spaces}", "{long_dash}",
])
def test_input_ignores_case_spaces_hyphens_and_full_width(typed: str) -> None:
    code = SAMPLES[1]
    shown = cc.display(code)
    forms = {
        "lower": code.lower(),
        "grouped": shown,
        "grouped_lower": shown.lower(),
        "spaced": " ".join(shown.split("-")),
        "fullwidth": "".join(chr(ord(ch) + 0xFEE0) for ch in code),
        "fullwidth_hyphens": shown.replace("-", "－"),
        "nohyphen_spaces": "\u3000".join(shown.split("-")),
        "long_dash": shown.replace("-", "ー"),
    }
    assert cc.parse(typed.format(**forms)) == code


def test_i_l_read_as_one_and_o_as_zero() -> None:
    code = next(c for c in SAMPLES if "1" in c and "0" in c)
    typed = code.replace("1", "l").replace("0", "O")
    assert cc.parse(typed) == code
    assert cc.parse(code.replace("1", "I")) == code


@pytest.mark.parametrize("text", ["", "ABC", "U" * 16, SAMPLES[0] + "0", SAMPLES[0][:15], "!!!!-!!!!-!!!!-!!!!"])
def test_malformed_input_is_not_a_code(text: str) -> None:
    assert cc.parse(text) is None


def test_codes_depend_on_key_batch_and_index_only() -> None:
    assert cc.derive(KEY, "B1", 3) == cc.derive(KEY, "B1", 3)
    codes = {cc.derive(KEY, "B1", i) for i in range(1000)}
    assert len(codes) == 1000
    assert cc.derive(KEY, "B2", 3) != cc.derive(KEY, "B1", 3)
    assert cc.derive("k" * 40, "B1", 3) != cc.derive(KEY, "B1", 3)


def test_the_stored_hash_is_keyed_and_reveals_no_code() -> None:
    code = SAMPLES[0]
    h = cc.code_hash(KEY, code)
    assert h == cc.code_hash(KEY, code) and h != cc.code_hash("k" * 40, code)
    assert code not in h and code.lower() not in h
