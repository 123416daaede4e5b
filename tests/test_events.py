"""The event bus hands each event to the subscribers of its type, in order, and lets their errors through."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.events import EventBus, Receipt


@dataclass(frozen=True)
class _Said:
    text: str


@dataclass(frozen=True)
class _Other:
    n: int


async def test_event_bus_calls_subscribers_of_the_type_in_order() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def first(event: _Said) -> None:
        seen.append(f"1:{event.text}")

    async def second(event: _Said) -> None:
        seen.append(f"2:{event.text}")

    async def other(event: _Other) -> None:
        seen.append(f"other:{event.n}")

    bus.subscribe(_Said, first)
    bus.subscribe(_Said, second)
    bus.subscribe(_Other, other)
    await bus.emit(_Said("hi"))
    await bus.emit(_Other(3))
    assert seen == ["1:hi", "2:hi", "other:3"]
    assert bus.subscribers(_Said) == 2
    assert bus.subscribers(int) == 0


async def test_event_bus_lets_a_subscriber_error_reach_the_emitter() -> None:
    bus = EventBus()

    async def broken(event: _Said) -> None:
        raise RuntimeError(event.text)

    bus.subscribe(_Said, broken)
    with pytest.raises(RuntimeError, match="boom"):
        await bus.emit(_Said("boom"))


def test_receipt_takes_one_answer_only() -> None:
    receipt: Receipt[str] = Receipt()
    unanswered = receipt.value
    receipt.answer("posted")
    assert unanswered is None
    assert receipt.value == "posted"
    with pytest.raises(RuntimeError, match="already answered"):
        receipt.answer("posted again")
    assert receipt.value == "posted"
