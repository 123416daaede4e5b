"""The handler tests reuse the flow fixtures: the real app over HTTP, the Lazada sandbox and the fake Slack."""

from tests.flow.conftest import bot, clock, showcase, world

__all__ = ["bot", "clock", "showcase", "world"]
