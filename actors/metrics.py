"""Prometheus metrics of the exchange and the market feed (prometheus-client).

The seed's gauges, named with Prometheus conventions (base units in the name,
``_total`` for counters):

=================  ====================================================
seed               metric
=================  ====================================================
``G_MARK``         ``bess_twin_mark_price_eur_per_mwh{market}``
``G_EMA``          ``bess_twin_ema_price_eur_per_mwh{market}``
``G_VWAP``         ``bess_twin_vwap_price_eur_per_mwh{market}``
``G_EXPO_E``       ``bess_twin_exposure_mwh{market, side="buy"}``
``G_EXPO_N``       ``bess_twin_exposure_mwh{market, side="sell"}``
``G_PNL_REAL``     ``bess_twin_realised_pnl_eur{market, participant}``
``C_EVENTS``       ``bess_twin_price_updates_total{market}``
=================  ====================================================

plus ``bess_twin_orders_total{market, outcome, reason}`` (accepted/rejected by
first reason code), ``bess_twin_rejection_reasons_total{reason}`` (every reason
the pre-trade check gave, an order counted once per reason), ``bess_twin_trades_total{market}`` and the histogram
``bess_twin_matching_latency_seconds{market}`` (time from receiving a command
to its result, before the journal commit). Exposure is the open (unfilled)
order quantity; realised P&L is trade cash (sells minus buys) minus fees.

Each exchange owns its own ``CollectorRegistry``, so several exchanges (tests,
a fleet of backtests) never collide in the global registry.
"""

from __future__ import annotations

from collections import defaultdict

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from twin.markets.exchange.commands import Event
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.orders import Side
from twin.markets.indicators import MarketIndicators
from twin.markets.products import market_of

_LATENCY_BUCKETS_S = (1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 5e-3, 1e-2)


def _market(product: str | None) -> str:
    return market_of(product) if product and ":" in product else "unknown"


class ExchangeMetrics:
    """Prometheus view of one exchange, fed from its event stream."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.mark = Gauge("bess_twin_mark_price_eur_per_mwh", "Mark price", ["market"], registry=r)
        self.ema = Gauge("bess_twin_ema_price_eur_per_mwh", "EMA of prices", ["market"], registry=r)
        self.vwap = Gauge("bess_twin_vwap_price_eur_per_mwh", "VWAP of trades", ["market"], registry=r)
        self.exposure = Gauge(
            "bess_twin_exposure_mwh", "Open order quantity", ["market", "side"], registry=r
        )
        self.pnl = Gauge(
            "bess_twin_realised_pnl_eur", "Trade cash minus fees", ["market", "participant"],
            registry=r,
        )
        self.price_updates = Counter(
            "bess_twin_price_updates", "Price-update events (feed prices and trades)", ["market"],
            registry=r,
        )
        self.orders = Counter(
            "bess_twin_orders", "Orders by outcome and reason", ["market", "outcome", "reason"],
            registry=r,
        )
        self.rejection_reasons = Counter(
            "bess_twin_rejection_reasons", "Reasons of rejected orders (an order may have several)",
            ["reason"], registry=r,
        )
        self.trades = Counter("bess_twin_trades", "Trades", ["market"], registry=r)
        self.latency = Histogram(
            "bess_twin_matching_latency_seconds", "Command to result, before commit", ["market"],
            buckets=_LATENCY_BUCKETS_S, registry=r,
        )
        self._cash: dict[tuple[str, str], float] = defaultdict(float)
        self._seen = 0

    def consume(self, exchange: Exchange, indicators: dict[str, MarketIndicators]) -> None:
        """Fold the exchange's new events into the metrics and refresh the gauges."""
        fee = exchange.policy.fee_eur_per_mwh
        events: list[Event] = exchange.events_since(self._seen)
        for e in events:
            d = e.data
            if e.kind == "order_accepted":
                market = _market(d["product"])
                self.orders.labels(market, "accepted", "").inc()
                self.latency.labels(market).observe(d["latency_s"])
            elif e.kind == "order_rejected":
                self.orders.labels("unknown", "rejected", d["reason"]).inc()
                for reason in d.get("reasons", [d["reason"]]):
                    self.rejection_reasons.labels(reason).inc()
            elif e.kind == "trade":
                market = _market(d["product"])
                self.trades.labels(market).inc()
                q, p = d["quantity_mwh"], d["price_eur_per_mwh"]
                self._cash[(market, d["seller"])] += q * p - q * fee
                self._cash[(market, d["buyer"])] += -q * p - q * fee
        if events:
            self._seen = events[-1].seq
        for (market, who), cash in self._cash.items():
            self.pnl.labels(market, who).set(cash)
        open_mwh: dict[tuple[str, str], float] = defaultdict(float)
        lot = exchange.engine.config.lot_mwh
        for order in exchange.engine.open_orders():
            side = "buy" if order.side is Side.BUY else "sell"
            open_mwh[(_market(order.product), side)] += order.open_lots * lot
        for market in {m for m, _ in open_mwh} | set(indicators):
            for side in ("buy", "sell"):
                self.exposure.labels(market, side).set(open_mwh.get((market, side), 0.0))
        self.set_indicators(indicators)

    def set_indicators(self, indicators: dict[str, MarketIndicators]) -> None:
        """Set the mark, EMA and VWAP gauges of each market."""
        for market, ind in indicators.items():
            self.mark.labels(market).set(ind.mark())
            self.ema.labels(market).set(ind.ema_eur_per_mwh)
            self.vwap.labels(market).set(ind.vwap())  # NaN with no trade in the window

    def count_price_update(self, market: str, n: int = 1) -> None:
        """Count ``n`` price-update events of ``market``."""
        self.price_updates.labels(market).inc(n)

    def text(self) -> bytes:
        """The metrics in the Prometheus text exposition format."""
        return generate_latest(self.registry)
