"""Shapes shared by several routes' answers and queries (each declared once)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

Points = Annotated[int, Meta(ge=0, description="points (1 point = 1 yen)")]
JstTime = Annotated[str, Meta(description="JST, ISO-8601 with milliseconds and +09:00",
                              examples=["2026-11-20T12:00:00.000+09:00"])]
Cursor = Annotated[str, Meta(max_length=2048, description="opaque cursor from the previous page")]


# Query values are strings or absent, never null: optional strings default to "" (treated as absent)
# and optional numbers to UNSET (falsy), so that "?limit=null" is refused instead of read as absent.
Limit = Annotated[int, Meta(ge=1, le=200, description="rows per page")]


class PageQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cursor: Cursor = ""
    limit: Limit | UnsetType = UNSET


class Link(msgspec.Struct):
    """A presigned link to one file that expires."""

    url: str
    expires_at: JstTime
    rows: int | None = None
    filename: str | None = None


class Ok(msgspec.Struct):
    status: str = "ok"
