"""Orders, trades and rejections of the continuous intraday market.

Quantities and prices travel as floats at the interfaces (``quantity_mwh``,
``price_eur_per_mwh``) and as integers inside the matching engine: lots of
``lot_mwh`` and ticks of ``tick_eur_per_mwh``. Integer arithmetic keeps the
volume balance of every order exact (filled + open + cancelled = submitted),
with no float drift over millions of partial fills.

Order lifecycle::

    request ─▶ REJECTED (reason code; nothing changes)
            └▶ ACCEPTED ─▶ PARTIALLY_FILLED ─▶ FILLED
                     └──────────┴─────────────▶ CANCELLED (by the owner, IOC/FOK
                                                remainder, self-trade prevention,
                                                or the product's gate closure)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Side(enum.StrEnum):
    """Side of an order. A BUY charges the battery, a SELL discharges it."""

    BUY = "BUY"
    SELL = "SELL"


class TimeInForce(enum.StrEnum):
    """How long an order may rest in the book.

    GTC rests until filled, cancelled or the product closes; IOC fills what it
    can now and cancels the rest; FOK fills completely now or not at all.
    """

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class Venue(enum.StrEnum):
    """Where an order is routed (see :mod:`twin.markets.venues`)."""

    INTERNAL = "INTERNAL"
    EPEX_DAY_AHEAD = "EPEX_DAY_AHEAD"
    APG = "APG"


class OrderStatus(enum.StrEnum):
    """Lifecycle state of an order."""

    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


class RejectReason(enum.StrEnum):
    """Why an order, a cancel or a modify was refused. The book is unchanged."""

    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    INVALID_FIELD = "INVALID_FIELD"
    UNKNOWN_PRODUCT = "UNKNOWN_PRODUCT"
    MARKET_CLOSED = "MARKET_CLOSED"
    UNKNOWN_PARTICIPANT = "UNKNOWN_PARTICIPANT"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    NOT_OWNER = "NOT_OWNER"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    RATE_LIMITED = "RATE_LIMITED"
    SOC_HEADROOM = "SOC_HEADROOM"
    SOC_FLOOR = "SOC_FLOOR"
    CHARGE_POWER = "CHARGE_POWER"
    DISCHARGE_POWER = "DISCHARGE_POWER"
    TEMPERATURE_STOP = "TEMPERATURE_STOP"
    SITE_STATE_UNKNOWN = "SITE_STATE_UNKNOWN"
    VENUE_CLOSED = "VENUE_CLOSED"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
    POSITION_LIMIT = "POSITION_LIMIT"
    VAR_LIMIT = "VAR_LIMIT"
    CREDIT_LIMIT = "CREDIT_LIMIT"
    GRID_LIMIT = "GRID_LIMIT"


class CancelReason(enum.StrEnum):
    """Why open quantity was cancelled (``Order.cancel_reason``)."""

    USER = "USER"
    IOC_REMAINDER = "IOC_REMAINDER"
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    SELF_TRADE = "SELF_TRADE"
    MODIFY = "MODIFY"
    PRODUCT_CLOSED = "PRODUCT_CLOSED"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a participant asks for; validated before it becomes an :class:`Order`.

    Attributes
    ----------
    participant : str
        Site id or trader name; self-trade prevention acts per participant.
    product : str
        Delivery period, e.g. ``DE-LU:2023-06-14T10:00Z:60`` (see
        :func:`twin.markets.products.product_id`).
    side : Side
    quantity_mwh : float
        Energy over the delivery period, > 0 and a multiple of the lot. [MWh]
    price_eur_per_mwh : float
        Limit price; a BUY pays at most, a SELL receives at least this. [EUR/MWh]
    time_in_force : TimeInForce
    venue : Venue
    client_order_id : str, optional
        The participant's own reference, echoed back.
    """

    participant: str
    product: str
    side: Side
    quantity_mwh: float
    price_eur_per_mwh: float
    time_in_force: TimeInForce = TimeInForce.GTC
    venue: Venue = Venue.INTERNAL
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused request: the reason code and a message naming field, value and fix.

    Attributes
    ----------
    reason : RejectReason
    message : str
    participant : str
    client_order_id : str, optional
    order_id : int, optional
        Set when a cancel or modify of an existing order was refused.
    also : tuple of RejectReason
        Further reasons the pre-trade check found (it reports every one);
        ``message`` explains them all.
    """

    reason: RejectReason
    message: str
    participant: str = ""
    client_order_id: str | None = None
    order_id: int | None = None
    also: tuple[RejectReason, ...] = ()

    @property
    def reasons(self) -> tuple[RejectReason, ...]:
        """Every reason, the first one first."""
        return (self.reason, *self.also)

    @property
    def status(self) -> OrderStatus:
        """Always ``REJECTED``."""
        return OrderStatus.REJECTED


class Order:
    """An accepted order, owned and updated by the matching engine.

    Quantities are integer lots; ``quantity_lots == filled_lots + open_lots +
    cancelled_lots`` holds after every event. ``quantity_lots`` grows only when
    a modify raises the open quantity.

    Attributes
    ----------
    order_id : int
        Engine-assigned, increasing in acceptance order.
    priority : int
        Time priority; smaller is older. Renewed when the price changes or the
        quantity grows.
    """

    __slots__ = (
        "order_id",
        "participant",
        "product",
        "side",
        "price_ticks",
        "quantity_lots",
        "open_lots",
        "filled_lots",
        "cancelled_lots",
        "time_in_force",
        "status",
        "priority",
        "created_ns",
        "updated_ns",
        "client_order_id",
        "cancel_reason",
    )

    def __init__(
        self,
        order_id: int,
        participant: str,
        product: str,
        side: Side,
        price_ticks: int,
        quantity_lots: int,
        time_in_force: TimeInForce,
        priority: int,
        ts_ns: int,
        client_order_id: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.participant = participant
        self.product = product
        self.side = side
        self.price_ticks = price_ticks
        self.quantity_lots = quantity_lots
        self.open_lots = quantity_lots
        self.filled_lots = 0
        self.cancelled_lots = 0
        self.time_in_force = time_in_force
        self.status = OrderStatus.ACCEPTED
        self.priority = priority
        self.created_ns = ts_ns
        self.updated_ns = ts_ns
        self.client_order_id = client_order_id
        self.cancel_reason: CancelReason | None = None

    @property
    def is_open(self) -> bool:
        """True while quantity rests (or may rest) in the book."""
        return self.open_lots > 0 and self.status in (
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
        )

    def snapshot(self, lot_mwh: float, ticks_per_eur: int) -> OrderView:
        """An immutable copy in MWh and EUR/MWh, safe to send to other processes.

        ``ticks_per_eur`` is the number of price ticks in 1 EUR/MWh.
        """
        return OrderView(
            order_id=self.order_id,
            participant=self.participant,
            product=self.product,
            side=self.side,
            price_eur_per_mwh=self.price_ticks / ticks_per_eur,
            quantity_mwh=self.quantity_lots * lot_mwh,
            open_mwh=self.open_lots * lot_mwh,
            filled_mwh=self.filled_lots * lot_mwh,
            cancelled_mwh=self.cancelled_lots * lot_mwh,
            time_in_force=self.time_in_force,
            status=self.status,
            cancel_reason=self.cancel_reason,
            created_ns=self.created_ns,
            updated_ns=self.updated_ns,
            client_order_id=self.client_order_id,
        )

    def __repr__(self) -> str:
        return (
            f"Order({self.order_id}, {self.participant}, {self.product}, {self.side}, "
            f"{self.price_ticks}t, open={self.open_lots}/{self.quantity_lots}, {self.status})"
        )


@dataclass(frozen=True, slots=True)
class OrderView:
    """Immutable snapshot of an :class:`Order` in MWh and EUR/MWh."""

    order_id: int
    participant: str
    product: str
    side: Side
    price_eur_per_mwh: float
    quantity_mwh: float
    open_mwh: float
    filled_mwh: float
    cancelled_mwh: float
    time_in_force: TimeInForce
    status: OrderStatus
    cancel_reason: CancelReason | None
    created_ns: int
    updated_ns: int
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill between a resting (maker) and an incoming (taker) order.

    Attributes
    ----------
    trade_id : int
    product : str
    buy_order_id, sell_order_id : int
    buyer, seller : str
        Participants.
    quantity_lots : int
    price_eur_per_mwh : float
        Under the ``maker`` rule the resting order's limit; under ``midpoint``
        the average of the two limits. [EUR/MWh]
    aggressor : Side
        Side of the incoming order.
    ts_ns : int
        Engine time of the match. [ns since the epoch, UTC]
    """

    trade_id: int
    product: str
    buy_order_id: int
    sell_order_id: int
    buyer: str
    seller: str
    quantity_lots: int
    price_eur_per_mwh: float
    aggressor: Side
    ts_ns: int
