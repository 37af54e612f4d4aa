"""Decoding request input against its one declaration (a ``msgspec.Struct``).

A body or a query string either decodes completely into its Struct or raises ``InvalidRequest``
naming the offending field (``param``) with a Japanese message; nothing downstream sees a
half-checked value. Numbers in JSON must be JSON integers; numbers in query strings must be ASCII
digits (``²`` or ``٣`` are refused, never read as numbers).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from chalicelib.core.errors import InvalidRequest
from chalicelib.http.errors import UnsupportedMediaType

MAX_BODY_BYTES = 16 * 1024
T = TypeVar("T")

_AT = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<name>[^`]*)`")
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]*)`")
_EXPECTED = re.compile(r"Expected `(?P<type>[^`]*)`(?:, got `(?P<got>[^`]*)`)?(?P<rest>.*)$")
_TYPE_JA = {"int": "整数", "str": "文字列", "object": "オブジェクト", "array": "配列", "bool": "真偽値",
            "date": "YYYY-MM-DD 形式の日付"}


def _param(path: str) -> str | None:
    """``bank.bank_code`` from msgspec's ``$.bank.bank_code`` (``[0]`` indexes kept)."""
    return path or None


def _description(type_: Any, path: str) -> str:
    """The ``Meta(description=...)`` of the field at ``path`` (``bank.bank_code``), or ``""``."""
    current: Any = type_
    found = ""
    for part in path.split("."):
        if not (isinstance(current, type) and issubclass(current, msgspec.Struct)):
            return ""
        field = next((f for f in msgspec.structs.fields(current) if f.encode_name == part), None)
        if field is None:
            return ""
        current, found = _unwrap(field.type)
    return found


def _unwrap(annotation: Any) -> tuple[Any, str]:
    """(the Struct or plain type inside an annotation, its description)."""
    description = ""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        description = next((m.description for m in extras if isinstance(m, msgspec.Meta) and m.description), "")
        annotation = base
    for option in typing.get_args(annotation) or (annotation,):
        inner, inner_description = (option, "")
        if typing.get_origin(option) is typing.Annotated:
            inner, inner_description = _unwrap(option)
        if isinstance(inner, type) and issubclass(inner, msgspec.Struct):
            return inner, description or inner_description
        description = description or inner_description
    return annotation, description


def invalid_from(exc: msgspec.ValidationError, type_: Any = None) -> InvalidRequest:
    """A Japanese ``InvalidRequest`` from msgspec's message, naming the field (and what it should be,
    from the field's description)."""
    text = str(exc)
    at = _AT.search(text)
    path = at.group("path") if at else ""
    head = text[: at.start()] if at else text
    hint = _description(type_, path) if type_ is not None and path else ""
    if hint:
        error = invalid_from(exc)
        return InvalidRequest(f"{error.message.rstrip('。')}。({hint})", param=error.param)
    if m := _UNKNOWN.match(head):
        name = f"{path}.{m.group('name')}" if path else m.group("name")
        return InvalidRequest(f"不明な項目です: {name[:64]}", param=name[:64])
    if m := _MISSING.match(head):
        name = f"{path}.{m.group('name')}" if path else m.group("name")
        return InvalidRequest(f"{name} は必須です。", param=name)
    label = path or "リクエスト本文"
    if m := _EXPECTED.match(head):
        kind = m.group("type")
        rest = m.group("rest").strip()
        if kind == "int" and m.group("got"):
            return InvalidRequest(f"{label} は整数で指定してください(例: 500)。", param=_param(path))
        if kind == "int" and rest.startswith(">="):
            return InvalidRequest(f"{label} は {rest[2:].strip()} 以上にしてください。", param=_param(path))
        if kind == "int" and rest.startswith("<="):
            return InvalidRequest(f"{label} は {rest[2:].strip()} 以下にしてください。", param=_param(path))
        if kind == "str" and "length" in rest:
            return InvalidRequest(f"{label} の長さが正しくありません({rest})。", param=_param(path))
        if kind == "str" and "regex" in rest:
            return InvalidRequest(f"{label} の形式が正しくありません。", param=_param(path))
        if kind.startswith("date"):
            return InvalidRequest(f"{label} は YYYY-MM-DD 形式の日付にしてください。", param=_param(path))
        wanted = _TYPE_JA.get(kind, kind)
        return InvalidRequest(f"{label} は{wanted}で指定してください。", param=_param(path))
    if "date" in head:
        return InvalidRequest(f"{label} は YYYY-MM-DD 形式の日付にしてください。", param=_param(path))
    if "enum" in head.lower() or "Invalid enum value" in head:
        return InvalidRequest(f"{label} の値が正しくありません。", param=_param(path))
    return InvalidRequest(f"{label} が正しくありません。", param=_param(path))


def decode_json(raw: bytes | str | None, content_type: str | None, type_: type[T],
                max_bytes: int = MAX_BODY_BYTES) -> T:
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType()
    data = raw.encode("utf-8") if isinstance(raw, str) else (raw or b"")
    if len(data) > max_bytes:
        raise InvalidRequest(f"リクエストが大きすぎます(最大 {max_bytes} バイト)。")
    if not data.strip():
        raise InvalidRequest("リクエスト本文(JSON)がありません。")
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.ValidationError as exc:
        raise invalid_from(exc, type_) from None
    except (msgspec.DecodeError, RecursionError):
        raise InvalidRequest("リクエスト本文が正しいJSONではありません。") from None


def decode_query(params: Mapping[str, str] | None, type_: type[T]) -> T:
    """Query parameters into their Struct; unknown parameters are refused by the Struct."""
    try:
        return msgspec.convert(dict(params or {}), type_, strict=False)
    except msgspec.ValidationError as exc:
        raise invalid_from(exc, type_) from None


def encode(value: Any) -> bytes:
    return msgspec.json.encode(value)
