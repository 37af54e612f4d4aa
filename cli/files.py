"""Local files: the CSVs an operator hands in and the files the CLI saves.

A file that cannot be read or written is an expected failure (:class:`~cli.client.CliError`),
not a stack trace.
"""

from __future__ import annotations

from pathlib import Path

from cli.client import CliError
from cli.output import err, out


def read_csv_text(path: str | Path) -> str:
    """The file's text: UTF-8 (with or without a BOM) first, else Shift_JIS (cp932), with a note."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"ファイルを読めません / cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")  # a BOM stays in the text; parse_bulk_csv drops it
    except UnicodeDecodeError:
        pass
    try:
        # Excel's "CSV" in Japanese Windows is Shift_JIS (cp932); "CSV UTF-8" is the other choice.
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        raise CliError(
            f"{path} を UTF-8 でも Shift_JIS でも読めません / {path} is neither UTF-8 nor Shift_JIS") from None
    err(f"注意: {path} を Shift_JIS として読みました / note: read {path} as Shift_JIS (cp932)")
    return text


def write_file(path: str | Path, data: bytes, what: str) -> None:
    """Save ``data`` (creating missing folders) and say so; ``what`` names it in Japanese."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        raise CliError(f"{what}を保存できません / cannot write {path}: {exc.strerror or exc}") from None
    out(f"{what}を保存しました / saved {path} ({len(data):,} bytes)")
