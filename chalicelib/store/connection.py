"""The single table as PynamoDB sees it: one binding, one botocore client, transactions with names.

Invariants:

- Every model is an item type of the same table, so they share one :class:`Connection` (one botocore
  client, one connection pool) instead of one client per model class. :func:`bind` names the table
  and its endpoint once (bootstrap does it); until then no model can reach AWS.
- Infrastructure errors stop here: a failed condition becomes :class:`ConditionFailed`, a cancelled
  transaction :class:`TransactionCancelled` whose reasons are keyed by the *names* the caller gave
  each operation. PynamoDB sends a transaction's items grouped by kind (condition checks, deletes,
  puts, updates) whatever the call order, and DynamoDB answers reasons in the order sent; the
  :class:`Transaction` helper records the names in that same order, so no caller ever depends on an
  index. ``tests/integration/test_store.py`` pins that order against PynamoDB's real request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec
from pynamodb.connection import Connection, TableConnection
from pynamodb.connection.base import MetaTable
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator
from pynamodb.transactions import TransactWrite

INDEXES = ("gsi1", "gsi2", "gsi3", "gsi4")


class StoreError(Exception):
    pass


class ConditionFailed(StoreError):
    """A conditional write found the item in another state."""


class TransactionCancelled(StoreError):
    """TransactWriteItems was cancelled; ``reasons`` maps each operation's name to DynamoDB's code
    (``ConditionalCheckFailed``, ``TransactionConflict``, ...) for the operations that caused it."""

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__("transaction cancelled: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
        self.reasons = reasons

    def failed(self, name: str) -> bool:
        return self.reasons.get(name) == "ConditionalCheckFailed"

    @property
    def conditions(self) -> set[str]:
        """Names whose condition failed (empty when only contention cancelled the transaction)."""
        return {k for k, v in self.reasons.items() if v == "ConditionalCheckFailed"}


class Binding(msgspec.Struct, frozen=True):
    table_name: str
    connection: Connection
    meta: MetaTable


_lock = threading.Lock()
_binding: Binding | None = None


def _meta_table(table_name: str) -> MetaTable:
    def key(h: str, r: str) -> list[dict[str, str]]:
        return [{"AttributeName": h, "KeyType": "HASH"}, {"AttributeName": r, "KeyType": "RANGE"}]

    names = ["pk", "sk"] + [f"{i}{s}" for i in INDEXES for s in ("pk", "sk")]
    return MetaTable({
        "TableName": table_name,
        "KeySchema": key("pk", "sk"),
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in names],
        "GlobalSecondaryIndexes": [{"IndexName": i, "KeySchema": key(f"{i}pk", f"{i}sk")} for i in INDEXES],
        "LocalSecondaryIndexes": [],
    })


def bind(table_name: str, *, region: str, host: str | None = None, connect_timeout: float = 2.0,
         read_timeout: float = 5.0, max_attempts: int = 3, max_pool_connections: int = 32) -> Binding:
    """Point every model at ``table_name``. ``host`` None means AWS (or ``AWS_ENDPOINT_URL``)."""
    global _binding
    connection = Connection(region=region, host=host, connect_timeout_seconds=connect_timeout,
                            read_timeout_seconds=read_timeout, max_retry_attempts=max_attempts - 1,
                            max_pool_connections=max_pool_connections)
    meta = _meta_table(table_name)
    connection.add_meta_table(meta)
    with _lock:
        _binding = Binding(table_name, connection, meta)
    return _binding


def binding() -> Binding:
    if _binding is None:
        raise StoreError("the store is not bound to a table (bootstrap binds it)")
    return _binding


def client() -> Any:
    """The botocore client every model uses (benchmarks count its requests)."""
    return binding().connection.client


class Item(Model):
    """Base of every item type. The table name comes from :func:`bind`, not from the class."""

    class Meta:
        table_name = "unbound"

    @classmethod
    def _get_connection(cls) -> TableConnection:
        b = binding()
        cached = cls.__dict__.get("_bound")
        if cached is None or cached[0] is not b:
            cls.Meta.table_name = b.table_name
            table = TableConnection(b.table_name, meta_table=None)
            table.connection = b.connection  # share one client and pool with every model
            cached = (b, table)
            cls._bound = cached  # type: ignore[attr-defined]
        return cached[1]


M = TypeVar("M", bound=Item)


def page(results: ResultIterator[M], limit: int) -> tuple[list[M], dict[str, Any] | None]:
    """Up to ``limit`` items and the raw key to continue after them (None when nothing is left)."""
    items = [item for _, item in zip(range(limit), results, strict=False)]
    return items, results.last_evaluated_key if items else None


def save(item: Item, condition: Condition | None = None) -> None:
    try:
        item.save(condition=condition)
    except PutError as exc:
        raise _condition_error(exc) from exc


def update(item: Item, actions: list[Action], condition: Condition | None = None) -> None:
    """Update in place; ``item`` receives the new values (ALL_NEW)."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        raise _condition_error(exc) from exc


def delete(item: Item, condition: Condition | None = None) -> None:
    try:
        item.delete(condition=condition)
    except DeleteError as exc:
        raise _condition_error(exc) from exc


def _condition_error(exc: Exception) -> Exception:
    if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
        return ConditionFailed()
    return exc


class Transaction:
    """TransactWriteItems with a name per operation; use as a context manager or call :meth:`commit`.

    Raises :class:`TransactionCancelled` with reasons by name, or the underlying error otherwise.
    """

    def __init__(self, token: str | None = None) -> None:
        self._tx = TransactWrite(connection=binding().connection, client_request_token=token)
        self._checks: list[str] = []
        self._puts: list[str] = []
        self._updates: list[str] = []
        self._deletes: list[str] = []

    def check(self, name: str, model: type[Item], pk: str, sk: str, condition: Condition) -> None:
        self._tx.condition_check(model, pk, sk, condition=condition)
        self._checks.append(name)

    def put(self, name: str, item: Item, condition: Condition | None = None) -> None:
        self._tx.save(item, condition=condition)
        self._puts.append(name)

    def update(self, name: str, item: Item, actions: list[Action], condition: Condition | None = None) -> None:
        self._tx.update(item, actions=actions, condition=condition)
        self._updates.append(name)

    def delete(self, name: str, item: Item, condition: Condition | None = None) -> None:
        self._tx.delete(item, condition=condition)
        self._deletes.append(name)

    @property
    def order(self) -> list[str]:
        """The names in the order PynamoDB sends the items (and DynamoDB reports reasons)."""
        return self._checks + self._deletes + self._puts + self._updates

    def commit(self) -> None:
        try:
            self._tx._commit()
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            reasons = exc.cancellation_reasons
            if not reasons:  # some engines put the reasons only in the message
                reasons = _reasons_from_message(str(exc.cause_response_message or ""))
            codes = {name: (r.code if r is not None and not isinstance(r, str) else (r or "None"))
                     for name, r in zip(self.order, reasons, strict=False)}
            raise TransactionCancelled({k: v for k, v in codes.items() if v != "None"}) from exc

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()


def _reasons_from_message(message: str) -> list[Any]:
    # "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    if "[" not in message:
        return []
    inner = message[message.rfind("[") + 1: message.rfind("]")]
    return [part.strip() for part in inner.split(",") if part.strip()]


def iterate(results: ResultIterator[M]) -> Iterator[M]:
    yield from results
