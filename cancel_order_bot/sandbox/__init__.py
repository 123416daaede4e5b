"""The Lazada sandbox: a local imitation of the Open Platform for the demo, `--sandbox` runs, tests and benchmarks."""

from cancel_order_bot.sandbox.app import NETWORK_FAULT_HEADER, create_sandbox_app
from cancel_order_bot.sandbox.errors import SandboxApiError
from cancel_order_bot.sandbox.examples import DOCUMENTED_EXAMPLES, DocumentedExample
from cancel_order_bot.sandbox.faults import Fault, FaultKind, FaultPlan
from cancel_order_bot.sandbox.history import HistorySummary, generate_history, sample_order_ids
from cancel_order_bot.sandbox.network import NetworkModel
from cancel_order_bot.sandbox.server import SandboxServer, describe_sandbox, serve_sandbox
from cancel_order_bot.sandbox.transport import SANDBOX_BASE_URL, SandboxTransport
from cancel_order_bot.sandbox.world import (
    CANCELLABLE_STATUSES,
    REASON_OPTIONS,
    REFERENCE_ERROR_TIP,
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_REFRESH_TOKEN,
    STOCK_ZEROING_REASONS,
    CallRecord,
    CancelMode,
    Item,
    ItemSpec,
    Order,
    ReasonOption,
    SandboxWorld,
)

__all__ = [
    "CANCELLABLE_STATUSES",
    "DOCUMENTED_EXAMPLES",
    "NETWORK_FAULT_HEADER",
    "REASON_OPTIONS",
    "REFERENCE_ERROR_TIP",
    "SANDBOX_ACCESS_TOKEN",
    "SANDBOX_APP_KEY",
    "SANDBOX_APP_SECRET",
    "SANDBOX_BASE_URL",
    "SANDBOX_REFRESH_TOKEN",
    "STOCK_ZEROING_REASONS",
    "CallRecord",
    "CancelMode",
    "DocumentedExample",
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
