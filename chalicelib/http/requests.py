"""Parsing and validating request input at the edge: bodies, query strings, headers.

A request either parses completely into plain typed values or raises ``InvalidRequest`` naming
the offending parameter; nothing downstream sees a half-validated body.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from chalicelib.core.errors import InvalidRequest
from chalicelib.core.points import is_points
from chalicelib.http.errors import UnsupportedMediaType

MAX_BODY_BYTES = 16 * 1024


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def parse_json_object(
    raw: bytes | str | None,
    content_type: str | None,
    *,
    allowed: Collection[str],
    required: Collection[str] = (),
    max_bytes: int = MAX_BODY_BYTES,
) -> dict[str, Any]:
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType()
    data = raw.encode("utf-8") if isinstance(raw, str) else (raw or b"")
    if len(data) > max_bytes:
        raise InvalidRequest(f"リクエストが大きすぎます(最大 {max_bytes} バイト)。")
    if not data.strip():
        raise InvalidRequest("リクエスト本文(JSON)がありません。")
    try:
        body = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest("リクエスト本文が正しいJSONではありません。") from None
    if not isinstance(body, dict):
        raise InvalidRequest("リクエスト本文はJSONオブジェクトにしてください。")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InvalidRequest(f"不明な項目です: {unknown[0]}", param=unknown[0])
    for name in required:
        if name not in body:
            raise InvalidRequest(f"{name} は必須です。", param=name)
    return body


def points_value(value: Any, param: str, *, maximum: int, minimum: int = 1) -> int:
    """A JSON integer amount: rejects float (500.0), string ("500"), bool, zero, negatives, > maximum."""
    if not is_points(value):
        raise InvalidRequest(f"{param} は整数で指定してください(例: 500)。", param=param)
    if value < minimum:
        raise InvalidRequest(f"{param} は {minimum} 以上にしてください。", param=param)
    if value > maximum:
        raise InvalidRequest(f"{param} は {maximum:,} 以下にしてください。", param=param)
    return int(value)


def string_value(value: Any, param: str, *, min_len: int = 1, max_len: int = 255) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{param} は文字列で指定してください。", param=param)
    if not min_len <= len(value) <= max_len:
        raise InvalidRequest(f"{param} は {min_len}〜{max_len} 文字にしてください。", param=param)
    if not value.isprintable():
        raise InvalidRequest(f"{param} に使えない文字が含まれています。", param=param)
    return value


def query_params(
    raw: Mapping[str, str] | None, *, allowed: Collection[str]
) -> dict[str, str]:
    params = dict(raw or {})
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InvalidRequest(f"不明なパラメータです: {unknown[0]}", param=unknown[0])
    return params


def limit_param(raw: str | None, *, default: int = 50, maximum: int = 200) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise InvalidRequest(f"limit は 1〜{maximum} の整数にしてください。", param="limit")
    return int(raw)
