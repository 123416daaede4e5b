"""Events: the App Home tab, published when a person opens it."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.home import HomeService

__all__ = ["EventHandlers", "register"]


class EventHandlers:
    """Listeners for Events API callbacks."""

    def __init__(self, home: HomeService) -> None:
        self.home = home

    async def on_app_home_opened(self, opener: str | None) -> None:
        """Publish the opener's Home tab (only for the Home tab, not the Messages tab)."""
        if opener is not None:
            await self.home.publish(opener)


def register(app: AsyncApp, home: HomeService) -> None:
    """Register the event listeners."""
    app.event("app_home_opened")(EventHandlers(home).on_app_home_opened)
