"""The sandbox's in-memory Lazada: one seller and app, their tokens, orders, items, packages and stock."""

from __future__ import annotations

import math
import secrets
from bisect import bisect_left, bisect_right, insort
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.lazada.countries import COUNTRIES, Country, SandboxReason
from cancel_order_bot.sandbox.errors import SandboxApiError
from cancel_order_bot.sandbox.faults import DEFAULT_TIMEOUT_SECONDS, FaultKind, FaultPlan, RateLimitWindow

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "AUTH_CODE_LIFETIME",
    "BUYER_CANCEL_INITIATOR",
    "BUYER_CANCEL_REASONS",
    "CANCELLABLE_STATUSES",
    "ITEM_STATUSES",
    "REASON_OPTIONS",
    "REFERENCE_ERROR_TIP",
    "REFRESH_TOKEN_LIFETIME",
    "REFUSAL_REASONS",
    "SANDBOX_ACCESS_TOKEN",
    "SANDBOX_APP_KEY",
    "SANDBOX_APP_SECRET",
    "SANDBOX_REFRESH_TOKEN",
    "STOCK_ZEROING_REASONS",
    "BuyerCancelRequest",
    "BuyerReason",
    "CallRecord",
    "CancelMode",
    "Item",
    "ItemSpec",
    "Order",
    "ReasonOption",
    "RefusalOption",
    "ReverseLine",
    "SandboxWorld",
    "TokenGrant",
]

SANDBOX_APP_KEY = "100100"
SANDBOX_APP_SECRET = "sandbox-app-secret"  # noqa: S105 - a published, fake sandbox credential
SANDBOX_ACCESS_TOKEN = "sandbox-access-token"  # noqa: S105
SANDBOX_REFRESH_TOKEN = "sandbox-refresh-token"  # noqa: S105

ACCESS_TOKEN_LIFETIME = timedelta(days=10)
REFRESH_TOKEN_LIFETIME = timedelta(days=50)
AUTH_CODE_LIFETIME = timedelta(minutes=30)
DEFAULT_STOCK = 100

COUNTRY_CURRENCIES: Mapping[str, str] = MappingProxyType(
    {country: info.currency for country, info in COUNTRIES.items()}
)

CANCELLABLE_STATUSES = frozenset({"pending", "packed", "ready_to_ship"})
ITEM_STATUSES = frozenset(
    {
        "unpaid",
        "pending",
        "packed",
        "ready_to_ship",
        "shipped",
        "delivered",
        "canceled",
        "returned",
        "failed",
        "lost",
        "lost_by_3pl",
        "damaged_by_3pl",
        "failed_delivery",
        "shipped_back",
        "shipped_back_success",
        "shipped_back_failed",
        "package_scrapped",
    }
)
# Statuses in which an item sits in a package: packing creates one, repacking dissolves it.
_PACKAGED_STATUSES = ITEM_STATUSES - {"unpaid", "pending", "canceled"}
_REPACKABLE_STATUSES = frozenset({"packed", "ready_to_ship"})

STOCK_ZEROING_REASONS = frozenset({"Out of Stock", "Wrong Price or Pricing Error"})

# The two indicator types lazada-api.md §7.4 names; whether a cancellation indicator exists is not documented.
DEFAULT_INDICATORS: tuple[Mapping[str, object], ...] = (
    MappingProxyType(
        {
            "type": "POSITIVE_SELLER_RATING",
            "name": "Positive Seller Rating",
            "tip": "Share of positive ratings from buyers over the last 90 days",
            "score": "96",
            "score_format": "PERCENTAGE",
            "formatted_score": "96%",
            "target": "90",
            "target_format": "PERCENTAGE",
            "formatted_target": "90%",
            "target_respected": "true",
            "action_url": "",
        }
    ),
    MappingProxyType(
        {
            "type": "PRODUCT_RATING_COVERAGE",
            "name": "Product Rating Coverage",
            "tip": "Share of delivered items that buyers rated",
            "score": "null",
            "score_format": "PERCENTAGE",
            "formatted_score": "12%",
            "target": "20",
            "target_format": "PERCENTAGE",
            "formatted_target": "20%",
            "target_respected": False,
            "action_url": "",
        }
    ),
)


ReasonOption = SandboxReason

# The ids differ per country on Lazada, which is why a client must never hard-code them.
REASON_OPTIONS: Mapping[str, tuple[ReasonOption, ...]] = MappingProxyType(
    {country: info.sandbox_reasons for country, info in COUNTRIES.items()}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemSpec:
    """One order item to build with ``SandboxWorld.add_order``.

    ``package`` is a label grouping items of the same order into one package; the world assigns the
    real package id (``FP…``). Packed or later items without a label share one package per order.
    """

    status: str = "pending"
    package: str | None = None
    sku: str = "SKU-A"
    name: str = "Sandbox item"
    variation: str = ""
    price: Decimal | str | int = "10.00"
    initiator: str | None = None
    reason: str | None = None


@dataclass(slots=True, kw_only=True)
class Item:
    """One order item (one unit): Lazada's unit of status and of cancellation."""

    order_item_id: int
    order_id: int
    status: str
    sku: str
    name: str
    variation: str
    price: Decimal
    package_id: str | None
    created_at: datetime
    updated_at: datetime
    cancel_return_initiator: str | None = None
    reason: str | None = None
    reverse_order_id: int | None = None
    need_cancel_confirm: bool = False
    """The buyer asked to cancel and the seller must answer (lazada-api.md §8a)."""
    is_cancel_pending: bool = False
    """Lazada accepted a cancellation that has not settled yet (the slow-cancel mode)."""
    cancel_trigger_time: datetime | None = None
    """When Lazada cancels by itself if the seller does not answer the buyer's request."""

    @property
    def is_cancellable(self) -> bool:
        """Whether the seller may still cancel this item through the API."""
        return self.status in CANCELLABLE_STATUSES and not self.is_cancel_pending


@dataclass(slots=True, kw_only=True)
class Order:
    """An order of the sandbox seller; its status is only the set of its items' statuses."""

    order_id: int
    order_number: int
    created_at: datetime
    updated_at: datetime
    items: list[Item]
    payment_method: str = "COD"
    shipping_fee: Decimal = Decimal("0.00")

    @property
    def statuses(self) -> list[str]:
        """The distinct item statuses, in item order."""
        return list(dict.fromkeys(item.status for item in self.items))

    @property
    def items_count(self) -> int:
        """How many items (units) the order has."""
        return len(self.items)

    @property
    def price(self) -> Decimal:
        """The sum of the items' prices."""
        return sum((item.price for item in self.items), Decimal("0.00"))


class CancelMode(StrEnum):
    """How InitReverseOrderCancel behaves for one order (``SandboxWorld.cancel_modes``)."""

    NORMAL = "normal"
    """Cancelled at once, answered with the tutorial's success tip."""
    SLOW = "slow"
    """Accepted with a success tip, but the items stay as they were (``is_cancel_pending``) until it settles."""
    APPLIED_WITH_ERROR_TIP = "applied_with_error_tip"
    """Cancelled at once, yet answered like the reference example: code 0 with ``tip_type: error``."""
    NOT_APPLIED_WITH_ERROR_TIP = "not_applied_with_error_tip"
    """Answered code 0 with an error tip, and nothing cancelled."""


@dataclass(frozen=True, slots=True)
class BuyerReason:
    """Why a buyer asks to cancel: Lazada's ``reason_code`` and ``reason_text`` on the request's lines."""

    code: str
    text: str


# A small, realistic set of buyer reasons; the codes are the sandbox's own (Lazada documents none).
BUYER_CANCEL_REASONS: tuple[BuyerReason, ...] = (
    BuyerReason("1000101", "Change of mind"),
    BuyerReason("1000102", "Found cheaper elsewhere"),
    BuyerReason("1000103", "Duplicate order"),
    BuyerReason("1000104", "Need to change the delivery address"),
    BuyerReason("1000105", "Delivery time is too long"),
)


@dataclass(frozen=True, slots=True)
class RefusalOption:
    """A reason the seller may give to refuse a buyer's request (GetReverseOrderReasonList's ``data[]``)."""

    reason_id: str
    text: str
    muti_language_text: str


REFUSAL_REASONS: tuple[RefusalOption, ...] = (
    RefusalOption("1000201", "The order has already been packed and handed to the courier", "Order already packed"),
    RefusalOption("1000202", "The buyer agreed to keep the order", "Buyer agreed to keep the order"),
    RefusalOption("1000203", "The order is already on its way to the buyer", "Order already on its way"),
)

BUYER_CANCEL_INITIATOR = "cancellation-customer"
"""The ``cancel_return_initiator`` of items cancelled at the buyer's request, whether the seller accepted it or
Lazada did at the deadline: §3.1 lists ``cancellation-customer`` among the documented values, and the request is
the buyer's in both cases (the sandbox's choice; Lazada does not document the value for a deadline acceptance)."""

# Reverse statuses of a buyer's cancellation request (lazada-api.md §8, §8a).
REQUEST_INITIATE = "REQUEST_INITIATE"
REQUEST_REJECT = "REQUEST_REJECT"
REQUEST_CANCEL = "REQUEST_CANCEL"
CANCEL_SUCCESS = "CANCEL_SUCCESS"


@dataclass(slots=True, kw_only=True)
class ReverseLine:
    """One line of a buyer's cancellation request: one order item."""

    reverse_order_line_id: int
    order_item_id: int
    status: str
    reason: BuyerReason
    refund_amount: int
    """Lazada's integer: minor units (cents), except VN, whose dong has none (lazada-api.md §8)."""
    sla: datetime
    seller_sku: str
    platform_sku_id: str
    buyer_id: str


@dataclass(slots=True, kw_only=True)
class BuyerCancelRequest:
    """A buyer's request to cancel items of an order, and what became of it."""

    reverse_order_id: int
    order_id: int
    requested_at: datetime
    deadline: datetime
    lines: list[ReverseLine]
    decided_at: datetime | None = None
    decided_by: str | None = None
    """``seller`` (InitReverseOrderCancelDecide), ``lazada`` (the deadline passed), ``seller_cancel`` or ``buyer``
    (withdrawn)."""
    refusal_reason_code: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether any line still awaits the seller's answer."""
        return any(line.status == REQUEST_INITIATE for line in self.lines)

    @property
    def request_type(self) -> str:
        """Always ``CANCEL``: the sandbox's buyers only ask to cancel."""
        return "CANCEL"


# The InitReverseOrderCancel reference example's tip (lazada-api.md §5; issue 10).
REFERENCE_ERROR_TIP = "stock will be set as 0"
SLOW_CANCEL_DELAY = timedelta(minutes=5)


@dataclass(slots=True)
class _SlowCancel:
    due: datetime
    item_ids: tuple[int, ...]
    reason: ReasonOption


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One handled API request, without its secrets (access token, sign, app key and other system params)."""

    path: str
    params: Mapping[str, str]
    code: str | None
    at: datetime
    request_id: str
    fault: FaultKind | None = None
    applied: bool = True
    http_status: int = 200


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """Tokens handed out by ``/auth/token/create`` or ``/auth/token/refresh``."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    refresh_expires_in: int


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _whole_seconds(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("sandbox times must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0)


def _system_clock() -> datetime:
    return datetime.now(UTC)


_QueryKey = tuple[object, ...]


class SandboxWorld:
    """The state and rules of one sandbox seller and app; every time comes from the injectable clock."""

    def __init__(
        self,
        *,
        country: str = Country.SG,
        tz: ZoneInfo | None = None,
        now: Callable[[], datetime] = _system_clock,
        app_key: str = SANDBOX_APP_KEY,
        app_secret: str = SANDBOX_APP_SECRET,
        access_token: str = SANDBOX_ACCESS_TOKEN,
        refresh_token: str = SANDBOX_REFRESH_TOKEN,
        seller_id: str = "1000000001",
        account: str = "sandbox-seller@example.com",
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        call_log_size: int = 100_000,
    ) -> None:
        if country not in COUNTRIES:
            raise ValueError(f"unknown country {country!r}; expected one of {sorted(COUNTRIES)}")
        self.country = str(country)
        self.tz = tz if tz is not None else ZoneInfo(COUNTRIES[Country(country)].timezone)
        self.currency = COUNTRY_CURRENCIES[country]
        self._clock = now
        self.app_key = app_key
        self.app_secret = SecretStr(app_secret)
        self.seller_id = seller_id
        self.account = account
        self.faults = FaultPlan(timeout_seconds=timeout_seconds)
        self.rate_limit: int | None = None
        """Calls per second each API accepts before ``ApiCallLimit`` (Lazada limits per API, not per app)."""
        self.rate_limits: dict[str, int] = {}
        """Per-API overrides of ``rate_limit``, by API path."""
        self._rate_windows: dict[str, RateLimitWindow] = {}
        self.cancel_modes: dict[int, CancelMode] = {}
        """How InitReverseOrderCancel behaves per order (``CancelMode.NORMAL`` when absent)."""
        self.slow_cancel_delay = SLOW_CANCEL_DELAY
        self._slow_cancels: list[_SlowCancel] = []
        self.order_reasons: dict[int, tuple[str, ...]] = {}
        """Per order, the names of the only reasons validate offers (Lazada's reasons differ per order)."""
        self.date_forms: tuple[str, ...] = ("lazada",)
        """How dates are written, rotating per order: ``lazada``, ``iso`` or ``epoch_ms`` (lazada-api.md §3, §8a)."""
        self.null_strings = False
        """Write absent optional values as the string ``"null"`` rather than ``""``."""

        issued_at = self.now()
        self._access_tokens: dict[str, datetime] = {access_token: issued_at + ACCESS_TOKEN_LIFETIME}
        self._refresh_tokens: dict[str, datetime] = {refresh_token: issued_at + REFRESH_TOKEN_LIFETIME}
        self._auth_codes: dict[str, datetime] = {}
        self._latest_access_token = access_token
        self._latest_refresh_token = refresh_token

        self._orders: dict[int, Order] = {}
        self._items: dict[int, Item] = {}
        self._package_orders: dict[str, int] = {}
        self._created_index: list[tuple[int, int]] = []
        self._updated_index: list[tuple[int, int]] = []
        self._stock: dict[str, int] = {}
        self._version = 0
        self._query_cache: OrderedDict[_QueryKey, list[Order]] = OrderedDict()
        self._next_order_id = 200_000_000_000_001
        self._next_item_id = 300_000_000_000_001
        self._next_package = 1
        self._next_reverse_id = 400_000_000_000_001
        self._next_reverse_line_id = 410_000_000_000_001
        self._buyer_requests: dict[int, BuyerCancelRequest] = {}
        self._open_buyer_requests: set[int] = set()
        self._reverse_lines: dict[int, BuyerCancelRequest] = {}
        self.refusal_reasons: list[RefusalOption] = list(REFUSAL_REASONS)
        """What GetReverseOrderReasonList offers for an open request's line."""
        self.lines_without_refusal_reasons: set[int] = set()
        """Reverse order lines GetReverseOrderReasonList finds no reasons for (error 119)."""
        self.requests_without_sla: set[int] = set()
        """Buyer requests whose lines carry no ``sla`` (§8a lists it, but a line may lack it: the bot must cope)."""
        self.items_without_cancel_trigger: set[int] = set()
        """Order items whose ``cancel_trigger_time`` is blank, as in GetOrderItems' reference example (§3.1)."""
        self.mp3_seller = False
        """An MP3 seller: GetReverseOrdersForSeller answers ``Mp3SellerApiLimit`` (lazada-api.md §8)."""
        self.tickers: list[Callable[[SandboxWorld], None]] = []
        """What happens by itself as time passes, run before every API call (e.g. buyers asking to cancel)."""
        self._request_serial = 0

        self.performance_indicators: list[dict[str, object]] = [dict(one) for one in DEFAULT_INDICATORS]
        """What GetSellerPerformance answers under ``data.indicators`` (tests replace or empty it)."""
        self.garbled_orders: set[int] = set()
        """Orders GetOrders sends in a shape no reader can use (their ``items_count`` is not a number)."""
        self.garbled_items: set[int] = set()
        """Orders whose items GetOrderItems and GetMultipleOrderItems send without a ``status``."""

        self._calls: deque[CallRecord] = deque(maxlen=call_log_size)
        self._call_counts: Counter[str] = Counter()
        self._call_codes: Counter[tuple[str, str | None]] = Counter()

    def __repr__(self) -> str:
        return f"SandboxWorld(country={self.country!r}, orders={len(self._orders)})"

    def use_documented_oddities(self) -> None:
        """Answer as loosely as Lazada's documents show: the three date forms in turn, ``"null"`` for no value."""
        self.date_forms = ("lazada", "iso", "epoch_ms")
        self.null_strings = True

    # -- clock, request ids, call log ---------------------------------------------------------------

    def now(self) -> datetime:
        """The world's current time (aware, UTC)."""
        return self._clock().astimezone(UTC)

    def today(self) -> date:
        """The current date in the world's time zone."""
        return self.now().astimezone(self.tz).date()

    def next_request_id(self) -> str:
        """Return a fresh Lazada-style ``request_id``."""
        self._request_serial += 1
        return f"0b{self._request_serial:022x}"

    def log_call(self, record: CallRecord) -> None:
        """Append one handled request to the call log."""
        self._calls.append(record)
        self._call_counts[record.path] += 1
        self._call_codes[(record.path, record.code)] += 1

    @property
    def calls(self) -> tuple[CallRecord, ...]:
        """The handled requests, oldest first (the most recent ``call_log_size`` of them)."""
        return tuple(self._calls)

    def call_count(self, path: str, *, code: str | None = None) -> int:
        """How many requests to API ``path`` were handled (only those answered ``code`` when given)."""
        path = path.removeprefix("/rest")
        if code is None:
            return self._call_counts[path]
        return self._call_codes[(path, code)]

    def call_counts(self) -> dict[str, int]:
        """Handled requests per API path."""
        return dict(self._call_counts)

    def admit_call(self, path: str = "") -> bool:
        """Count one call of API ``path`` against its limit; False when that API already used up this second."""
        limit = self.rate_limits.get(path, self.rate_limit)
        window = self._rate_windows.setdefault(path, RateLimitWindow())
        return window.admit(self.now(), limit)

    # -- tokens --------------------------------------------------------------------------------------

    @property
    def access_token(self) -> str:
        """The most recently issued access token."""
        return self._latest_access_token

    @property
    def refresh_token(self) -> str:
        """The most recently issued refresh token."""
        return self._latest_refresh_token

    def access_token_valid(self, token: str) -> bool:
        """Whether ``token`` was issued by this world and has not expired."""
        expires_at = self._access_tokens.get(token)
        return expires_at is not None and self.now() < expires_at

    def expire_access_token(self) -> None:
        """Make every access token issued so far expired (the refresh token stays valid)."""
        expired = self.now() - timedelta(seconds=1)
        for token in self._access_tokens:
            self._access_tokens[token] = expired

    def expire_refresh_token(self) -> None:
        """Make every refresh token issued so far expired: the seller must authorize again."""
        expired = self.now() - timedelta(seconds=1)
        for token in self._refresh_tokens:
            self._refresh_tokens[token] = expired

    def issue_auth_code(self) -> str:
        """Return a fresh single-use authorization code, valid for 30 minutes."""
        code = f"0_{self.app_key}_{secrets.token_urlsafe(18)}"
        self._auth_codes[code] = self.now() + AUTH_CODE_LIFETIME
        return code

    def exchange_auth_code(self, code: str) -> TokenGrant:
        """Trade an authorization code for new tokens; ``InvalidCode`` when unknown, used or expired."""
        expires_at = self._auth_codes.pop(code, None)
        if expires_at is None or self.now() >= expires_at:
            raise SandboxApiError("InvalidCode", "Invalid authorization code", type="ISP")
        now = self.now()
        access = f"sandbox-access-{secrets.token_hex(16)}"
        refresh = f"sandbox-refresh-{secrets.token_hex(16)}"
        self._access_tokens[access] = now + ACCESS_TOKEN_LIFETIME
        self._refresh_tokens[refresh] = now + REFRESH_TOKEN_LIFETIME
        self._latest_access_token = access
        self._latest_refresh_token = refresh
        return TokenGrant(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            refresh_expires_in=int(REFRESH_TOKEN_LIFETIME.total_seconds()),
        )

    def refresh_access_token(self, refresh_token: str) -> TokenGrant:
        """Issue a new access token; the refresh token and its deadline stay as they are."""
        now = self.now()
        refresh_expires_at = self._refresh_tokens.get(refresh_token)
        if refresh_expires_at is None or now >= refresh_expires_at:
            raise SandboxApiError(
                "IllegalRefreshToken", "The specified refresh token is invalid or expired", type="ISV"
            )
        access = f"sandbox-access-{secrets.token_hex(16)}"
        self._access_tokens[access] = now + ACCESS_TOKEN_LIFETIME
        self._latest_access_token = access
        return TokenGrant(
            access_token=access,
            refresh_token=refresh_token,
            expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            refresh_expires_in=int((refresh_expires_at - now).total_seconds()),
        )

    # -- building orders -----------------------------------------------------------------------------

    def add_order(
        self,
        items: Sequence[ItemSpec],
        *,
        created_at: datetime | None = None,
        order_id: int | None = None,
        payment_method: str = "COD",
    ) -> Order:
        """Create an order with the given items (one ``ItemSpec`` per unit) and return it."""
        if not items:
            raise ValueError("an order needs at least one item")
        created = _whole_seconds(created_at if created_at is not None else self.now())
        if order_id is None:
            order_id = self._next_order_id
        order = Order(
            order_id=order_id,
            order_number=order_id,
            created_at=created,
            updated_at=created,
            items=[],
            payment_method=payment_method,
        )
        packages: dict[str | None, str] = {}
        for spec in items:
            if spec.status not in ITEM_STATUSES:
                raise ValueError(f"unknown item status {spec.status!r}")
            package_id: str | None = None
            if spec.package is not None or spec.status in _PACKAGED_STATUSES:
                if spec.package not in packages:
                    packages[spec.package] = self._new_package_id()
                package_id = packages[spec.package]
            order.items.append(
                Item(
                    order_item_id=self._next_item_id,
                    order_id=order_id,
                    status=spec.status,
                    sku=spec.sku,
                    name=spec.name,
                    variation=spec.variation,
                    price=Decimal(spec.price).quantize(Decimal("0.01")),
                    package_id=package_id,
                    created_at=created,
                    updated_at=created,
                    cancel_return_initiator=spec.initiator,
                    reason=spec.reason,
                )
            )
            self._next_item_id += 1
            self._stock.setdefault(spec.sku, DEFAULT_STOCK)
        self.load_orders([order])
        return order

    def load_orders(self, orders: Iterable[Order]) -> None:
        """Insert fully built orders (the history generator's bulk path); ids must be new."""
        batch = list(orders)
        for order in batch:
            if order.order_id in self._orders:
                raise ValueError(f"order {order.order_id} already exists")
            self._orders[order.order_id] = order
            self._next_order_id = max(self._next_order_id, order.order_id + 1)
            for item in order.items:
                if item.order_item_id in self._items:
                    raise ValueError(f"order item {item.order_item_id} already exists")
                self._items[item.order_item_id] = item
                self._next_item_id = max(self._next_item_id, item.order_item_id + 1)
                if item.package_id is not None:
                    self._package_orders[item.package_id] = order.order_id
        created = [(_epoch(order.created_at), order.order_id) for order in batch]
        updated = [(_epoch(order.updated_at), order.order_id) for order in batch]
        if len(batch) > 1:
            self._created_index = sorted(self._created_index + created)
            self._updated_index = sorted(self._updated_index + updated)
        else:
            for key in created:
                insort(self._created_index, key)
            for key in updated:
                insort(self._updated_index, key)
        self._changed()

    def new_package_id(self) -> str:
        """Return a fresh package id (``FP…``)."""
        return self._new_package_id()

    def _new_package_id(self) -> str:
        package_id = f"FP{self._next_package:013d}"
        self._next_package += 1
        return package_id

    # -- reading -------------------------------------------------------------------------------------

    def has_order(self, order_id: int) -> bool:
        """Whether the order belongs to this seller."""
        return order_id in self._orders

    def order(self, order_id: int) -> Order:
        """Return the order; ``KeyError`` when unknown."""
        return self._orders[order_id]

    def order_items(self, order_id: int) -> list[Item]:
        """Return the order's items; ``KeyError`` when the order is unknown."""
        return list(self._orders[order_id].items)

    def item(self, order_item_id: int) -> Item:
        """Return one order item; ``KeyError`` when unknown."""
        return self._items[order_item_id]

    def package_items(self, package_id: str) -> list[Item]:
        """Return the items currently in a package (empty when unknown or dissolved)."""
        order_id = self._package_orders.get(package_id)
        if order_id is None:
            return []
        return [item for item in self._orders[order_id].items if item.package_id == package_id]

    @property
    def order_count(self) -> int:
        """How many orders the seller has."""
        return len(self._orders)

    def orders_by_created(self) -> list[Order]:
        """Every order, oldest first."""
        return [self._orders[order_id] for _, order_id in self._created_index]

    def orders_created_between(self, after: datetime, before: datetime) -> list[Order]:
        """The orders created in ``[after, before]``, oldest first."""
        start = bisect_left(self._created_index, (after.timestamp(), -math.inf))
        stop = bisect_right(self._created_index, (before.timestamp(), math.inf))
        return [self._orders[order_id] for _, order_id in self._created_index[start:stop]]

    def stock(self, sku: str) -> int:
        """The sellable stock of a seller SKU; ``KeyError`` when the SKU is unknown."""
        return self._stock[sku]

    def set_stock(self, sku: str, quantity: int) -> None:
        """Set the sellable stock of a seller SKU."""
        self._stock[sku] = quantity

    # -- changing items ------------------------------------------------------------------------------

    def set_item_status(
        self,
        order_item_id: int,
        status: str,
        *,
        initiator: str | None = None,
        reason: str | None = None,
    ) -> Item:
        """Move an item to ``status`` as Seller Center or the courier would (packing assigns a package)."""
        if status not in ITEM_STATUSES:
            raise ValueError(f"unknown item status {status!r}")
        item = self._items[order_item_id]
        item.status = status
        if status in _PACKAGED_STATUSES and item.package_id is None:
            item.package_id = self._new_package_id()
            self._package_orders[item.package_id] = item.order_id
        elif status in {"pending", "unpaid"}:
            item.package_id = None
        if initiator is not None:
            item.cancel_return_initiator = initiator
        if reason is not None:
            item.reason = reason
        self._touch(self._orders[item.order_id], [item])
        return item

    def _touch(self, order: Order, items: Iterable[Item]) -> None:
        now = _whole_seconds(self.now())
        for item in items:
            item.updated_at = now
        old_key = (_epoch(order.updated_at), order.order_id)
        index = bisect_left(self._updated_index, old_key)
        if index < len(self._updated_index) and self._updated_index[index] == old_key:
            del self._updated_index[index]
        order.updated_at = max(order.updated_at, now)
        insort(self._updated_index, (_epoch(order.updated_at), order.order_id))
        self._changed()

    def _changed(self) -> None:
        self._version += 1
        self._query_cache.clear()

    # -- cancellation rules (lazada-api.md §3-§6) ----------------------------------------------------

    def reason_options(self, order_id: int | None = None) -> tuple[ReasonOption, ...]:
        """The seller cancellation reasons of this world's country, narrowed for ``order_id`` when it says so."""
        options = REASON_OPTIONS[self.country]
        allowed = self.order_reasons.get(order_id) if order_id is not None else None
        if allowed is None:
            return options
        return tuple(option for option in options if option.reason_name in allowed)

    def items_for_cancel(self, order_id: int, order_item_ids: Sequence[int]) -> list[Item]:
        """Resolve the items of a validate/create call; ``16``, ``102`` or ``123`` when they are wrong."""
        order = self._orders.get(order_id)
        if order is None:
            # The code the validate and create pages list for an order that is not the seller's (§4, §5).
            raise SandboxApiError("122", "E0122: invalid trade order")
        if not order_item_ids:
            raise SandboxApiError("102", "E0102: trade order line id is empty or invalid")
        by_id = {item.order_item_id: item for item in order.items}
        strangers = [item_id for item_id in order_item_ids if item_id not in by_id]
        if strangers:
            raise SandboxApiError("123", f"E0123: invalid trade order lines {strangers}")
        return [by_id[item_id] for item_id in dict.fromkeys(order_item_ids)]

    @staticmethod
    def cancel_refusal(items: Sequence[Item]) -> str | None:
        """Return Lazada's ``tip_content`` refusing the cancel, or None when every item may be cancelled."""
        blocked = [item for item in items if not item.is_cancellable]
        if not blocked:
            return None
        details = "; ".join(
            f"order item {item.order_item_id} "
            + ("already has a cancellation pending" if item.is_cancel_pending else f"is {item.status}")
            for item in blocked
        )
        return (
            f"These items cannot be cancelled: {details}. Only items that are pending, packed or ready to "
            "ship can be cancelled by the seller."
        )

    def reason_by_id(self, reason_id: str, order_id: int | None = None) -> ReasonOption:
        """Return the reason with this id offered for the order; ``104`` when it is not one of them."""
        for option in self.reason_options(order_id):
            if option.reason_id == reason_id:
                return option
        raise SandboxApiError("104", "E0104: reason is empty or invalid")

    def cancel_items(self, items: Sequence[Item], reason: ReasonOption) -> list[Item]:
        """Cancel the items for a seller reason (with their whole package when packaged); return all cancelled."""
        return self._cancel_now(self.siblings_to_cancel(items), reason)

    def _cancel_now(self, cancelled: list[Item], reason: ReasonOption) -> list[Item]:
        if not cancelled:
            return []
        order = self._orders[cancelled[0].order_id]
        self._void_buyer_lines(cancelled)
        reverse_order_id = self._next_reverse_id
        self._next_reverse_id += 1
        for item in cancelled:
            item.status = "canceled"
            item.cancel_return_initiator = "cancellation-seller"
            item.reason = reason.reason_name
            item.reverse_order_id = reverse_order_id
            item.need_cancel_confirm = False
            if reason.reason_name in STOCK_ZEROING_REASONS:
                self._stock[item.sku] = 0
        self._touch(order, cancelled)
        return cancelled

    def siblings_to_cancel(self, items: Sequence[Item]) -> list[Item]:
        """The items a cancel of ``items`` takes: them, and the cancellable rest of their packages."""
        if not items:
            return []
        order = self._orders[items[0].order_id]
        chosen = {item.order_item_id for item in items}
        # Lazada's tutorial names "the packaged state"; a ready-to-ship item is as packaged as a packed one.
        packages = {item.package_id for item in items if item.status in _REPACKABLE_STATUSES and item.package_id}
        return [
            item
            for item in order.items
            if item.order_item_id in chosen or (item.package_id in packages and item.is_cancellable)
        ]

    def start_slow_cancel(self, items: Sequence[Item], reason: ReasonOption) -> list[Item]:
        """Accept a cancel that settles ``slow_cancel_delay`` later: meanwhile the items show ``is_cancel_pending``."""
        taken = self.siblings_to_cancel(items)
        for item in taken:
            item.is_cancel_pending = True
        self._slow_cancels.append(
            _SlowCancel(
                due=self.now() + self.slow_cancel_delay,
                item_ids=tuple(item.order_item_id for item in taken),
                reason=reason,
            )
        )
        if taken:
            self._touch(self._orders[taken[0].order_id], taken)
        return taken

    def settle(self) -> None:
        """Let time act (called before every API call): tickers, slow cancels, buyer requests past their deadline."""
        for ticker in list(self.tickers):
            ticker(self)
        self._settle_slow_cancels()
        self.decide_overdue_buyer_requests()

    def _settle_slow_cancels(self) -> None:
        now = self.now()
        due = [pending for pending in self._slow_cancels if pending.due <= now]
        if not due:
            return
        self._slow_cancels = [pending for pending in self._slow_cancels if pending.due > now]
        for pending in due:
            items = [self._items[item_id] for item_id in pending.item_ids]
            for item in items:
                item.is_cancel_pending = False
            self._cancel_now([item for item in items if item.status in CANCELLABLE_STATUSES], pending.reason)

    # -- buyer cancellation requests (lazada-api.md §8a) ---------------------------------------------------

    def request_buyer_cancel(
        self,
        order_item_ids: Sequence[int],
        *,
        answer_within: timedelta,
        reason: BuyerReason | None = None,
        requested_at: datetime | None = None,
    ) -> int:
        """The buyer asks to cancel these items of one order; returns the reverse order id.

        The items get ``need_cancel_confirm``, the request's ``reverse_order_id`` and ``cancel_trigger_time`` (the
        deadline, ``answer_within`` after ``requested_at``), and GetReverseOrdersForSeller lists the request in
        ``REQUEST_INITIATE`` with one line per item. ``ValueError`` when the items are not of one order, not
        cancellable, or already under a buyer's request.
        """
        if not order_item_ids:
            raise ValueError("a buyer's request needs at least one item")
        items = [self._items[item_id] for item_id in dict.fromkeys(order_item_ids)]
        if len({item.order_id for item in items}) != 1:
            raise ValueError("a buyer's request covers items of one order")
        refused = [item.order_item_id for item in items if not item.is_cancellable or item.need_cancel_confirm]
        if refused:
            raise ValueError(f"order items {refused} cannot be asked to cancel (not cancellable, or already asked)")
        asked_at = _whole_seconds(requested_at if requested_at is not None else self.now())
        deadline = _whole_seconds(asked_at + answer_within)
        reverse_order_id = self._next_reverse_id
        self._next_reverse_id += 1
        reason = reason if reason is not None else BUYER_CANCEL_REASONS[reverse_order_id % len(BUYER_CANCEL_REASONS)]
        order_id = items[0].order_id
        buyer_id = str(800_000_000 + order_id % 100_000_000)
        lines = []
        for item in items:
            lines.append(
                ReverseLine(
                    reverse_order_line_id=self._next_reverse_line_id,
                    order_item_id=item.order_item_id,
                    status=REQUEST_INITIATE,
                    reason=reason,
                    refund_amount=self._minor_units(item.price),
                    sla=deadline,
                    seller_sku=item.sku,
                    platform_sku_id=str(1_000_000_001 + sum(map(ord, item.sku)) * 7919),
                    buyer_id=buyer_id,
                )
            )
            self._next_reverse_line_id += 1
            item.need_cancel_confirm = True
            item.reverse_order_id = reverse_order_id
            item.cancel_trigger_time = deadline
        request = BuyerCancelRequest(
            reverse_order_id=reverse_order_id, order_id=order_id, requested_at=asked_at, deadline=deadline, lines=lines
        )
        self._buyer_requests[reverse_order_id] = request
        self._open_buyer_requests.add(reverse_order_id)
        for line in lines:
            self._reverse_lines[line.reverse_order_line_id] = request
        self._touch(self._orders[order_id], items)
        return reverse_order_id

    def _minor_units(self, price: Decimal) -> int:
        # lazada-api.md §8: refund_amount is in minor units, except VN (the dong has no minor unit).
        return int(price) if self.country == Country.VN else int(price * 100)

    def buyer_request(self, reverse_order_id: int) -> BuyerCancelRequest:
        """One buyer's request; ``KeyError`` when unknown."""
        return self._buyer_requests[reverse_order_id]

    def buyer_requests(self) -> list[BuyerCancelRequest]:
        """Every buyer's request, oldest first (open and decided)."""
        return [self._buyer_requests[key] for key in sorted(self._buyer_requests)]

    def open_buyer_requests(self) -> list[BuyerCancelRequest]:
        """The requests still awaiting the seller's answer, oldest first."""
        return [self._buyer_requests[key] for key in sorted(self._open_buyer_requests)]

    def find_buyer_requests(
        self,
        *,
        request_types: frozenset[str] | None = None,
        statuses: frozenset[str] | None = None,
        reverse_order_id: int | None = None,
        trade_order_id: int | None = None,
    ) -> list[BuyerCancelRequest]:
        """The requests GetReverseOrdersForSeller's filters match (a request matches when any line's status does)."""
        found = []
        for request in self.buyer_requests():
            if request_types is not None and request.request_type not in request_types:
                continue
            if statuses is not None and not any(line.status in statuses for line in request.lines):
                continue
            if reverse_order_id is not None and request.reverse_order_id != reverse_order_id:
                continue
            if trade_order_id is not None and request.order_id != trade_order_id:
                continue
            found.append(request)
        return found

    def refusal_options(self, reverse_order_line_id: int) -> list[RefusalOption]:
        """GetReverseOrderReasonList for one line: ``103`` for an unknown line, ``119`` when there are none.

        A line whose request is no longer open has nothing left to refuse, so it has no reasons either (119).
        """
        request = self._reverse_lines.get(reverse_order_line_id)
        if request is None:
            raise SandboxApiError("103", "E0103: reverse order line id is empty or invalid")
        if (
            reverse_order_line_id in self.lines_without_refusal_reasons
            or not request.is_open
            or not self.refusal_reasons
        ):
            raise SandboxApiError("119", "E0119: cannot find any cancel reasons for these orders")
        return list(self.refusal_reasons)

    def decide_buyer_request(self, reverse_order_id: int, *, agree: bool, reason_code: str | None = None) -> None:
        """InitReverseOrderCancelDecide: accept (cancel the items) or refuse (they stay as they are).

        ``105`` for an id that is no reverse order; ``131`` for one that awaits no decision: already decided,
        decided by Lazada at its deadline, or a seller's own cancellation (not a buyer's request).
        """
        request = self._buyer_requests.get(reverse_order_id)
        if request is None:
            if any(item.reverse_order_id == reverse_order_id for item in self._items.values()):
                raise SandboxApiError("131", "E0131: no decision for this reverse order")
            raise SandboxApiError("105", "E0105: reverse order id is empty or invalid")
        if not request.is_open:
            raise SandboxApiError("131", "E0131: no decision for this reverse order")
        if agree:
            self._accept_buyer_request(request, by="seller", at=self.now())
        else:
            self._refuse_buyer_request(request, reason_code)

    def decide_overdue_buyer_requests(self) -> list[int]:
        """Lazada decides by itself at the deadline: every open request past it is accepted (the items cancelled).

        §8a names ``cancel_trigger_time`` "when Lazada cancels by itself if the seller stays silent": the sandbox
        reads that as accepting the buyer's request. Returns the reverse order ids decided.
        """
        now = self.now()
        due = [key for key in sorted(self._open_buyer_requests) if self._buyer_requests[key].deadline <= now]
        for key in due:
            request = self._buyer_requests[key]
            self._accept_buyer_request(request, by="lazada", at=request.deadline)
        return due

    def withdraw_buyer_request(self, reverse_order_id: int) -> None:
        """The buyer withdraws an open request: its open lines lapse (``REQUEST_CANCEL``), nothing is cancelled."""
        request = self._buyer_requests[reverse_order_id]
        items = [self._items[line.order_item_id] for line in request.lines]
        for line, item in zip(request.lines, items, strict=True):
            if line.status == REQUEST_INITIATE:
                line.status = REQUEST_CANCEL
                item.need_cancel_confirm = False
                item.cancel_trigger_time = None
        self._close_buyer_request(request, by="buyer", at=self.now())
        self._touch(self._orders[request.order_id], items)

    def _accept_buyer_request(self, request: BuyerCancelRequest, *, by: str, at: datetime) -> None:
        items = [self._items[line.order_item_id] for line in request.lines]
        for line, item in zip(request.lines, items, strict=True):
            if line.status != REQUEST_INITIATE:
                continue
            if item.status in CANCELLABLE_STATUSES:
                item.status = "canceled"
                item.cancel_return_initiator = BUYER_CANCEL_INITIATOR
                item.reason = line.reason.text
                item.is_cancel_pending = False
                line.status = CANCEL_SUCCESS
            else:
                # Shipped meanwhile: nothing left to cancel, so the request lapses.
                line.status = REQUEST_CANCEL
            item.need_cancel_confirm = False
            item.cancel_trigger_time = None
        self._close_buyer_request(request, by=by, at=at)
        self._touch(self._orders[request.order_id], items)

    def _refuse_buyer_request(self, request: BuyerCancelRequest, reason_code: str | None) -> None:
        items = [self._items[line.order_item_id] for line in request.lines]
        for line, item in zip(request.lines, items, strict=True):
            if line.status == REQUEST_INITIATE:
                line.status = REQUEST_REJECT
                item.need_cancel_confirm = False
                item.cancel_trigger_time = None
        request.refusal_reason_code = reason_code
        self._close_buyer_request(request, by="seller", at=self.now())
        self._touch(self._orders[request.order_id], items)

    def _close_buyer_request(self, request: BuyerCancelRequest, *, by: str, at: datetime) -> None:
        request.decided_at = _whole_seconds(at)
        request.decided_by = by
        self._open_buyer_requests.discard(request.reverse_order_id)

    def _void_buyer_lines(self, items: Sequence[Item]) -> None:
        """A seller's own cancel of items under an open buyer's request voids those lines (``REQUEST_CANCEL``)."""
        for item in items:
            if not item.need_cancel_confirm or item.reverse_order_id is None:
                continue
            request = self._buyer_requests.get(item.reverse_order_id)
            if request is None or not request.is_open:
                continue
            for line in request.lines:
                if line.order_item_id == item.order_item_id and line.status == REQUEST_INITIATE:
                    line.status = REQUEST_CANCEL
            item.cancel_trigger_time = None
            if all(line.status != REQUEST_INITIATE for line in request.lines):
                self._close_buyer_request(request, by="seller_cancel", at=self.now())

    def repack(self, package_id: str) -> tuple[str, str]:
        """Dissolve a package (its items go back to pending); return ``(item_err_code, msg)``."""
        order_id = self._package_orders.get(package_id)
        items = self.package_items(package_id)
        if order_id is None or not items:
            return "600001", "package not found"
        live = [item for item in items if item.status != "canceled"]
        if not live:
            return "600002", "package already cancelled"
        if any(item.status not in _REPACKABLE_STATUSES for item in live):
            return "600003", "package has been handed over and cannot be repacked"
        for item in live:
            item.status = "pending"
            item.package_id = None
        if not any(item.package_id == package_id for item in items):
            del self._package_orders[package_id]
        self._touch(self._orders[order_id], live)
        return "0", "success"

    # -- GetOrders -----------------------------------------------------------------------------------

    def find_orders(
        self,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        update_after: datetime | None = None,
        update_before: datetime | None = None,
        statuses: frozenset[str] | None = None,
        sort_by: str = "created_at",
        descending: bool = False,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[int, list[Order]]:
        """Return ``(count_total, page)`` of the orders matching GetOrders' filters (bounds inclusive)."""
        if sort_by not in {"created_at", "updated_at"}:
            raise ValueError(f"cannot sort by {sort_by!r}")
        key: _QueryKey = (
            created_after,
            created_before,
            update_after,
            update_before,
            statuses,
            sort_by,
            descending,
        )
        matching = self._query_cache.get(key)
        if matching is None:
            matching = self._match_orders(
                created_after, created_before, update_after, update_before, statuses, sort_by, descending
            )
            self._query_cache[key] = matching
            while len(self._query_cache) > 8:
                self._query_cache.popitem(last=False)
        else:
            self._query_cache.move_to_end(key)
        return len(matching), matching[offset : offset + limit]

    def _match_orders(
        self,
        created_after: datetime | None,
        created_before: datetime | None,
        update_after: datetime | None,
        update_before: datetime | None,
        statuses: frozenset[str] | None,
        sort_by: str,
        descending: bool,
    ) -> list[Order]:
        use_created = created_after is not None or created_before is not None or update_after is None
        if use_created:
            index, low, high = self._created_index, created_after, created_before
        else:
            index, low, high = self._updated_index, update_after, update_before
        start = 0 if low is None else bisect_left(index, (low.timestamp(), -math.inf))
        stop = len(index) if high is None else bisect_right(index, (high.timestamp(), math.inf))
        orders = [self._orders[order_id] for _, order_id in index[start:stop]]
        if use_created and (update_after is not None or update_before is not None):
            orders = [
                order
                for order in orders
                if (update_after is None or order.updated_at >= update_after)
                and (update_before is None or order.updated_at <= update_before)
            ]
        if statuses is not None:
            orders = [order for order in orders if any(item.status in statuses for item in order.items)]
        index_sort = "created_at" if use_created else "updated_at"
        if sort_by != index_sort:
            if sort_by == "created_at":
                orders.sort(key=lambda order: (order.created_at, order.order_id))
            else:
                orders.sort(key=lambda order: (order.updated_at, order.order_id))
        if descending:
            orders.reverse()
        return orders
