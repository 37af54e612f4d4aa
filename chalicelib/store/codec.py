"""Plain Python values <-> DynamoDB attribute values.

Numbers are integers only: points, versions and counters are ``int``, and a stored number with a
fraction is a corrupted record, so decoding it raises instead of rounding. Timestamps are stored as
fixed-width UTC strings (see ``core.clock.utc_key``), which also sort correctly inside keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AttributeValue = dict[str, Any]


def to_av(value: Any) -> AttributeValue:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_av(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_av(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB (points are int, never float)")


def from_av(av: AttributeValue) -> Any:
    (kind, raw), = av.items()
    if kind == "S":
        return raw
    if kind == "N":
        if not raw.lstrip("-").isdigit():
            raise ValueError(f"non-integer number in store: {raw!r}")
        return int(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_av(v) for k, v in raw.items()}
    if kind == "L":
        return [from_av(v) for v in raw]
    if kind == "B":
        return bytes(raw)
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {int(x) for x in raw}
    raise ValueError(f"unsupported attribute type {kind}")


def encode_item(item: Mapping[str, Any]) -> dict[str, AttributeValue]:
    return {k: to_av(v) for k, v in item.items() if v is not None}


def decode_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    return {k: from_av(v) for k, v in item.items()}


def encode_values(values: Mapping[str, Any]) -> dict[str, AttributeValue]:
    return {k: to_av(v) for k, v in values.items()}
