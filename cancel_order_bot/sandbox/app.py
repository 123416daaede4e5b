"""The sandbox as an ASGI app: Lazada's API under ``/rest`` and unsigned test controls under ``/_sandbox``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from cancel_order_bot.sandbox.api import (
    SYSTEM_PARAMS,
    ApiOutcome,
    handle_api_call,
    item_json,
    order_json,
    reverse_order_json,
)
from cancel_order_bot.sandbox.faults import NETWORK_FAULTS, Fault, FaultKind
from cancel_order_bot.sandbox.network import NetworkMiddleware, NetworkModel, Sleep
from cancel_order_bot.sandbox.world import (
    BUYER_CANCEL_REASONS,
    ITEM_STATUSES,
    BuyerReason,
    CallRecord,
    CancelMode,
    SandboxWorld,
)

__all__ = ["NETWORK_FAULT_HEADER", "InjectedResetError", "create_sandbox_app"]

# Set on the answer of an in-process app so ``SandboxTransport`` can raise what a real client would see.
NETWORK_FAULT_HEADER = "x-sandbox-network-fault"

REDACTED = "***"
SECRET_API_PARAMS = frozenset({"refresh_token", "code"})
_MALFORMED_BODY = b'{"code":"0","data":{"orders":[{"order_id":'
_ENVELOPE_FAULTS = MappingProxyType(
    {
        FaultKind.SERVICE_TIMEOUT: ("ISP", "ServiceTimeout", "The request has failed due to a service timeout"),
        FaultKind.API_CALL_LIMIT: (
            "SYSTEM",
            "ApiCallLimit",
            "Api access frequency exceeds the limit. this ban will last 1 seconds",
        ),
        FaultKind.ILLEGAL_ACCESS_TOKEN: (
            "ISV",
            "IllegalAccessToken",
            "The specified access token is invalid or expired",
        ),
        FaultKind.CAMPAIGN_DISABLED: (
            "ISP",
            "998",
            "To ensure stability of service, this API service is disabled",
        ),
        FaultKind.ROC_INTERNAL_ERROR: ("ISP", "106", "E0106: ROC internal error"),
    }
)
_DEFAULT_TIP_ERROR = "This order cannot be cancelled right now. Please try again later or contact Lazada support."


class _FaultRequest(BaseModel):
    """The JSON body of ``POST /_sandbox/faults``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FaultKind
    path: str | None = None
    times: int = Field(default=1, ge=1)
    apply_first: bool = False
    delay: float | None = Field(default=None, ge=0)
    status: int = Field(default=502, ge=500, le=599)
    text: str | None = None


class _StatusChange(BaseModel):
    """The JSON body of ``POST /_sandbox/items/{id}/status``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: str
    initiator: str | None = None
    reason: str | None = None


class _CancelModeChange(BaseModel):
    """The JSON body of ``POST /_sandbox/orders/{id}/cancel``: how its cancel behaves, which reasons it offers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: CancelMode = CancelMode.NORMAL
    reasons: list[str] | None = None


class _BuyerCancelRequest(BaseModel):
    """The JSON body of ``POST /_sandbox/orders/{id}/buyer-cancel``: the buyer asks to cancel (all items by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[int] | None = None
    hours: float = Field(default=24.0, gt=0, le=24 * 30)
    reason: str | None = None


class InjectedResetError(ConnectionResetError):
    """Raised mid-response on purpose so the HTTP server drops the connection (the ``connection_reset`` fault)."""


class _AbortedResponse(Response):
    """Starts an answer and then fails, so the server drops the connection mid-response."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the status line and headers, then abort."""
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json;charset=UTF-8")],
            }
        )
        raise InjectedResetError("sandbox fault: connection reset (injected on purpose)")


@dataclass(frozen=True, slots=True)
class _Answer:
    response: Response
    code: str | None


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        if body and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


def _loggable(params: dict[str, str]) -> MappingProxyType[str, str]:
    """The API params worth logging: no system params, and token-endpoint secrets masked."""
    return MappingProxyType(
        {
            name: REDACTED if name in SECRET_API_PARAMS else value
            for name, value in params.items()
            if name not in SYSTEM_PARAMS
        }
    )


def _fault_answer(fault: Fault, path: str, request_id: str) -> _Answer:
    if fault.kind is FaultKind.HTTP_502:
        phrase = HTTPStatus(fault.status).phrase
        html = f"<html><head><title>{fault.status} {phrase}</title></head><body>{phrase}</body></html>"
        return _Answer(Response(html, status_code=fault.status, media_type="text/html"), None)
    if fault.kind is FaultKind.MALFORMED_JSON:
        return _Answer(Response(_MALFORMED_BODY, media_type="application/json"), None)
    if fault.kind is FaultKind.TIP_ERROR:
        data: dict[str, Any] = {"tip_content": fault.text or _DEFAULT_TIP_ERROR, "tip_type": "error"}
        if path == "/order/reverse/cancel/validate":
            data["reason_options"] = []
        return _Answer(JSONResponse({"code": "0", "data": data, "request_id": request_id}), "0")
    if fault.kind is FaultKind.CANNED:
        assert fault.body is not None
        canned = {**fault.body, "request_id": request_id} if "request_id" in fault.body else dict(fault.body)
        return _Answer(JSONResponse(canned), str(canned.get("code")))
    if fault.kind is FaultKind.CODE_WITH_TIP:
        tipped = {
            "type": "ISV",
            "code": "123",
            "message": "E0123: invalid trade order lines",
            "data": {"tip_content": fault.text or _DEFAULT_TIP_ERROR, "tip_type": "error"},
            "request_id": request_id,
        }
        return _Answer(JSONResponse(tipped), "123")
    error_type, code, message = _ENVELOPE_FAULTS[fault.kind]
    body = {"type": error_type, "code": code, "message": message, "request_id": request_id}
    return _Answer(JSONResponse(body), code)


def create_sandbox_app(
    world: SandboxWorld,
    *,
    rtt_ms: float = 0.0,
    sleep: Sleep = asyncio.sleep,
    in_process: bool = False,
) -> Starlette:
    """Build the sandbox app over ``world``.

    ``rtt_ms`` and ``sleep`` drive the network model. ``in_process`` marks network faults with a header
    instead of really waiting or dropping the connection; ``SandboxTransport`` sets it.
    """
    network = NetworkModel(rtt_ms, sleep=sleep)

    async def api(request: Request) -> Response:
        path = "/" + request.path_params["api_path"]
        params = await _params(request)
        request_id = world.next_request_id()
        fault = world.faults.take(path)
        outcome: ApiOutcome | None = None
        if fault is None or fault.apply_first:
            outcome = handle_api_call(world, path, params, request_id)
        network_fault = fault is not None and fault.kind in NETWORK_FAULTS
        answer: _Answer | None = None
        if fault is None:
            assert outcome is not None
            answer = _Answer(JSONResponse(outcome.body), outcome.code)
        elif not network_fault:
            answer = _fault_answer(fault, path, request_id)
        world.log_call(
            CallRecord(
                path=path,
                params=_loggable(params),
                code=answer.code if answer is not None else None,
                at=world.now(),
                request_id=request_id,
                fault=fault.kind if fault is not None else None,
                applied=outcome is not None and outcome.handled,
                http_status=answer.response.status_code if answer is not None else 0,
            )
        )
        if answer is not None:
            return answer.response
        assert fault is not None
        if in_process:
            return Response(status_code=204, headers={NETWORK_FAULT_HEADER: fault.kind.value})
        if fault.kind is FaultKind.CONNECTION_RESET:
            return _AbortedResponse()
        await sleep(fault.delay_seconds)
        if outcome is not None:
            return JSONResponse(outcome.body)
        return Response("upstream request timeout", status_code=504, media_type="text/plain")

    async def calls(request: Request) -> Response:
        counts = world.call_counts()
        return JSONResponse({"counts": counts, "total": sum(counts.values())})

    async def inject_fault(request: Request) -> Response:
        try:
            spec = _FaultRequest.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"error": error.errors(include_url=False, include_context=False)}, 400)
        fault = world.faults.inject(
            spec.kind,
            path=spec.path,
            times=spec.times,
            apply_first=spec.apply_first,
            delay=spec.delay,
            status=spec.status,
            text=spec.text,
        )
        return JSONResponse(
            {"kind": fault.kind.value, "path": fault.path, "times": fault.remaining, "apply_first": fault.apply_first},
            201,
        )

    async def set_status(request: Request) -> Response:
        order_item_id: int = request.path_params["order_item_id"]
        try:
            change = _StatusChange.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"error": error.errors(include_url=False, include_context=False)}, 400)
        if change.status not in ITEM_STATUSES:
            return JSONResponse({"error": f"unknown status {change.status!r}"}, 400)
        try:
            item = world.set_item_status(order_item_id, change.status, initiator=change.initiator, reason=change.reason)
        except KeyError:
            return JSONResponse({"error": f"unknown order item {order_item_id}"}, 404)
        return JSONResponse(item_json(world, item))

    async def show_order(request: Request) -> Response:
        order_id: int = request.path_params["order_id"]
        if not world.has_order(order_id):
            return JSONResponse({"error": f"unknown order {order_id}"}, 404)
        order = world.order(order_id)
        return JSONResponse(
            {"order": order_json(world, order), "items": [item_json(world, item) for item in order.items]}
        )

    async def set_cancel_mode(request: Request) -> Response:
        order_id: int = request.path_params["order_id"]
        try:
            change = _CancelModeChange.model_validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"error": error.errors(include_url=False, include_context=False)}, 400)
        if not world.has_order(order_id):
            return JSONResponse({"error": f"unknown order {order_id}"}, 404)
        world.cancel_modes[order_id] = change.mode
        if change.reasons is not None:
            world.order_reasons[order_id] = tuple(change.reasons)
        return JSONResponse({"order_id": order_id, "mode": change.mode.value, "reasons": change.reasons})

    async def buyer_cancel(request: Request) -> Response:
        order_id: int = request.path_params["order_id"]
        try:
            asked = _BuyerCancelRequest.model_validate_json(await request.body() or b"{}")
        except ValidationError as error:
            return JSONResponse({"error": error.errors(include_url=False, include_context=False)}, 400)
        if not world.has_order(order_id):
            return JSONResponse({"error": f"unknown order {order_id}"}, 404)
        order = world.order(order_id)
        item_ids = asked.items
        if item_ids is None:
            item_ids = [item.order_item_id for item in order.items if item.is_cancellable]
        strangers = sorted(set(item_ids) - {item.order_item_id for item in order.items})
        if strangers:
            return JSONResponse({"error": f"order items {strangers} are not in order {order_id}"}, 404)
        reason = None
        if asked.reason is not None:
            known = {one.text: one for one in BUYER_CANCEL_REASONS}
            reason = known.get(asked.reason, BuyerReason("1000199", asked.reason))
        try:
            reverse_order_id = world.request_buyer_cancel(
                item_ids, answer_within=timedelta(hours=asked.hours), reason=reason
            )
        except ValueError as error:
            return JSONResponse({"error": str(error)}, 409)
        return JSONResponse(reverse_order_json(world, world.buyer_request(reverse_order_id)), 201)

    async def expire_access_token(request: Request) -> Response:
        world.expire_access_token()
        return JSONResponse({"expired": "access_token"})

    async def show_stock(request: Request) -> Response:
        sku: str = request.path_params["sku"]
        try:
            return JSONResponse({"sku": sku, "stock": world.stock(sku)})
        except KeyError:
            return JSONResponse({"error": f"unknown sku {sku!r}"}, 404)

    routes = [
        Route("/rest/{api_path:path}", api, methods=["GET", "POST"]),
        Route("/_sandbox/calls", calls, methods=["GET"]),
        Route("/_sandbox/faults", inject_fault, methods=["POST"]),
        Route("/_sandbox/items/{order_item_id:int}/status", set_status, methods=["POST"]),
        Route("/_sandbox/orders/{order_id:int}", show_order, methods=["GET"]),
        Route("/_sandbox/orders/{order_id:int}/cancel", set_cancel_mode, methods=["POST"]),
        Route("/_sandbox/orders/{order_id:int}/buyer-cancel", buyer_cancel, methods=["POST"]),
        Route("/_sandbox/tokens/expire", expire_access_token, methods=["POST"]),
        Route("/_sandbox/stock/{sku:path}", show_stock, methods=["GET"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(NetworkMiddleware, model=network)])
    app.state.world = world
    app.state.network = network
    return app
