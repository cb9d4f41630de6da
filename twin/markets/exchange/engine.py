"""Matching engine: one continuous order book per product, with order ids and checks.

The engine is deterministic: the same commands with the same timestamps give
the same orders, trades and books. That is what lets
:class:`twin.markets.exchange.exchange.Exchange` rebuild it from its journal after a
crash and prove it with :meth:`MatchingEngine.state_hash`.

The engine checks what any exchange checks (product open, quantity and price on
the grid and inside the limits); physical deliverability, rate limits and
temperature are the pre-trade checks of :mod:`twin.markets.exchange.pretrade`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from twin.markets.exchange.orderbook import (
    Depth,
    OrderBook,
    PriceRule,
    SelfTradePrevention,
    cancel_open,
)
from twin.markets.exchange.orders import (
    CancelReason,
    Order,
    OrderRequest,
    OrderStatus,
    Rejection,
    RejectReason,
    Side,
    TimeInForce,
    Trade,
)


@dataclass(frozen=True)
class EngineConfig:
    """Rules of the continuous market.

    Attributes
    ----------
    tick_eur_per_mwh : float
        Price grid. [EUR/MWh] (EPEX intraday: 0.01)
    lot_mwh : float
        Quantity grid. [MWh] (0.001 MWh = 1 kWh suits batteries of tens of kW)
    min_price_eur_per_mwh, max_price_eur_per_mwh : float
        Harmonised intraday price limits (SDIC: -9999 and +9999). [EUR/MWh]
    max_quantity_mwh : float
        Largest single order. [MWh]
    price_rule : {"maker", "midpoint"}
        Trade price: the resting order's limit (default), or the average of both.
    self_trade : {"cancel_newest", "cancel_oldest"}
        Self-trade prevention: cancel the incoming remainder, or the resting order.
    """

    tick_eur_per_mwh: float = 0.01
    lot_mwh: float = 0.001
    min_price_eur_per_mwh: float = -9999.0
    max_price_eur_per_mwh: float = 9999.0
    max_quantity_mwh: float = 10_000.0
    price_rule: PriceRule = "maker"
    self_trade: SelfTradePrevention = "cancel_newest"

    def __post_init__(self) -> None:
        if self.price_rule not in ("maker", "midpoint"):
            raise ValueError(f"price_rule {self.price_rule!r}: choose 'maker' or 'midpoint'")
        if self.self_trade not in ("cancel_newest", "cancel_oldest"):
            raise ValueError(
                f"self_trade {self.self_trade!r}: choose 'cancel_newest' or 'cancel_oldest'"
            )
        if not (self.tick_eur_per_mwh > 0 and self.lot_mwh > 0):
            raise ValueError("tick_eur_per_mwh and lot_mwh must be > 0")
        per_eur = 1.0 / self.tick_eur_per_mwh
        if abs(per_eur - round(per_eur)) > 1e-9:
            raise ValueError(
                f"tick_eur_per_mwh {self.tick_eur_per_mwh} must divide 1 EUR/MWh (0.01, 0.05, 0.1...)"
            )

    @property
    def ticks_per_eur(self) -> int:
        """Ticks in 1 EUR/MWh (the tick divides 1 EUR/MWh). [1/(EUR/MWh)]"""
        return round(1.0 / self.tick_eur_per_mwh)

    def price_eur_per_mwh(self, ticks: float) -> float:
        """Price of ``ticks``. [EUR/MWh]

        Dividing by the integer ``ticks_per_eur`` gives the double nearest the
        decimal price (49.96, not 49.960000000000001).
        """
        return ticks / self.ticks_per_eur


Result = Order | Rejection

_GRID_TOL = 1e-6
"""Largest distance from the price or quantity grid taken as float round-off. [ticks, lots]"""


@dataclass(slots=True)
class Execution:
    """Outcome of one command: the order (or why it was refused) and its trades."""

    result: Result
    trades: list[Trade] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """True unless the command was rejected (a rejected command changed nothing)."""
        return not isinstance(self.result, Rejection)


class MatchingEngine:
    """Continuous books of many products behind one order-id and trade-id sequence.

    Parameters
    ----------
    config : EngineConfig, optional

    Notes
    -----
    Time priority is an engine-wide counter renewed on every priority-affecting
    event, so "older" is unambiguous even for equal timestamps.
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.books: dict[str, OrderBook] = {}
        self.orders: dict[int, Order] = {}
        self.next_order_id = 1
        self.next_trade_id = 1
        self._priority = 0
        cfg = self.config
        self._inv_lot = 1.0 / cfg.lot_mwh
        self._inv_tick = 1.0 / cfg.tick_eur_per_mwh
        self._ticks_per_eur = float(cfg.ticks_per_eur)
        self._lots_per_mwh = self._inv_lot
        self._min_price = cfg.min_price_eur_per_mwh
        self._max_price = cfg.max_price_eur_per_mwh
        self._max_quantity = cfg.max_quantity_mwh

    # --- products ------------------------------------------------------------------
    def open_product(self, product: str) -> OrderBook:
        """Open (or reopen) continuous trading of ``product``."""
        book = self.books.get(product)
        if book is None:
            book = self.books[product] = OrderBook(
                product,
                self.config.tick_eur_per_mwh,
                self.config.price_rule,
                self.config.self_trade,
                self._trade_id,
            )
        book.open = True
        return book

    def close_product(self, product: str, ts_ns: int) -> list[Order]:
        """Close ``product`` at its gate closure and cancel every resting order.

        Raises
        ------
        KeyError
            If ``product`` was never opened.
        """
        book = self.books[product]
        book.open = False
        cancelled = list(book.all_resting())
        for order in cancelled:
            book.remove(order)
            cancel_open(order, CancelReason.PRODUCT_CLOSED, ts_ns)
        return cancelled

    # --- commands ------------------------------------------------------------------
    def submit(self, request: OrderRequest, ts_ns: int) -> Execution:
        """Validate ``request``, match it, and rest what is left (GTC).

        Parameters
        ----------
        request : OrderRequest
        ts_ns : int
            Time the exchange received it. [ns since the epoch, UTC]

        Returns
        -------
        Execution
            The accepted :class:`Order` with its trades, or a :class:`Rejection`
            (INVALID_QUANTITY, INVALID_PRICE, INVALID_FIELD, UNKNOWN_PRODUCT or
            MARKET_CLOSED); a rejection changes nothing, not even the id sequence.
        """
        # Fast path for well-formed requests; anything unusual goes through ``_check``,
        # which names the bad field. Comparisons are False for NaN, so NaN and inf fail.
        book = self.books.get(request.product)
        side, tif = request.side, request.time_in_force
        price, quantity = request.price_eur_per_mwh, request.quantity_mwh
        ok = (
            book is not None
            and book.open
            and side.__class__ is Side
            and tif.__class__ is TimeInForce
            and isinstance(price, float)
            and isinstance(quantity, float)
            and bool(request.participant)
            and self._min_price <= price <= self._max_price
            and 0.0 < quantity <= self._max_quantity
        )
        if ok:
            ticks_f = price * self._ticks_per_eur
            price_ticks = int(ticks_f + 0.5) if ticks_f >= 0 else -int(0.5 - ticks_f)
            lots_f = quantity * self._lots_per_mwh
            lots = int(lots_f + 0.5)
            ok = lots >= 1 and -_GRID_TOL < ticks_f - price_ticks < _GRID_TOL and (
                -_GRID_TOL < lots_f - lots < _GRID_TOL
            )
        if not ok:
            checked = self._check(request)
            if isinstance(checked, Rejection):
                return Execution(checked)
            side, tif, price_ticks, lots, book = checked
        self._priority += 1
        order = Order(
            self.next_order_id,
            request.participant,
            request.product,
            side,
            price_ticks,
            lots,
            tif,
            self._priority,
            ts_ns,
            request.client_order_id,
        )
        self.next_order_id += 1
        self.orders[order.order_id] = order
        assert book is not None  # checked above: unknown products are rejected
        return Execution(order, book.match(order, ts_ns))

    def cancel(self, participant: str, order_id: int, ts_ns: int) -> Execution:
        """Cancel the open quantity of an order of ``participant``.

        Returns a :class:`Rejection` (UNKNOWN_ORDER, NOT_OWNER, ORDER_NOT_OPEN) when
        there is nothing of theirs to cancel.
        """
        order = self._owned_open(participant, order_id)
        if isinstance(order, Rejection):
            return Execution(order)
        self.books[order.product].remove(order)
        cancel_open(order, CancelReason.USER, ts_ns)
        return Execution(order)

    def modify(
        self,
        participant: str,
        order_id: int,
        ts_ns: int,
        price_eur_per_mwh: float | None = None,
        quantity_mwh: float | None = None,
    ) -> Execution:
        """Change the limit price and/or the open quantity of a resting order.

        Parameters
        ----------
        participant : str
        order_id : int
        ts_ns : int
        price_eur_per_mwh : float, optional
            New limit. [EUR/MWh]
        quantity_mwh : float, optional
            New *open* quantity, > 0. [MWh]

        Returns
        -------
        Execution
            Reducing the quantity at the same price keeps time priority; a new
            price or a larger quantity renews it (the order goes to the back of
            its level) and the order is matched again, as on EPEX SPOT.
        """
        order = self._owned_open(participant, order_id)
        if isinstance(order, Rejection):
            return Execution(order)
        price_ticks = order.price_ticks
        if price_eur_per_mwh is not None:
            price = self._price_ticks(price_eur_per_mwh, participant, order_id)
            if isinstance(price, Rejection):
                return Execution(price)
            price_ticks = price
        lots = order.open_lots
        if quantity_mwh is not None:
            new = self._lots(quantity_mwh, participant, order_id)
            if isinstance(new, Rejection):
                return Execution(new)
            lots = new
        book = self.books[order.product]
        if price_ticks == order.price_ticks and lots <= order.open_lots:
            order.cancelled_lots += order.open_lots - lots
            order.open_lots = lots
            order.updated_ns = ts_ns
            return Execution(order)
        book.remove(order)
        if lots < order.open_lots:
            order.cancelled_lots += order.open_lots - lots
        else:
            order.quantity_lots += lots - order.open_lots
        order.open_lots = lots
        order.price_ticks = price_ticks
        order.updated_ns = ts_ns
        self._priority += 1
        order.priority = self._priority
        return Execution(order, book.match(order, ts_ns))

    # --- queries -------------------------------------------------------------------
    def depth(self, product: str, levels: int = 10, ts_ns: int = 0) -> Depth:
        """Depth snapshot of ``product`` (``levels`` best prices per side).

        Raises
        ------
        KeyError
            If ``product`` is unknown.
        """
        return self.books[product].depth(self.config.lot_mwh, levels, ts_ns)

    def open_orders(self, participant: str | None = None) -> Iterator[Order]:
        """Resting orders, optionally of one participant."""
        for book in self.books.values():
            for order in book.all_resting():
                if participant is None or order.participant == participant:
                    yield order

    def state_hash(self) -> str:
        """SHA-256 over every book, every order's state and the id counters.

        Two engines with equal hashes hold the same books in the same priority
        order, the same order states and will assign the same next ids.
        """
        h = hashlib.sha256()
        h.update(f"{self.next_order_id}|{self.next_trade_id}|{self._priority}\n".encode())
        for product in sorted(self.books):
            book = self.books[product]
            h.update(f"P|{product}|{book.open}\n".encode())
            for order in book.all_resting():
                h.update(f"R|{order.order_id}|{order.priority}\n".encode())
        for oid in sorted(self.orders):
            o = self.orders[oid]
            h.update(
                f"O|{oid}|{o.participant}|{o.product}|{o.side}|{o.price_ticks}|"
                f"{o.quantity_lots}|{o.open_lots}|{o.filled_lots}|{o.cancelled_lots}|"
                f"{o.status}|{o.time_in_force}|{o.priority}\n".encode()
            )
        return h.hexdigest()

    # --- helpers -------------------------------------------------------------------
    def _trade_id(self) -> int:
        trade_id = self.next_trade_id
        self.next_trade_id += 1
        return trade_id

    def _check(
        self, request: OrderRequest
    ) -> Rejection | tuple[Side, TimeInForce, int, int, OrderBook]:
        who, cid = request.participant, request.client_order_id
        if not isinstance(who, str) or not who:
            return Rejection(
                RejectReason.INVALID_FIELD,
                f"participant {who!r} is empty; give the site id or trader name",
                "",
                cid,
            )
        book = self.books.get(request.product)
        if book is None:
            return Rejection(
                RejectReason.UNKNOWN_PRODUCT,
                f"product {request.product!r} is not traded here; "
                f"list the open products and use one of them",
                who,
                cid,
            )
        if not book.open:
            return Rejection(
                RejectReason.MARKET_CLOSED,
                f"product {request.product!r} is past its gate closure; trade a later product",
                who,
                cid,
            )
        try:
            side = Side(request.side)
            tif = TimeInForce(request.time_in_force)
        except ValueError:
            return Rejection(
                RejectReason.INVALID_FIELD,
                f"side {request.side!r} / time_in_force {request.time_in_force!r}: "
                f"use BUY or SELL, and GTC, IOC or FOK",
                who,
                cid,
            )
        price = self._price_ticks(request.price_eur_per_mwh, who, None, cid)
        if isinstance(price, Rejection):
            return price
        lots = self._lots(request.quantity_mwh, who, None, cid)
        if isinstance(lots, Rejection):
            return lots
        return side, tif, price, lots, book

    def _price_ticks(
        self, price: float, who: str, order_id: int | None, cid: str | None = None
    ) -> int | Rejection:
        cfg = self.config
        if not isinstance(price, (int, float)) or isinstance(price, bool) or not math.isfinite(price):
            return Rejection(
                RejectReason.INVALID_PRICE,
                f"price_eur_per_mwh {price!r} is not a finite number; give a limit price",
                who,
                cid,
                order_id,
            )
        if not cfg.min_price_eur_per_mwh <= price <= cfg.max_price_eur_per_mwh:
            return Rejection(
                RejectReason.INVALID_PRICE,
                f"price_eur_per_mwh {price} is outside the market's limits "
                f"[{cfg.min_price_eur_per_mwh}, {cfg.max_price_eur_per_mwh}]",
                who,
                cid,
                order_id,
            )
        ticks = round(price * self._inv_tick)
        if abs(ticks * cfg.tick_eur_per_mwh - price) > 1e-9 * max(1.0, abs(price)):
            return Rejection(
                RejectReason.INVALID_PRICE,
                f"price_eur_per_mwh {price} is not a multiple of the tick "
                f"{cfg.tick_eur_per_mwh}; round it to {ticks * cfg.tick_eur_per_mwh:.2f}",
                who,
                cid,
                order_id,
            )
        return int(ticks)

    def _lots(
        self, quantity: float, who: str, order_id: int | None, cid: str | None = None
    ) -> int | Rejection:
        cfg = self.config
        if (
            not isinstance(quantity, (int, float))
            or isinstance(quantity, bool)
            or not math.isfinite(quantity)
            or quantity <= 0
            or quantity > cfg.max_quantity_mwh
        ):
            return Rejection(
                RejectReason.INVALID_QUANTITY,
                f"quantity_mwh {quantity!r} must be a number > 0 and <= "
                f"{cfg.max_quantity_mwh} (use cancel to withdraw an order)",
                who,
                cid,
                order_id,
            )
        lots = round(quantity * self._inv_lot)
        if lots < 1 or abs(lots * cfg.lot_mwh - quantity) > 1e-9 * max(1.0, quantity):
            return Rejection(
                RejectReason.INVALID_QUANTITY,
                f"quantity_mwh {quantity} is not a multiple of the lot {cfg.lot_mwh} MWh; "
                f"round it to {max(lots, 1) * cfg.lot_mwh:g}",
                who,
                cid,
                order_id,
            )
        return int(lots)

    def _owned_open(self, participant: str, order_id: int) -> Order | Rejection:
        order = self.orders.get(order_id)
        if order is None:
            return Rejection(
                RejectReason.UNKNOWN_ORDER,
                f"order_id {order_id!r} does not exist",
                participant,
                None,
                order_id,
            )
        if order.participant != participant:
            return Rejection(
                RejectReason.NOT_OWNER,
                f"order {order_id} belongs to another participant; "
                f"{participant!r} may only change its own orders",
                participant,
                order.client_order_id,
                order_id,
            )
        if order.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            return Rejection(
                RejectReason.ORDER_NOT_OPEN,
                f"order {order_id} is {order.status}; only resting orders can change",
                participant,
                order.client_order_id,
                order_id,
            )
        return order
