"""The live feed on the in-memory repository: each event once, oldest first, from the start of the
JST day, and an event that commits late (stamped before one already delivered) is not lost."""

from __future__ import annotations

import datetime as dt

from chalicelib.console.live import MAX_SEEN, SETTLE, LiveFeed, Position
from chalicelib.core.clock import JST, FixedClock
from chalicelib.payments.fake import FakePaymentRepository
from chalicelib.payments.model import COMPLETED, Payment

DAY = dt.datetime(2026, 11, 20, 0, 0, tzinfo=JST)


def sale(repo: FakePaymentRepository, pid: str, at: dt.datetime, amount: int = 100, mid: str = "M1") -> None:
    repo.seed_sale(Payment(pid, mid, "C1", amount, COMPLETED, at, None, "女川商店", "SHOP", ()))


def feed(at: dt.datetime) -> tuple[FakePaymentRepository, FixedClock, LiveFeed]:
    repo = FakePaymentRepository()
    clock = FixedClock(at)
    return repo, clock, LiveFeed(repo, clock)


def ids(page: object) -> list[tuple[str, str]]:
    return [(e.kind, e.payment_id) for e in page.events]  # type: ignore[attr-defined]


def test_without_a_position_the_feed_starts_at_the_start_of_the_jst_day() -> None:
    repo, _clock, live = feed(DAY + dt.timedelta(hours=10))
    sale(repo, "YESTERDAY", DAY - dt.timedelta(milliseconds=1))
    sale(repo, "MIDNIGHT", DAY)
    sale(repo, "MORNING", DAY + dt.timedelta(hours=9))
    sale(repo, "OTHER", DAY + dt.timedelta(hours=9), mid="M2")
    page = live.poll("M1", None)
    assert ids(page) == [("sale", "MIDNIGHT"), ("sale", "MORNING")]
    again = live.poll("M1", page.position)
    assert ids(again) == []  # nothing new: nothing, however often it is asked


def test_new_sales_and_cancellations_arrive_once_in_order() -> None:
    repo, clock, live = feed(DAY + dt.timedelta(hours=10))
    position = live.poll("M1", None).position
    sale(repo, "A", clock.advance(seconds=1))
    sale(repo, "B", clock.advance(seconds=1))
    first = live.poll("M1", position)
    assert ids(first) == [("sale", "A"), ("sale", "B")]
    repo.seed_cancel("A", clock.advance(seconds=3))
    second = live.poll("M1", first.position)
    assert ids(second) == [("cancel", "A")]
    clock.advance(minutes=5)
    assert ids(live.poll("M1", second.position)) == []


def test_an_event_committed_late_is_still_delivered() -> None:
    repo, clock, live = feed(DAY + dt.timedelta(hours=10))
    position = live.poll("M1", None).position
    stamped_first = clock.advance(seconds=1)
    sale(repo, "LATER", clock.advance(milliseconds=300))  # committed first
    page = live.poll("M1", position)
    assert ids(page) == [("sale", "LATER")]
    sale(repo, "EARLIER", stamped_first)  # its transaction ends after the poll
    clock.advance(seconds=2)
    late = live.poll("M1", page.position)
    assert ids(late) == [("sale", "EARLIER")]
    assert ids(live.poll("M1", late.position)) == []
    # once the window has passed, the position forgets them and the read starts after them
    clock.advance(seconds=SETTLE.total_seconds() + 1)
    quiet = live.poll("M1", late.position)
    assert ids(quiet) == [] and quiet.position.seen == () and quiet.position.watermark > stamped_first


def test_a_backlog_comes_fifty_at_a_time_without_gaps() -> None:
    repo, _clock, live = feed(DAY + dt.timedelta(hours=12))
    for i in range(120):
        sale(repo, f"P{i:03d}", DAY + dt.timedelta(hours=8, seconds=i))
    got: list[str] = []
    position: Position | None = None
    for _ in range(4):
        page = live.poll("M1", position)
        assert len(page.events) <= 50
        got += [e.payment_id for e in page.events]
        position = page.position
    assert got == [f"P{i:03d}" for i in range(120)]


def test_a_burst_inside_the_window_keeps_the_position_small() -> None:
    repo, clock, live = feed(DAY + dt.timedelta(hours=12))
    position = live.poll("M1", None).position
    for i in range(MAX_SEEN + 10):
        sale(repo, f"B{i:03d}", clock.advance(milliseconds=10))
    page = live.poll("M1", position, limit=200)
    assert len(page.events) == MAX_SEEN + 10 and len(page.position.seen) <= MAX_SEEN
    assert ids(live.poll("M1", page.position)) == []


def test_the_store_filter_keeps_only_that_shop() -> None:
    repo, _clock, live = feed(DAY + dt.timedelta(hours=10))
    sale(repo, "A", DAY + dt.timedelta(hours=9))
    assert ids(live.poll("M1", None, store_id="M1")) == [("sale", "A")]
    assert ids(live.poll("M1", None, store_id="ELSEWHERE")) == []
