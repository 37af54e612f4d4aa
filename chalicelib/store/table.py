"""A thin, typed wrapper around one DynamoDB table through the low-level boto3 client.

Adapters above this module speak in plain dicts and domain errors; this module is where botocore's
``ClientError`` becomes :class:`ConditionFailed` / :class:`TransactionConflict`. The low-level client
is used (not the resource API, not an ORM) so that a payment costs exactly the requests we write.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.store.codec import decode_item, encode_item, encode_values


def backoff_seconds(attempt: int, cap: float = 0.2) -> float:
    """Jittered exponential wait before retrying an optimistic write that lost a race."""
    return float(min(cap, 0.002 * 2.0 ** min(attempt, 6)) * random.random())


class StoreError(Exception):
    pass


class ConditionFailed(StoreError):
    """A conditional write found the item in another state; ``item`` is its current value if asked."""

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        super().__init__("condition failed")
        self.item = item


class TransactionConflict(StoreError):
    """TransactWriteItems was cancelled.

    ``reasons`` holds one code per item *in the order the items were given* ("None",
    "ConditionalCheckFailed", "TransactionConflict", ...), and ``items`` the current value of each
    item whose condition failed when ``ReturnValuesOnConditionCheckFailure`` was set.
    """

    def __init__(self, reasons: list[str], items: list[dict[str, Any] | None]) -> None:
        super().__init__("transaction cancelled: " + ",".join(reasons))
        self.reasons = reasons
        self.items = items

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"

    @property
    def only_conflicts(self) -> bool:
        """True when nothing failed a condition: a concurrent transaction got in the way."""
        return all(r in ("None", "TransactionConflict", "") for r in self.reasons)


@dataclasses.dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    last_key: dict[str, Any] | None


class Table:
    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    # -- single items -------------------------------------------------------------------------
    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        resp = self.client.get_item(
            TableName=self.name, Key=encode_item({"pk": pk, "sk": sk}), ConsistentRead=consistent
        )
        raw = resp.get("Item")
        return decode_item(raw) if raw else None

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        pending = [encode_item({"pk": pk, "sk": sk}) for pk, sk in dict.fromkeys(keys)]
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {self.name: {"Keys": chunk, "ConsistentRead": True}}
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                out.extend(decode_item(i) for i in resp.get("Responses", {}).get(self.name, []))
                request = resp.get("UnprocessedKeys") or {}
        return out

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": encode_item(item)}
        _add_condition(kwargs, condition, names, values)
        try:
            self.client.put_item(**kwargs, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            raise _condition_error(exc) from exc

    def update(
        self,
        pk: str,
        sk: str,
        *,
        update: str,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_new: bool = True,
    ) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": encode_item({"pk": pk, "sk": sk}),
            "UpdateExpression": update,
            "ReturnValues": "ALL_NEW" if return_new else "NONE",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        _add_condition(kwargs, condition, names, values)
        try:
            resp = self.client.update_item(**kwargs)
        except ClientError as exc:
            raise _condition_error(exc) from exc
        attrs = resp.get("Attributes")
        return decode_item(attrs) if attrs else None

    def delete(self, pk: str, sk: str) -> None:
        self.client.delete_item(TableName=self.name, Key=encode_item({"pk": pk, "sk": sk}))

    # -- queries ------------------------------------------------------------------------------
    def query_page(
        self,
        *,
        key_condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start_key: Mapping[str, Any] | None = None,
        projection: str | None = None,
        consistent: bool = False,
        filter_expression: str | None = None,
    ) -> Page:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": encode_values(values),
            "ScanIndexForward": forward,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if index:
            kwargs["IndexName"] = index
        elif consistent:
            kwargs["ConsistentRead"] = True
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            kwargs["ExclusiveStartKey"] = encode_item(start_key)
        if projection:
            kwargs["ProjectionExpression"] = projection
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        resp = self.client.query(**kwargs)
        last = resp.get("LastEvaluatedKey")
        return Page([decode_item(i) for i in resp.get("Items", [])], decode_item(last) if last else None)

    def query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item matching, page by page: memory holds one page at a time."""
        start: Mapping[str, Any] | None = kwargs.pop("start_key", None)
        while True:
            page = self.query_page(start_key=start, **kwargs)
            yield from page.items
            if page.last_key is None:
                return
            start = page.last_key

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every item, page by page. For audits only (the ledger check); no request path scans."""
        kwargs: dict[str, Any] = {"TableName": self.name}
        while True:
            resp = self.client.scan(**kwargs)
            yield from (decode_item(i) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # -- transactions -------------------------------------------------------------------------
    def transact(self, operations: Sequence[Mapping[str, Any]], token: str | None = None) -> None:
        """Run TransactWriteItems; operations are built with :func:`op_put`, :func:`op_update`, ...

        On cancellation raises :class:`TransactionConflict` with reasons in the caller's order
        (the low-level API preserves the order of ``TransactItems``).
        """
        kwargs: dict[str, Any] = {"TransactItems": [self._bind(op) for op in operations]}
        if token:
            kwargs["ClientRequestToken"] = token
        try:
            self.client.transact_write_items(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "TransactionCanceledException":
                raise
            reasons_raw = exc.response.get("CancellationReasons") or []
            reasons = [str(r.get("Code", "None")) for r in reasons_raw]
            items = [decode_item(r["Item"]) if r.get("Item") else None for r in reasons_raw]
            if not reasons:
                reasons = _parse_reasons_from_message(str(error.get("Message", "")))
                items = [None] * len(reasons)
            raise TransactionConflict(reasons, items) from exc

    def _bind(self, op: Mapping[str, Any]) -> dict[str, Any]:
        (kind, body), = op.items()
        return {kind: {**body, "TableName": self.name}}


def _add_condition(
    kwargs: dict[str, Any],
    condition: str | None,
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
) -> None:
    if condition:
        kwargs["ConditionExpression"] = condition
    if names:
        kwargs["ExpressionAttributeNames"] = dict(names)
    if values:
        kwargs["ExpressionAttributeValues"] = encode_values(values)


def _condition_error(exc: ClientError) -> Exception:
    if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
        raw = exc.response.get("Item")
        return ConditionFailed(decode_item(raw) if raw else None)
    error: Exception = exc
    return error


def _parse_reasons_from_message(message: str) -> list[str]:
    # "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    if "[" not in message:
        return []
    inner = message[message.rfind("[") + 1 : message.rfind("]")]
    return [part.strip() for part in inner.split(",") if part.strip()]


def _expr(
    body: dict[str, Any],
    condition: str | None,
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
    return_on_fail: bool,
) -> dict[str, Any]:
    if condition:
        body["ConditionExpression"] = condition
    if names:
        body["ExpressionAttributeNames"] = dict(names)
    if values:
        body["ExpressionAttributeValues"] = encode_values(values)
    if return_on_fail:
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return body


def op_put(
    item: Mapping[str, Any],
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    return_on_fail: bool = False,
) -> dict[str, Any]:
    return {"Put": _expr({"Item": encode_item(item)}, condition, names, values, return_on_fail)}


def op_update(
    pk: str,
    sk: str,
    update: str,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    return_on_fail: bool = False,
) -> dict[str, Any]:
    body = {"Key": encode_item({"pk": pk, "sk": sk}), "UpdateExpression": update}
    return {"Update": _expr(body, condition, names, values, return_on_fail)}


def op_check(
    pk: str,
    sk: str,
    condition: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    return_on_fail: bool = False,
) -> dict[str, Any]:
    body = {"Key": encode_item({"pk": pk, "sk": sk})}
    return {"ConditionCheck": _expr(body, condition, names, values, return_on_fail)}
