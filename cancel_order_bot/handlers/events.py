"""Events: the App Home tab, published when a person opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services import Services

__all__ = ["EventHandlers", "register"]


class EventHandlers:
    """Listeners for Events API callbacks."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def on_app_home_opened(self, event: dict[str, Any]) -> None:
        """Publish the opener's Home tab (only for the Home tab, not the Messages tab)."""
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return
        await self.services.home.publish(user)


def register(app: AsyncApp, services: Services) -> None:
    """Register the event listeners."""
    handlers = EventHandlers(services)
    app.event("app_home_opened")(handlers.on_app_home_opened)
