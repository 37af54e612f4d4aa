"""Account holder names into the Zengin half-width set."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.kana import (
    ZENGIN_CHARACTERS,
    ZenginCharacterError,
    encode_sjis_halfwidth,
    is_zengin_kana,
    to_zengin_kana,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # full-width katakana, voiced and semi-voiced
        ("ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ガギグゲゴ", "ｶﾞｷﾞｸﾞｹﾞｺﾞ"),
        ("パピプペポ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"),
        ("ヴ", "ｳﾞ"),
        # hiragana
        ("やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ぱ", "ﾊﾟ"),
        ("ゔ", "ｳﾞ"),
        # small kana become large ones: Zengin has no small kana
        ("キョウ", "ｷﾖｳ"),
        ("ガッコウ", "ｶﾞﾂｺｳ"),
        ("ァィゥェォャュョッ", "ｱｲｳｴｵﾔﾕﾖﾂ"),
        ("ぁぃぅぇぉゃゅょっ", "ｱｲｳｴｵﾔﾕﾖﾂ"),
        ("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ"),
        ("ヮヵヶ", "ﾜｶｹ"),
        ("ヲ", "ｵ"),
        ("を", "ｵ"),
        # the long vowel is not in the set: banks want a hyphen
        ("スーパー", "ｽ-ﾊﾟ-"),
        ("ｽｰﾊﾟｰ", "ｽ-ﾊﾟ-"),
        # letters and digits, full-width or not, upper-cased
        ("ＡＢＣ１２３", "ABC123"),
        ("ａｂｃ", "ABC"),
        ("abc xyz", "ABC XYZ"),
        ("Seed カミサカ", "SEED ｶﾐｻｶ"),
        # allowed punctuation, full-width or not
        ("カ)ヤマダ", "ｶ)ﾔﾏﾀﾞ"),
        ("（カ）ヤマダ", "(ｶ)ﾔﾏﾀﾞ"),
        ("ヤマダ.エ-ジ", "ﾔﾏﾀﾞ.ｴ-ｼﾞ"),
        ("Ａ／Ｂ，Ｃ．Ｄ－Ｅ", "A/B,C.D-E"),
        ("「ア」", "｢ｱ｣"),
        ("｢ｱ｣", "｢ｱ｣"),
        ("¥", "\\"),
        ("￥", "\\"),
        ("＼", "\\"),
        ("A\u2212B", "A-B"),  # minus sign
        # spaces
        ("ア　イ ウ", "ｱ ｲ ｳ"),
        # decomposed input (NFD, as macOS file names), and spacing voiced marks
        ("カ\u3099", "ｶﾞ"),
        ("ハ\u309a", "ﾊﾟ"),
        ("カ゛", "ｶﾞ"),
        # already converted text passes unchanged
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("", ""),
    ],
)
def test_to_zengin_kana(raw: str, expected: str) -> None:
    converted = to_zengin_kana(raw)
    assert converted == expected
    assert is_zengin_kana(converted)
    assert len(encode_sjis_halfwidth(converted)) == len(converted)


def test_every_katakana_and_hiragana_converts() -> None:
    katakana = "".join(chr(code) for code in range(0x30A1, 0x30F7))
    hiragana = "".join(chr(code) for code in range(0x3041, 0x3097))
    assert to_zengin_kana(hiragana) == to_zengin_kana(katakana)
    assert is_zengin_kana(to_zengin_kana(katakana))


@pytest.mark.parametrize(
    ("raw", "bad", "position"),
    [
        ("山田", "山", 0),
        ("ヤマダ・タロウ", "・", 3),
        ("ﾔﾏﾀﾞ･ﾀﾛｳ", "･", 4),
        ("A&B", "&", 1),
        ("ヤマダ😀", "😀", 3),
        ("ア\tイ", "\t", 1),
        ("ア\nイ", "\n", 1),
        ("A_B", "_", 1),
        ("A@B", "@", 1),
        ("ヽ", "ヽ", 0),
        ("ヷ", "ヷ", 0),
        ("Ä", "Ä", 0),
        ("。", "。", 0),
    ],
)
def test_unconvertible_characters_are_named(raw: str, bad: str, position: int) -> None:
    with pytest.raises(ZenginCharacterError) as caught:
        to_zengin_kana(raw)
    assert caught.value.char == bad
    assert caught.value.position == position
    assert f"U+{ord(bad):04X}" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        to_zengin_kana(123)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ﾔﾏﾀﾞ ﾀﾛｳ", True),
        ("ABC 123 ().-/,｢｣\\", True),
        ("", True),
        ("ヤマダ", False),  # full-width
        ("ｷｮｳ", False),  # small kana
        ("ｽｰﾊﾟｰ", False),  # long vowel
        ("ｦ", False),
        ("abc", False),  # lower case
        ("A&B", False),
        ("･", False),
    ],
)
def test_is_zengin_kana(text: str, expected: bool) -> None:
    assert is_zengin_kana(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ｱ", b"\xb1"),
        ("ﾝ", b"\xdd"),
        ("ｶﾞ", b"\xb6\xde"),
        ("ﾊﾟ", b"\xca\xdf"),
        ("｢｣", b"\xa2\xa3"),
        ("\\", b"\x5c"),
        ("A1 -", b"A1 -"),
    ],
)
def test_encode_sjis_halfwidth(text: str, expected: bytes) -> None:
    assert encode_sjis_halfwidth(text) == expected


@pytest.mark.parametrize("text", ["ア", "山", "\r", "\n", "é", "ＡＢ"])
def test_encode_refuses_anything_wider_than_one_byte(text: str) -> None:
    with pytest.raises(ValueError):
        encode_sjis_halfwidth(text)


def test_zengin_set_is_one_byte_per_character_in_shift_jis() -> None:
    for char in ZENGIN_CHARACTERS:
        assert len(char.encode("cp932")) == 1, char
        assert len(char.encode("shift_jis")) == 1, char


@given(st.text(max_size=40))
def test_conversion_is_total_or_names_the_culprit(text: str) -> None:
    try:
        converted = to_zengin_kana(text)
    except ZenginCharacterError as error:
        assert text[error.position] == error.char
        assert to_zengin_kana(text[: error.position]) is not None
        return
    assert is_zengin_kana(converted)
    assert to_zengin_kana(converted) == converted
    assert len(encode_sjis_halfwidth(converted)) == len(converted)


@given(st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3096), max_size=30))
def test_hiragana_always_converts(text: str) -> None:
    converted = to_zengin_kana(text)
    assert is_zengin_kana(converted)
    assert len(converted) >= len(text)
