"""One intraday trading session (a continuous round) of a backtest day on the internal exchange.

Sequence (all on the exchange's clock, one command every ``step_s`` seconds so
each participant stays inside its rate limit):

1. the round's open products open; the liquidity provider (LP) quotes
   ``levels`` bids and asks around each product's mark price (the real
   intraday index, or the day-ahead price under ``mark: day_ahead``);
2. each site posts its wanted net trade per product as a GTC limit order **at
   the mark**, products in delivery order, where its limit allows that price.
   Sites on opposite sides trade with each other at the mark (the resting
   order's price);
3. what is left is re-priced to the LP's top quote (``mark ± spread/2``) where
   the site's limit allows, and fills against the LP (a price change renews
   time priority and matches);
4. the round ends: the products close and unfilled quantity is cancelled, so
   an order that did not fill leaves the site's position as it was.

Cash flows: a seller receives ``quantity * price``, a buyer pays it; each side
pays ``fee_eur_per_mwh`` per MWh. Sites' and the LP's trade cash sums to zero
before fees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from twin.config.intraday import LiquidityProviderConfig
from twin.markets.exchange.commands import Ack, Command, Modify, Submit
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.orders import OrderRequest, Side, TimeInForce, Trade
from twin.markets.exchange.pretrade import SiteTradingState
from twin.markets.products import NS_PER_S, Product
from twin.types import FloatArray


@dataclass(frozen=True)
class IntradayIntent:
    """What a site wants to trade in a session.

    Attributes
    ----------
    state : SiteTradingState
        Its physical state and base schedule, for the pre-trade checks.
    sell_mwh : np.ndarray, shape (n_products,)
        Wanted net sell per product (negative: buy). [MWh]
    limit_eur_per_mwh : np.ndarray, shape (n_products,), optional
        Worst acceptable price per product: a sell fills only at or above it, a
        buy only at or below it. NaN (or None for all) means any price. [EUR/MWh]
    """

    state: SiteTradingState
    sell_mwh: FloatArray
    limit_eur_per_mwh: FloatArray | None = None

    def accepts(self, k: int, price_eur_per_mwh: float) -> bool:
        """Whether product ``k``'s order may trade at ``price_eur_per_mwh``."""
        if self.limit_eur_per_mwh is None:
            return True
        limit = float(self.limit_eur_per_mwh[k])
        if not np.isfinite(limit):
            return True
        if self.sell_mwh[k] > 0:
            return price_eur_per_mwh >= limit - _PRICE_TOL
        return price_eur_per_mwh <= limit + _PRICE_TOL


@dataclass
class ParticipantResult:
    """A participant's outcome of one session, per product (arrays of n_products)."""

    sell_mwh: FloatArray
    cash_eur: FloatArray
    fees_eur: FloatArray
    rejected: dict[str, int] = field(default_factory=dict)
    """Rejections per reason (an order with several reasons counts under each)."""
    rejected_orders: int = 0
    rejections: list[tuple[str, str, str]] = field(default_factory=list)
    """The rejected orders: (product, reasons joined by '+', message)."""


@dataclass
class SessionResult:
    """Outcome of a session: per participant, plus every trade."""

    products: list[Product]
    participants: dict[str, ParticipantResult]
    trades: list[Trade]
    lot_mwh: float
    opened_ns: int = 0
    """When the session traded. [ns since the epoch, UTC]"""


_PRICE_TOL = 1e-9


def merge_sessions(results: list[SessionResult]) -> SessionResult | None:
    """One result for several sessions (rounds) over the same products: arrays add up, trades join.

    Returns None for an empty list.
    """
    if not results:
        return None
    first = results[0]
    merged: dict[str, ParticipantResult] = {}
    for result in results:
        for who, r in result.participants.items():
            acc = merged.setdefault(
                who, ParticipantResult(np.zeros_like(r.sell_mwh), np.zeros_like(r.cash_eur),
                                       np.zeros_like(r.fees_eur))
            )
            acc.sell_mwh += r.sell_mwh
            acc.cash_eur += r.cash_eur
            acc.fees_eur += r.fees_eur
            for reason, count in r.rejected.items():
                acc.rejected[reason] = acc.rejected.get(reason, 0) + count
            acc.rejected_orders += r.rejected_orders
            acc.rejections.extend(r.rejections)
    trades = [t for result in results for t in result.trades]
    return SessionResult(first.products, merged, trades, first.lot_mwh, first.opened_ns)


def _round_to(value: float, grid: float) -> float:
    return round(round(value / grid) * grid, 10)


def run_session(
    exchange: Exchange,
    products: list[Product],
    marks_eur_per_mwh: FloatArray,
    intents: list[IntradayIntent],
    lp: LiquidityProviderConfig,
    ts_open_ns: int,
    step_s: float = 0.5,
    tradable: npt.NDArray[np.bool_] | None = None,
) -> SessionResult:
    """Run one session (see the module docstring) and return its fills and cash.

    An order trades only where its limit allows (:meth:`IntradayIntent.accepts`):
    at the mark against another site, or at the LP's top quote.

    Parameters
    ----------
    exchange : Exchange
        Sites must be registered as ``site``, the LP as ``trader``.
    products : list of Product
        The day's products in delivery order.
    marks_eur_per_mwh : np.ndarray, shape (n_products,)
        Mark price per product. [EUR/MWh]
    intents : list of IntradayIntent
    lp : LiquidityProviderConfig
    ts_open_ns : int
        Session start. [ns since the epoch, UTC]
    step_s : float
        Exchange-clock time between two commands. [s]
    tradable : np.ndarray of bool, shape (n_products,), optional
        Products open in this session (a continuous round trades only those
        before their gate); default all. The result's arrays cover all products.
    """
    cfg = exchange.engine.config
    tick, lot, fee = cfg.tick_eur_per_mwh, cfg.lot_mwh, exchange.policy.fee_eur_per_mwh
    n = len(products)
    is_open = np.ones(n, dtype=bool) if tradable is None else np.asarray(tradable, dtype=bool)
    ts = ts_open_ns
    step_ns = int(step_s * NS_PER_S)
    exchange.open_products([p for k, p in enumerate(products) if is_open[k]], ts)
    marks = [_round_to(float(m), tick) if np.isfinite(m) else np.nan for m in marks_eur_per_mwh]
    half = _round_to(lp.spread_eur_per_mwh / 2.0, tick)
    quotes: list[Command] = []
    for k, product in enumerate(products):
        if not is_open[k]:
            continue
        for i in range(lp.levels):
            off = half + i * lp.level_step_eur_per_mwh
            for side, price in ((Side.BUY, marks[k] - off), (Side.SELL, marks[k] + off)):
                request = OrderRequest(
                    lp.name, product.product_id, side, lp.level_mwh, _round_to(price, tick)
                )
                quotes.append(Submit(request, ts))
    acks = exchange.process(quotes)
    for intent in intents:
        exchange.update_site(intent.state)

    # phase 1: at the mark, products in delivery order, sites interleaved
    phase1: list[Command] = []
    owners: list[tuple[str, int]] = []
    for k, product in enumerate(products):
        if not is_open[k]:
            continue
        for intent in intents:
            q = _round_to(abs(float(intent.sell_mwh[k])), lot)
            if q < lot or not intent.accepts(k, marks[k]):
                continue
            side = Side.SELL if intent.sell_mwh[k] > 0 else Side.BUY
            ts += step_ns
            request = OrderRequest(
                intent.state.site_id, product.product_id, side, q, marks[k], TimeInForce.GTC
            )
            phase1.append(Submit(request, ts))
            owners.append((intent.state.site_id, k))
    acks1 = exchange.process(phase1)
    # phase 2: the rest crosses to the LP's top quote
    phase2: list[Command] = []
    owners2: list[tuple[str, int]] = []
    by_site = {intent.state.site_id: intent for intent in intents}
    for ack, (site_id, k) in zip(acks1, owners, strict=True):
        order = ack.order
        if ack.accepted and order is not None and order.open_mwh > lot / 2:
            live = exchange.engine.orders[order.order_id]
            price = marks[k] + half if order.side is Side.BUY else marks[k] - half
            if live.is_open and by_site[site_id].accepts(k, price):
                ts += step_ns
                phase2.append(Modify(site_id, order.order_id, ts, _round_to(price, tick)))
                owners2.append((site_id, k))
    acks2 = exchange.process(phase2)
    ts += step_ns
    exchange.close_products([p.product_id for k, p in enumerate(products) if is_open[k]], ts)

    index = {p.product_id: k for k, p in enumerate(products)}
    results: dict[str, ParticipantResult] = {}

    def _result(who: str) -> ParticipantResult:
        if who not in results:
            results[who] = ParticipantResult(np.zeros(n), np.zeros(n), np.zeros(n))
        return results[who]

    for intent in intents:
        _result(intent.state.site_id)
    _result(lp.name)
    trades = [t for a in (*acks, *acks1, *acks2) for t in a.trades]
    for t in trades:
        k = index[t.product]
        q = t.quantity_lots * lot
        for who, sign in ((t.seller, 1.0), (t.buyer, -1.0)):
            r = _result(who)
            r.sell_mwh[k] += sign * q
            r.cash_eur[k] += sign * q * t.price_eur_per_mwh
            r.fees_eur[k] += q * fee
    ids1 = [products[k].product_id for _, k in owners]
    ids2 = [products[k].product_id for _, k in owners2]
    for ack, product_id in (*zip(acks1, ids1, strict=True), *zip(acks2, ids2, strict=True)):
        _count_rejection(ack, product_id, results)
    return SessionResult(products, results, trades, lot, ts_open_ns)


def _count_rejection(ack: Ack, product: str, results: dict[str, ParticipantResult]) -> None:
    if ack.rejection is not None and ack.rejection.participant in results:
        mine = results[ack.rejection.participant]
        reasons = [str(r) for r in ack.rejection.reasons]
        for reason in reasons:
            mine.rejected[reason] = mine.rejected.get(reason, 0) + 1
        mine.rejected_orders += 1
        mine.rejections.append((product, "+".join(reasons), ack.rejection.message))
