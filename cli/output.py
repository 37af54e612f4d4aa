"""Printing: results on stdout, progress, notes and errors on stderr, so stdout can be piped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click


def out(text: str = "") -> None:
    click.echo(text)


def err(text: str) -> None:
    click.echo(text, err=True)


def print_fields(fields: Sequence[tuple[str, Any]]) -> None:
    """``key  value`` lines, the keys padded to one width (tests and scripts read them by key)."""
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        out(f"  {key.ljust(width)}  {value}")
