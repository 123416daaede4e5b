"""The in-process event bus: the domain emits what happened; the presenter subscribes and tells Slack."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ["EventBus", "Handler", "Receipt"]

E = TypeVar("E")
T = TypeVar("T")
Handler = Callable[[E], Awaitable[None]]


class EventBus:
    """Typed publish/subscribe within one process: `emit(event)` awaits every handler subscribed to its type.

    Handlers run one after another in the order they subscribed, and an exception propagates to the emitter, which
    knows whether a failed announcement must be retried (the workflow's tick re-announces from the database).
    """

    def __init__(self) -> None:
        self._handlers: defaultdict[type[Any], list[Handler[Any]]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Handler[E]) -> None:
        """Call `handler` with every event of exactly `event_type` emitted from now on."""
        self._handlers[event_type].append(handler)

    def subscribers(self, event_type: type[Any]) -> int:
        """How many handlers listen to `event_type` (the wiring test checks every event has one)."""
        return len(self._handlers.get(event_type, ()))

    async def emit(self, event: object) -> None:
        """Hand `event` to each subscriber of its type, in order."""
        for handler in tuple(self._handlers.get(type(event), ())):
            await handler(event)


class Receipt(Generic[T]):
    """The answer slot of an event whose emitter must know what the subscriber did (where a message went).

    The one subscriber that tells Slack calls `answer`; the emitter reads `value` after `emit` (None: nobody
    answered, so nothing was told). A second answer raises, since it means two presenters told the same thing.
    """

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value: T | None = None

    @property
    def value(self) -> T | None:
        """The subscriber's answer, or None when nobody answered."""
        return self._value

    def answer(self, value: T) -> None:
        """Record what was done; only once."""
        if self._value is not None:
            raise RuntimeError("this event was already answered: two subscribers told Slack the same thing")
        self._value = value
