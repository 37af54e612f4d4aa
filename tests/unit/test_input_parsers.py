"""No input reaches a 500: every parser of request input answers with a value or a domain error.

Hypothesis feeds each parser arbitrary text (other scripts' digits such as ``²`` or ``٣``, years 0001
and 9999, control characters, huge numbers) and checks that it either succeeds or raises the domain
error the HTTP edge turns into a 4xx — never any other exception.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.console.ranges import parse_range
from chalicelib.core.clock import UTC
from chalicelib.core.errors import DomainError, InvalidRequest
from chalicelib.core.periods import Period
from chalicelib.http import bodies
from chalicelib.http.cursors import decode_cursor, encode_cursor
from chalicelib.http.errors import UnsupportedMediaType
from chalicelib.http.routing import ROUTES
from chalicelib.merchants.qr import decode_merchant_qr
from chalicelib.payments.grants import RowError, parse_bulk_csv
from chalicelib.settlement.closing import parse_period

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
DIGITS = "0123456789²³¹٠١٢٣٤٥٦٧٨٩０１２３"
texty = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=DIGITS + "-T:/ ", max_size=20),
    st.sampled_from(["0001-01-01", "9999-12-31", "9999-12-31T23:59", "0001-01-01T00:00", "2026-02-29",
                     "2026-11-01T24:00", "2026-13-01", "null", "", " 2026-11-01", "2026-11-01\n",
                     "٢٠٢٦-١١-٠١", "2026-11-01T09:00:00", "-1", "²", "1e3"]),
)


def import_app() -> Any:
    import app

    return app


@settings(max_examples=300)
@given(raw_from=st.one_of(st.none(), texty), raw_to=st.one_of(st.none(), texty))
def test_ranges_parse_or_refuse(raw_from: str | None, raw_to: str | None) -> None:
    try:
        rng = parse_range(raw_from, raw_to, NOW)
    except InvalidRequest as exc:
        assert exc.param in ("from", "to")
        return
    assert rng.start < rng.end and rng.end - rng.start <= dt.timedelta(days=366)


def query_structs() -> list[type[Any]]:
    import_app()
    return sorted({r.query for r in ROUTES if r.query is not None}, key=lambda t: t.__name__)


def body_structs() -> list[type[Any]]:
    import_app()
    return sorted({r.body for r in ROUTES if r.body is not None}, key=lambda t: t.__name__)


@pytest.mark.parametrize("struct", query_structs(), ids=lambda t: t.__name__)
@settings(max_examples=150)
@given(params=st.dictionaries(st.sampled_from(["from", "to", "cursor", "limit", "qr", "x"]), texty, max_size=4))
def test_every_query_decodes_or_refuses(struct: type[Any], params: dict[str, str]) -> None:
    try:
        value = bodies.decode_query(params, struct)
    except InvalidRequest:
        return
    assert isinstance(value, struct)
    limit = getattr(value, "limit", msgspec.UNSET)
    assert limit is msgspec.UNSET or (isinstance(limit, int) and 1 <= limit <= 200)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=10)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4),
                           max_leaves=10)


@pytest.mark.parametrize("struct", body_structs(), ids=lambda t: t.__name__)
@settings(max_examples=150)
@given(body=st.one_of(st.binary(max_size=64), json_values.map(lambda v: msgspec.json.encode(v))),
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", None]))
def test_every_body_decodes_or_refuses(struct: type[Any], body: bytes, content_type: str | None) -> None:
    try:
        value = bodies.decode_json(body, content_type, struct)
    except (InvalidRequest, UnsupportedMediaType):
        return
    assert isinstance(value, struct)


@settings(max_examples=300)
@given(cursor=st.one_of(texty, st.text(alphabet="ABCDEFabcdef0123456789-_.=", max_size=80)))
def test_cursors_decode_or_refuse(cursor: str) -> None:
    try:
        decode_cursor("secret-" * 6, "scope", cursor)
    except InvalidRequest as exc:
        assert exc.param == "cursor"


def test_a_cursor_of_another_scope_is_refused() -> None:
    cursor = encode_cursor("secret-" * 6, "merchant-A", {"k": 1})
    assert decode_cursor("secret-" * 6, "merchant-A", cursor) == {"k": 1}
    with pytest.raises(InvalidRequest):
        decode_cursor("secret-" * 6, "merchant-B", cursor)


@settings(max_examples=300)
@given(period_id=texty)
def test_period_ids_parse_or_are_not_found(period_id: str) -> None:
    try:
        period = parse_period(period_id)
    except DomainError as exc:
        assert exc.code == "not_found"
        return
    assert isinstance(period, Period) and period.id == period_id


@settings(max_examples=300)
@given(payload=st.one_of(st.text(max_size=120), st.text(alphabet="0123456789ABCDEF", max_size=120)))
def test_qr_payloads_decode_or_are_invalid(payload: str) -> None:
    try:
        decode_merchant_qr(payload)
    except DomainError as exc:
        assert exc.code == "invalid_qr"


csv_cells = st.one_of(st.text(alphabet=DIGITS + "abcC-", max_size=12), texty)


@settings(max_examples=200)
@given(rows=st.lists(st.lists(csv_cells, min_size=0, max_size=5), max_size=6),
       raw=st.text(max_size=80))
def test_a_bulk_grant_file_reports_bad_rows_and_never_aborts(rows: list[list[str]], raw: str) -> None:
    text = "consumer_id,points,expires_on\n" + "\n".join(",".join(r) for r in rows)
    for source in (text, raw):
        for line, item in parse_bulk_csv(source, today=NOW.date()):
            assert isinstance(line, int)
            if isinstance(item, RowError):
                assert item.message
            else:
                assert item.points >= 1 and item.expires_on >= NOW.date() and item.grant_id


@pytest.mark.parametrize("points", ["²", "٣", "１０", "1e3", "-5", "0", "+5", " 5 "])
def test_non_ascii_or_odd_points_are_row_errors(points: str) -> None:
    (line, item), = parse_bulk_csv(f"consumer_id,points,expires_on\nC1,{points},2027-01-01\n", today=NOW.date())
    if points == " 5 ":  # cells are trimmed: a plain 5
        assert not isinstance(item, RowError) and item.points == 5
    else:
        assert isinstance(item, RowError) and line == 2


def test_a_payment_body_without_store_id_fingerprints_as_before_the_field_existed() -> None:
    """Idempotency records stored before ``store_id`` hold the old body's fingerprint: a retry of the same
    body must still match it (and not answer idempotency_key_reused)."""
    from chalicelib.http.routes.payments import _canonical
    from chalicelib.payments.commands import PaymentRequest

    assert _canonical(PaymentRequest(amount=5, qr="x")) == b'{"amount":5,"qr":"x","merchant_id":null}'
    assert _canonical(PaymentRequest(amount=5, merchant_id="M1")) == b'{"amount":5,"qr":null,"merchant_id":"M1"}'
    assert b'"store_id":"S1"' in _canonical(PaymentRequest(amount=5, store_id="S1"))
