"""A few hand-made sandbox orders with fixed ids and statuses, so the README and the demo can name them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cancel_order_bot.sandbox.world import BUYER_CANCEL_REASONS, ItemSpec, SandboxWorld

__all__ = ["SHOWCASE", "Showcase", "add_showcase_orders"]


@dataclass(frozen=True)
class Showcase:
    """The ids of the showcase orders."""

    packed: int = 100000000000001
    """Two packed items sharing a package, plus a shipped one: the repack-first choice."""
    pending: int = 100000000000002
    """One pending item: the simplest cancellation."""
    ready_to_ship: int = 100000000000003
    """One item ready to ship: a courier pickup may be arranged."""
    shipped: int = 100000000000004
    """Shipped: nothing can be cancelled."""
    ready_to_ship_package: int = 100000000000005
    """Two items ready to ship in one package: cancelling one alone takes the other, unless repacked first."""
    buyer_request: int = 100000000000006
    """Two packed items the buyer asked to cancel 20 minutes ago: an open request, Lazada's deadline 48 h on."""


SHOWCASE = Showcase()
BUYER_REQUEST_WINDOW = timedelta(hours=48)
"""How long after the buyer's request Lazada waits for the showcase order's answer."""


def add_showcase_orders(world: SandboxWorld) -> Showcase:
    """Add the showcase orders, created an hour ago in the world's time."""
    created = world.now() - timedelta(hours=1)
    world.add_order(
        [
            ItemSpec(
                status="packed", package="P1", sku="MOUSE-BLK", name="Wireless Mouse", variation="Black", price="19.90"
            ),
            ItemSpec(status="packed", package="P1", sku="CABLE-USBC-1M", name="USB-C Cable 1 m", price="6.50"),
            ItemSpec(
                status="shipped", package="P2", sku="CASE-IP15", name="Phone Case", variation="iPhone 15", price="12.00"
            ),
        ],
        created_at=created,
        order_id=SHOWCASE.packed,
    )
    world.add_order(
        [ItemSpec(status="pending", sku="KETTLE-17L", name="Electric Kettle 1.7 L", price="39.00")],
        created_at=created,
        order_id=SHOWCASE.pending,
    )
    world.add_order(
        [ItemSpec(status="ready_to_ship", package="P1", sku="LAMP-DESK", name="Desk Lamp", price="24.50")],
        created_at=created,
        order_id=SHOWCASE.ready_to_ship,
    )
    world.add_order(
        [ItemSpec(status="shipped", package="P1", sku="MUG-WHT", name="Ceramic Mug", price="8.00")],
        created_at=created,
        order_id=SHOWCASE.shipped,
    )
    world.add_order(
        [
            ItemSpec(status="ready_to_ship", package="P1", sku="BULB-E27", name="LED Bulb E27", price="4.90"),
            ItemSpec(status="ready_to_ship", package="P1", sku="SHADE-LINEN", name="Linen Lamp Shade", price="15.00"),
        ],
        created_at=created,
        order_id=SHOWCASE.ready_to_ship_package,
    )
    asked = world.add_order(
        [
            ItemSpec(status="packed", package="P1", sku="HEADSET-BT", name="Bluetooth Headset", price="49.00"),
            ItemSpec(status="packed", package="P1", sku="POUCH-HEADSET", name="Headset Pouch", price="7.50"),
        ],
        created_at=created,
        order_id=SHOWCASE.buyer_request,
    )
    world.request_buyer_cancel(
        [item.order_item_id for item in asked.items],
        answer_within=BUYER_REQUEST_WINDOW,
        reason=BUYER_CANCEL_REASONS[0],
        requested_at=world.now() - timedelta(minutes=20),
    )
    return SHOWCASE
