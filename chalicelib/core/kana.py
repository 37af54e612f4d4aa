"""Bank account names in the Zengin character set (half-width, one byte each).

Bank transfer files (全銀フォーマット) carry names in a restricted half-width set. The
set used here, after checking 全銀協-derived guidance published by banks and payroll
services, is:

- digits ``0``–``9`` and upper-case letters ``A``–``Z``;
- half-width katakana ``ｱ``–``ﾝ`` (U+FF71–U+FF9D) and the marks ``ﾞ`` ``ﾟ`` (a voiced
  kana is two characters: ``ｶﾞ``);
- space and the symbols ``( ) . - / , ｢ ｣ \\`` (``\\`` is byte 0x5C, printed as ``¥`` by
  banks).

Not in the set, and therefore converted or refused:

- small kana ``ｧｨｩｪｫｬｭｮｯ`` (and ヮヵヶ) become their large forms (``ｷﾖｳ`` for キョウ);
- ``ｦ``/ヲ becomes ``ｵ``, and the archaic ヰ ヱ become ``ｲ`` ``ｴ``;
- the long vowel ``ー``/``ｰ`` becomes ``-``: 0xB0 ``ｰ`` is not an allowed character,
  and banks ask for a hyphen in its place (``ｽ-ﾊﾟ-``);
- hiragana become katakana, full-width ASCII becomes half-width, lower case becomes
  upper case, a full-width space becomes a half-width space, ``「」`` become ``｢｣``,
  ``¥``/``￥`` become ``\\``, and the dash look-alikes ‐ ‑ ‒ – — ― − become ``-``;
- anything else (kanji, ``・``, ``&``, emoji, control characters, …) raises
  :class:`ZenginCharacterError`, a ``ValueError`` naming the character and its position.

Invariants: ``to_zengin_kana`` maps character by character, so its output satisfies
``is_zengin_kana`` and converting it again changes nothing; every character of the set
encodes to exactly one Shift_JIS byte. Leading and trailing spaces are kept; trimming is
the caller's policy.
"""

from __future__ import annotations

import unicodedata

ZENGIN_DIGITS = "0123456789"
ZENGIN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ZENGIN_KANA = "".join(chr(code) for code in range(0xFF71, 0xFF9E))  # ｱ … ﾝ
ZENGIN_MARKS = "\uff9e\uff9f"  # ﾞ ﾟ
ZENGIN_SYMBOLS = " ().-/,\uff62\uff63\\"  # ｢ ｣

ZENGIN_CHARACTERS: frozenset[str] = frozenset(
    ZENGIN_DIGITS + ZENGIN_LETTERS + ZENGIN_KANA + ZENGIN_MARKS + ZENGIN_SYMBOLS
)

_VOICED_MARK = "\uff9e"  # ﾞ
_SEMI_VOICED_MARK = "\uff9f"  # ﾟ


class ZenginCharacterError(ValueError):
    """A character that has no place in a Zengin bank file."""

    def __init__(self, char: str, position: int) -> None:
        self.char = char
        self.position = position
        name = unicodedata.name(char, "unnamed character")
        super().__init__(
            f"{char!r} (U+{ord(char):04X} {name}) at position {position} cannot be written in a Zengin bank file"
        )


def _build_table() -> dict[str, str]:
    table: dict[str, str] = {char: char for char in ZENGIN_CHARACTERS}

    for lower in "abcdefghijklmnopqrstuvwxyz":
        table[lower] = lower.upper()

    # Half-width kana outside the set, folded onto allowed ones.
    small_to_large = dict(zip("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ", strict=True))
    table.update(small_to_large)
    table["ｦ"] = "ｵ"
    table["ｰ"] = "-"

    # Full-width katakana: each half-width kana (U+FF66–U+FF9D) is the compatibility
    # form of one.
    for code in range(0xFF66, 0xFF9E):
        half = chr(code)
        table.setdefault(unicodedata.normalize("NFKC", half), table[half])
    # Voiced and semi-voiced katakana decompose into a base kana plus a combining mark.
    for code in range(0x30A1, 0x30F7):
        full = chr(code)
        decomposed = unicodedata.normalize("NFD", full)
        if len(decomposed) == 2 and decomposed[0] in table:
            mark = _VOICED_MARK if decomposed[1] == "\u3099" else _SEMI_VOICED_MARK
            table.setdefault(full, table[decomposed[0]] + mark)
    table.update({"ヮ": "ﾜ", "ヰ": "ｲ", "ヱ": "ｴ", "ヵ": "ｶ", "ヶ": "ｹ"})
    for mark, half_mark in (
        (
            "\u3099",
            _VOICED_MARK,
        ),  # combining voiced mark (NFD input, e.g. macOS file names)
        ("\u309b", _VOICED_MARK),  # ゛
        ("\u309a", _SEMI_VOICED_MARK),  # combining semi-voiced mark
        ("\u309c", _SEMI_VOICED_MARK),  # ゜
    ):
        table[mark] = half_mark

    # Hiragana ぁ…ゖ sit exactly 0x60 below their katakana.
    for code in range(0x3041, 0x3097):
        katakana = chr(code + 0x60)
        if katakana in table:
            table[chr(code)] = table[katakana]

    # Full-width ASCII (U+FF01–U+FF5E) sits 0xFEE0 above ASCII.
    for code in range(0xFF01, 0xFF5F):
        ascii_char = chr(code - 0xFEE0)
        if ascii_char in table:
            table[chr(code)] = table[ascii_char]

    table["\u3000"] = " "  # full-width space
    table["「"] = "\uff62"
    table["」"] = "\uff63"
    for yen in ("\u00a5", "\uffe5"):  # ¥ ￥
        table[yen] = "\\"
    for dash in (
        "ー",
        "\u2010",
        "\u2011",
        "\u2012",
        "\u2013",
        "\u2014",
        "\u2015",
        "\u2212",
    ):
        table[dash] = "-"
    return table


_TABLE = _build_table()


def to_zengin_kana(s: str) -> str:
    """``s`` in the Zengin half-width set; ``ZenginCharacterError`` if impossible."""
    if not isinstance(s, str):
        raise TypeError(f"expected str, got {type(s).__name__}")
    converted: list[str] = []
    for position, char in enumerate(s):
        replacement = _TABLE.get(char)
        if replacement is None:
            raise ZenginCharacterError(char, position)
        converted.append(replacement)
    return "".join(converted)


def is_zengin_kana(s: str) -> bool:
    """True when every character of ``s`` is in the Zengin set (also for ``""``)."""
    return isinstance(s, str) and all(char in ZENGIN_CHARACTERS for char in s)


def _is_single_byte_printable(char: str) -> bool:
    code = ord(char)
    return 0x20 <= code <= 0x7E or 0xFF61 <= code <= 0xFF9F


def encode_sjis_halfwidth(s: str) -> bytes:
    """Printable ASCII and half-width katakana as Shift_JIS (cp932), one byte each.

    Anything else, including control characters that would break a fixed-width record,
    raises ``ValueError`` naming the character.
    """
    for position, char in enumerate(s):
        if not _is_single_byte_printable(char):
            raise ValueError(
                f"{char!r} (U+{ord(char):04X}) at position {position} is not a half-width single-byte character"
            )
    encoded = s.encode("cp932")
    if len(encoded) != len(s):  # pragma: no cover - guarded by the check above
        raise ValueError(f"{s!r} did not encode to one byte per character")
    return encoded
