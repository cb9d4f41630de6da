"""Continuous limit order book of one product, with price-time priority.

Each side is a dict from price (integer ticks) to the orders resting at that
price in time order (an ``OrderedDict``: O(1) append, O(1) removal of any
order, O(1) pop of the oldest), plus a heap of its prices for the best level
(lazy: an emptied level leaves its price in the heap until it surfaces).

Matching rules (as on EPEX SPOT's continuous intraday market [1]_):

* an incoming order trades with the best-priced resting orders of the other
  side while the prices cross, oldest first at each price (price-time
  priority), filling partially where quantities differ;
* trade price: ``maker`` (default), the resting order's limit, the exchange
  standard; or ``midpoint``, the average of the two limits (the seed's rule);
* self-trade prevention (STP): an order never trades with an order of the same
  participant; ``cancel_newest`` cancels the incoming order's remainder,
  ``cancel_oldest`` cancels the resting order and matching goes on;
* GTC remainders rest; IOC remainders are cancelled; FOK orders trade in full
  or are cancelled before anything trades.

References
----------
.. [1] EPEX SPOT, "Trading Rules", Title IV: Continuous Trading (order types,
   price-time priority, self-trade prevention), 2024.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from twin.markets.exchange.orders import CancelReason, Order, OrderStatus, Side, TimeInForce, Trade

PriceRule = Literal["maker", "midpoint"]
SelfTradePrevention = Literal["cancel_newest", "cancel_oldest"]

_Level = OrderedDict[int, Order]


@dataclass(frozen=True, slots=True)
class DepthLevel:
    """Aggregated quantity at one price."""

    price_eur_per_mwh: float
    quantity_mwh: float
    orders: int


@dataclass(frozen=True, slots=True)
class Depth:
    """Depth snapshot of one product: best levels first on each side."""

    product: str
    bids: tuple[DepthLevel, ...]
    asks: tuple[DepthLevel, ...]
    ts_ns: int

    @property
    def best_bid_eur_per_mwh(self) -> float | None:
        """Highest bid, or None on an empty side. [EUR/MWh]"""
        return self.bids[0].price_eur_per_mwh if self.bids else None

    @property
    def best_ask_eur_per_mwh(self) -> float | None:
        """Lowest ask, or None on an empty side. [EUR/MWh]"""
        return self.asks[0].price_eur_per_mwh if self.asks else None


class _BookSide:
    """Resting orders of one side: price levels plus a lazy heap of their prices."""

    __slots__ = ("heap", "in_heap", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign  # heap key = sign * price: +1 for asks (lowest first), -1 for bids
        self.levels: dict[int, _Level] = {}
        self.heap: list[int] = []
        self.in_heap: set[int] = set()

    def best(self) -> int | None:
        """Best price in ticks, dropping emptied levels from the heap top."""
        heap, levels = self.heap, self.levels
        while heap:
            price = self.sign * heap[0]
            if price in levels:
                return price
            heapq.heappop(heap)
            self.in_heap.discard(price)
        return None

    def rest(self, order: Order) -> None:
        level = self.levels.get(order.price_ticks)
        if level is None:
            level = self.levels[order.price_ticks] = OrderedDict()
            if order.price_ticks not in self.in_heap:
                self.in_heap.add(order.price_ticks)
                heapq.heappush(self.heap, self.sign * order.price_ticks)
        level[order.order_id] = order

    def remove(self, order: Order) -> None:
        level = self.levels[order.price_ticks]
        del level[order.order_id]
        if not level:
            del self.levels[order.price_ticks]

    def prices_best_first(self) -> list[int]:
        return sorted(self.levels, key=lambda p: self.sign * p)

    def orders_best_first(self) -> Iterator[Order]:
        for price in self.prices_best_first():
            yield from self.levels[price].values()


class OrderBook:
    """The book of one product.

    Parameters
    ----------
    product : str
    tick_eur_per_mwh : float
        Price of one tick, to convert trade prices. [EUR/MWh]
    price_rule : {"maker", "midpoint"}
    self_trade : {"cancel_newest", "cancel_oldest"}
    next_trade_id : callable
        Returns the next trade id (shared by all books of an engine).
    """

    def __init__(
        self,
        product: str,
        tick_eur_per_mwh: float,
        price_rule: PriceRule,
        self_trade: SelfTradePrevention,
        next_trade_id: Callable[[], int],
    ) -> None:
        self.product = product
        self.tick = tick_eur_per_mwh
        self._ticks_per_eur = round(1.0 / tick_eur_per_mwh)
        self.price_rule = price_rule
        self.self_trade = self_trade
        self._next_trade_id = next_trade_id
        self.bids = _BookSide(-1)
        self.asks = _BookSide(+1)
        self.open = True

    # --- queries -----------------------------------------------------------------
    def best_bid_ticks(self) -> int | None:
        """Highest resting buy price. [ticks]"""
        return self.bids.best()

    def best_ask_ticks(self) -> int | None:
        """Lowest resting sell price. [ticks]"""
        return self.asks.best()

    def is_crossed(self) -> bool:
        """True if the best bid is at or above the best ask (never after matching)."""
        bid, ask = self.bids.best(), self.asks.best()
        return bid is not None and ask is not None and bid >= ask

    def resting(self, side: Side) -> list[Order]:
        """Resting orders of ``side`` in priority order (best price, then oldest)."""
        return list((self.bids if side is Side.BUY else self.asks).orders_best_first())

    def depth(self, lot_mwh: float, levels: int, ts_ns: int) -> Depth:
        """Aggregated quantities of the best ``levels`` prices of each side."""

        def _side(side: _BookSide) -> tuple[DepthLevel, ...]:
            out = []
            for price in side.prices_best_first()[:levels]:
                orders = side.levels[price].values()
                out.append(
                    DepthLevel(
                        price / self._ticks_per_eur,
                        sum(o.open_lots for o in orders) * lot_mwh,
                        len(orders),
                    )
                )
            return tuple(out)

        return Depth(self.product, _side(self.bids), _side(self.asks), ts_ns)

    # --- events ------------------------------------------------------------------
    def match(self, taker: Order, ts_ns: int) -> list[Trade]:
        """Trade ``taker`` against the other side, then rest or cancel its remainder.

        ``taker`` must not be resting. Returns the trades in the order they happened.
        """
        if taker.time_in_force is TimeInForce.FOK and self._fillable(taker) < taker.open_lots:
            cancel_open(taker, CancelReason.FOK_NOT_FILLED, ts_ns)
            return []
        buy = taker.side is Side.BUY
        other = self.asks if buy else self.bids
        trades: list[Trade] = []
        levels, sign = other.levels, other.sign
        bound = sign * taker.price_ticks
        while taker.open_lots:
            price = other.best()
            if price is None or sign * price > bound:
                break
            level = levels[price]
            while level and taker.open_lots:
                maker = next(iter(level.values()))
                if maker.participant == taker.participant:
                    if self.self_trade == "cancel_newest":
                        cancel_open(taker, CancelReason.SELF_TRADE, ts_ns)
                        break
                    level.popitem(last=False)
                    cancel_open(maker, CancelReason.SELF_TRADE, ts_ns)
                    continue
                lots = min(taker.open_lots, maker.open_lots)
                trades.append(self._trade(taker, maker, lots, buy, ts_ns))
                if maker.open_lots == 0:
                    level.popitem(last=False)
            if not level:
                del levels[price]
            if taker.status is OrderStatus.CANCELLED:
                break
        if taker.open_lots and taker.status is not OrderStatus.CANCELLED:
            if taker.time_in_force is TimeInForce.GTC:
                (self.bids if buy else self.asks).rest(taker)
            else:
                cancel_open(taker, CancelReason.IOC_REMAINDER, ts_ns)
        return trades

    def _trade(self, taker: Order, maker: Order, lots: int, buy: bool, ts_ns: int) -> Trade:
        # ticks / ticks_per_eur is the double nearest the decimal price (49.96, not
        # 49.960000000000001), because the tick is 1/ticks_per_eur exactly.
        if self.price_rule == "maker":
            price = maker.price_ticks / self._ticks_per_eur
        else:
            price = (maker.price_ticks + taker.price_ticks) / (2.0 * self._ticks_per_eur)
        for order in (taker, maker):
            order.open_lots -= lots
            order.filled_lots += lots
            order.updated_ns = ts_ns
            order.status = OrderStatus.FILLED if order.open_lots == 0 else (
                OrderStatus.PARTIALLY_FILLED
            )
        bought, sold = (taker, maker) if buy else (maker, taker)
        return Trade(
            self._next_trade_id(),
            self.product,
            bought.order_id,
            sold.order_id,
            bought.participant,
            sold.participant,
            lots,
            price,
            taker.side,
            ts_ns,
        )

    def _fillable(self, taker: Order) -> int:
        """Lots ``taker`` would fill now, under the book's self-trade rule (for FOK)."""
        other = self.asks if taker.side is Side.BUY else self.bids
        bound = other.sign * taker.price_ticks
        lots = 0
        for price in other.prices_best_first():
            if other.sign * price > bound:
                break
            for maker in other.levels[price].values():
                if maker.participant == taker.participant:
                    if self.self_trade == "cancel_newest":
                        return lots
                    continue
                lots += maker.open_lots
                if lots >= taker.open_lots:
                    return lots
        return lots

    def remove(self, order: Order) -> None:
        """Take a resting order out of the book (its quantities are left to the caller)."""
        (self.bids if order.side is Side.BUY else self.asks).remove(order)

    def rest(self, order: Order) -> None:
        """Put ``order`` at the back of its price level without matching (journal replay)."""
        (self.bids if order.side is Side.BUY else self.asks).rest(order)

    def all_resting(self) -> Iterator[Order]:
        """Every resting order, bids then asks, each in priority order."""
        yield from self.bids.orders_best_first()
        yield from self.asks.orders_best_first()


def cancel_open(order: Order, reason: CancelReason, ts_ns: int) -> None:
    """Cancel the open quantity of ``order`` (it must not be resting any more)."""
    order.cancelled_lots += order.open_lots
    order.open_lots = 0
    order.status = OrderStatus.CANCELLED
    order.cancel_reason = reason
    order.updated_ns = ts_ns


