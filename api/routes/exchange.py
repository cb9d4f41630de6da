"""The live internal exchange: products, order book, trades, a site's orders, and a WebSocket of its events.

Orders are placed for a site (the participant is the site) through the same
pre-trade check as in a backtest: deliverability on top of the site's plan,
then the position, VaR, credit and grid limits. A rejected order answers 409
with every reason and leaves the book unchanged. A user sees trades of their
own sites only; the other side of a trade is shown as ``other`` unless the
user may see that site too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Path,
    Query,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from pydantic import BaseModel, Field

from api.auth.store import User
from api.auth.tokens import subject
from api.deps import ERRORS, CurrentUser, not_found, require, visible_site
from api.live import LiveHub
from api.routes.sites import Hub

router = APIRouter(prefix="/api/v1", tags=["exchange"], responses=ERRORS)
PRODUCT = r"^[A-Za-z0-9_-]{1,20}:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z:\d{1,4}$"
WS_POLL_S = 0.2


class ProductInfo(BaseModel):
    """An open product of the internal exchange."""

    product: str = Field(description="MARKET:DELIVERY_START_UTC:MINUTES")
    delivery_start_utc: str
    duration_min: int
    gate_closure_utc: str
    best_bid_eur_per_mwh: float | None
    best_ask_eur_per_mwh: float | None


class Level(BaseModel):
    """Aggregated quantity at one price."""

    price_eur_per_mwh: float
    quantity_mwh: float
    orders: int


class Book(BaseModel):
    """Depth of one product, best levels first."""

    product: str
    open: bool
    bids: list[Level]
    asks: list[Level]


class TradeInfo(BaseModel):
    """One fill of the internal exchange."""

    trade_id: int
    product: str
    buyer: str
    seller: str
    quantity_mwh: float
    price_eur_per_mwh: float
    ts_utc: str


class NewOrder(BaseModel):
    """An order for the site in the path."""

    product: str = Field(pattern=PRODUCT, description="An open product, e.g. DE-LU:2023-06-14T10:00Z:60")
    side: Literal["BUY", "SELL"]
    quantity_mwh: float = Field(gt=0, le=1000, description="Energy over the delivery period, a multiple of the lot [MWh]")
    price_eur_per_mwh: float = Field(ge=-10_000, le=10_000, description="Limit price [EUR/MWh]")
    time_in_force: Literal["GTC", "IOC", "FOK"] = "GTC"
    client_order_id: str | None = Field(None, max_length=64)


class OrderInfo(BaseModel):
    """An order as the exchange holds it."""

    order_id: int
    product: str
    side: str
    price_eur_per_mwh: float
    quantity_mwh: float
    open_mwh: float
    filled_mwh: float
    status: str
    time_in_force: str
    client_order_id: str | None


class OrderAck(BaseModel):
    """The exchange's answer to a placed or cancelled order (after the journal commit)."""

    accepted: bool
    order: OrderInfo | None
    trades: list[TradeInfo]


def _exchange(live: LiveHub) -> Any:
    if live.exchange is None:
        raise not_found("exchange (the live run is still starting)")
    return live.exchange


def _order(view: dict[str, Any] | None) -> OrderInfo | None:
    return None if view is None else OrderInfo(**{k: view[k] for k in OrderInfo.model_fields})


def _trade(t: dict[str, Any], user: User) -> TradeInfo:
    return TradeInfo(
        trade_id=t["trade_id"], product=t["product"], buyer=t["buyer"] if user.sees(t["buyer"]) else "other",
        seller=t["seller"] if user.sees(t["seller"]) else "other", quantity_mwh=t.get("quantity_mwh", 0.0),
        price_eur_per_mwh=t["price_eur_per_mwh"], ts_utc=t.get("ts_utc", ""),
    )  # fmt: skip


def _mine(live: LiveHub, user: User) -> list[str] | None:
    return None if user.role == "admin" else [s for s in live.capacity_kwh if user.sees(s)]


@router.get("/exchange/products", response_model=list[ProductInfo])
async def products(live: Hub, user: CurrentUser) -> list[ProductInfo]:
    """Products open for trading (the coming MTUs up to their gate closure)."""
    return [ProductInfo(**p) for p in await _exchange(live).products()]


@router.get("/exchange/book/{product}", response_model=Book, responses={404: {"description": "no such product"}})
async def book(
    live: Hub, user: CurrentUser, product: Annotated[str, Path(pattern=PRODUCT)], levels: Annotated[int, Query(ge=1, le=50)] = 10
) -> Book:  # fmt: skip
    """Aggregated depth of one product (no participant is shown)."""
    got = await _exchange(live).book(product, levels)
    if got is None:
        raise not_found(f"product {product}")
    return Book(product=product, open=got["open"], bids=[Level(**lv) for lv in got["bids"]], asks=[Level(**lv) for lv in got["asks"]])


@router.get("/exchange/trades", response_model=list[TradeInfo])
async def trades(live: Hub, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[TradeInfo]:
    """The latest trades of the user's sites, newest first."""
    return [_trade(t, user) for t in await _exchange(live).recent_trades(_mine(live, user), limit)]


@router.get("/sites/{site_id}/orders", response_model=list[OrderInfo], responses={404: {"description": "no such site for this user"}})
async def orders(
    site_id: Annotated[str, Depends(visible_site)], live: Hub, open_only: bool = True
) -> list[OrderInfo]:  # fmt: skip
    """The site's orders on the internal exchange, newest first (``open_only=false``: every one)."""
    return [o for o in (_order(v) for v in await _exchange(live).orders([site_id], open_only)) if o is not None]


@router.post("/sites/{site_id}/orders", response_model=OrderAck, status_code=status.HTTP_201_CREATED,
             responses={404: {"description": "no such site for this user"}, 409: {"description": "rejected by the pre-trade check: every reason, book unchanged"}})  # fmt: skip
async def place(
    site_id: Annotated[str, Depends(visible_site)], body: NewOrder, live: Hub, user: Annotated[User, Depends(require("trader"))]
) -> OrderAck:  # fmt: skip
    """Place an order for the site through the pre-trade check."""
    if site_id not in live.capacity_kwh:
        raise not_found(f"site {site_id}")
    ack = await _exchange(live).submit(site_id, body.product, body.side, body.quantity_mwh, body.price_eur_per_mwh,
                                       body.time_in_force, body.client_order_id)  # fmt: skip
    return _acked(ack, user, live, site_id)


@router.delete("/sites/{site_id}/orders/{order_id}", response_model=OrderAck,
               responses={404: {"description": "no such open order of this site for this user"}})  # fmt: skip
async def cancel(
    site_id: Annotated[str, Depends(visible_site)], order_id: Annotated[int, Path(ge=1, le=2**62)], live: Hub,
    user: Annotated[User, Depends(require("trader"))],
) -> OrderAck:  # fmt: skip
    """Cancel one of the site's open orders."""
    ack = await _exchange(live).cancel(site_id, order_id)
    if not ack["accepted"] and {"UNKNOWN_ORDER", "NOT_OWNER"} & set(ack["reasons"]):
        raise not_found(f"order {order_id} of site {site_id}")
    return _acked(ack, user, live, site_id)


def _acked(ack: dict[str, Any], user: User, live: LiveHub, site_id: str) -> OrderAck:
    if not ack["accepted"]:
        raise HTTPException(status.HTTP_409_CONFLICT, {"reasons": ack["reasons"], "message": ack["message"]})
    order = _order(ack["order"])
    if order is not None:
        live.publish("order", site_id, order.model_dump() | {"by": user.username})
    return OrderAck(accepted=True, order=order, trades=[_trade({**t, "ts_utc": ""}, user) for t in ack["trades"]])


async def _ws_user(websocket: WebSocket) -> User | None:
    """The user of the ``Authorization: Bearer`` header, or of a first message ``{"token": ...}`` within 5 s."""
    app = websocket.app
    header = websocket.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else None
    if token is None:
        with contextlib.suppress(TimeoutError, ValueError, KeyError, TypeError, WebSocketDisconnect):
            token = json.loads(await asyncio.wait_for(websocket.receive_text(), timeout=5.0))["token"]
    name = subject(str(token), app.state.settings.jwt_secret.get_secret_value()) if token else None
    return app.state.store.get(name) if name else None


@router.websocket("/exchange/ws")
async def stream(websocket: WebSocket) -> None:
    """Book, order and trade events of the internal exchange as JSON messages, oldest first.

    Authenticate with an ``Authorization: Bearer`` header or, from a browser, a
    first message ``{"token": "..."}``; a bad token closes with code 1008. A
    user gets the book events of every product and the order and trade events
    of their own sites.
    """
    await websocket.accept()
    user = await _ws_user(websocket)
    live: LiveHub | None = websocket.app.state.live
    if user is None or live is None or live.exchange is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="not authenticated" if user is None else "no live exchange")
        return
    after = websocket.query_params.get("after_seq", "0")
    seq = int(after) if after.isdigit() and len(after) < 19 else 0  # ?after_seq=N resumes after event N
    closed = asyncio.create_task(_until_closed(websocket))  # a client that leaves ends the loop even with no events to send
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while not closed.done():
                for event in await live.exchange.events_since(seq):
                    seq = event["seq"]
                    if _visible(event, user):
                        await websocket.send_json(_masked(event, user))
                await asyncio.sleep(WS_POLL_S)
    finally:
        closed.cancel()


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and drop) what the client sends until it closes."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


def _visible(event: dict[str, Any], user: User) -> bool:
    d = event["data"]
    if event["kind"] == "book":
        return True
    if event["kind"] == "trade":
        return user.sees(d["buyer"]) or user.sees(d["seller"])
    return bool(d.get("participant")) and user.sees(d["participant"])


def _masked(event: dict[str, Any], user: User) -> dict[str, Any]:
    d = dict(event["data"])
    for side in ("buyer", "seller"):
        if side in d and not user.sees(d[side]):
            d[side] = "other"
    return {**event, "data": d}
