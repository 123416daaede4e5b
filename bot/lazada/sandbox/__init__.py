"""A local imitation of the Lazada Open Platform for tests, the demo, benchmarks and trying the bot."""

from bot.lazada.sandbox.app import NETWORK_FAULT_HEADER, create_sandbox_app
from bot.lazada.sandbox.errors import SandboxApiError
from bot.lazada.sandbox.faults import Fault, FaultKind, FaultPlan
from bot.lazada.sandbox.history import HistorySummary, generate_history, sample_order_ids
from bot.lazada.sandbox.network import NetworkModel
from bot.lazada.sandbox.server import SandboxServer, describe_sandbox, serve_sandbox
from bot.lazada.sandbox.transport import SANDBOX_BASE_URL, SandboxTransport
from bot.lazada.sandbox.world import (
    CANCELLABLE_STATUSES,
    REASON_OPTIONS,
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_REFRESH_TOKEN,
    STOCK_ZEROING_REASONS,
    CallRecord,
    Item,
    ItemSpec,
    Order,
    ReasonOption,
    SandboxWorld,
)

__all__ = [
    "CANCELLABLE_STATUSES",
    "NETWORK_FAULT_HEADER",
    "REASON_OPTIONS",
    "SANDBOX_ACCESS_TOKEN",
    "SANDBOX_APP_KEY",
    "SANDBOX_APP_SECRET",
    "SANDBOX_BASE_URL",
    "SANDBOX_REFRESH_TOKEN",
    "STOCK_ZEROING_REASONS",
    "CallRecord",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "HistorySummary",
    "Item",
    "ItemSpec",
    "NetworkModel",
    "Order",
    "ReasonOption",
    "SandboxApiError",
    "SandboxServer",
    "SandboxTransport",
    "SandboxWorld",
    "create_sandbox_app",
    "describe_sandbox",
    "generate_history",
    "sample_order_ids",
    "serve_sandbox",
]
