"""The internal exchange of a live run: continuous trading of the coming MTUs between the sites, through the API.

Every control tick the live loop calls :meth:`LiveExchangeService.on_tick`:

* the products of every MTU from the next one to the end of the planning
  horizon are open (hourly or quarter-hourly, as the price data), each closing
  ``market.intraday.gate_closure_min`` before delivery (resting orders of a
  closed product are cancelled);
* each site's plan becomes its base schedule in the pre-trade check
  (:class:`twin.markets.exchange.pretrade.SiteTradingState`), so an order the
  battery could not deliver on top of its plan is rejected and the book is
  unchanged;
* the trades since the last tick come back per site as power per MTU (a sell
  discharges, a buy charges), which the site adds to its schedule.

Traders place and cancel orders for their sites through the REST API
(participant = site id); the WebSocket stream sends the exchange's events.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from pathlib import Path
from typing import Any

import pandas as pd
import ray

from actors.client import ServiceClient, remote_async
from actors.metrics import ExchangeMetrics
from twin.config import Scenario
from twin.io.journal import SqliteJournal
from twin.markets.exchange.engine import EngineConfig
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.limits import limit_book
from twin.markets.exchange.orders import OrderRequest, Side, TimeInForce
from twin.markets.exchange.pretrade import PeriodState, SiteTradingState
from twin.markets.indicators import MarketIndicators
from twin.markets.products import NS_PER_S, make_product, parse_product_id

TRADES_KEPT = 1000


def plain(value: Any) -> Any:
    """A dataclass / enum tree as JSON-ready builtins (for the API and the WebSocket)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class LiveExchangeService:
    """The live internal exchange of one bidding zone.

    Parameters
    ----------
    scenario : Scenario
        Its sites are the participants; ``market.intraday`` gives the lot, price
        rule, trading policy and gate closure; ``etrm.limits`` the pre-trade limits.
    dt_h : float
        Product length (the price data's MTU). [h]
    journal_path : Path
        SQLite journal of every command (a restarted run replays it).
    """

    def __init__(self, scenario: Scenario, dt_h: float, journal_path: Path) -> None:
        intraday = scenario.market.intraday
        self.zone, self.dt_h = scenario.market.zone, dt_h
        self.gate_closure_min = intraday.gate_closure_min
        self.duration_min = round(dt_h * 60)
        limits = limit_book(scenario.etrm, scenario.sites, []) if scenario.etrm.enabled else None
        self.exchange = Exchange(SqliteJournal(journal_path), EngineConfig(lot_mwh=intraday.lot_mwh, price_rule=intraday.price_rule),
                                 intraday.policy, limits=limits)  # fmt: skip
        self.batteries = {s.site_id: s.battery for s in scenario.sites}
        for site_id in self.batteries:
            self.exchange.register(site_id, "site")
        self.metrics = ExchangeMetrics()
        self.indicators = {self.zone: MarketIndicators()}
        self.trades: list[dict[str, Any]] = []
        self._seen_seq = 0
        self.now_ns = 0

    def on_tick(self, now_utc: pd.Timestamp, n_steps: int, plans: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
        """Open the coming MTUs, close those past gate closure, take the sites' plans; return new trades as power.

        Parameters
        ----------
        now_utc : pd.Timestamp
            Market time. [UTC]
        n_steps : int
            Planning horizon. [MTUs]
        plans : dict of str to dict
            Each site's ``LiveSiteService.trading_state()``.

        Returns
        -------
        dict of str to dict of str to float
            Per site, the power each new trade adds to its MTU (ISO UTC start). [kW]
        """
        self.now_ns = int(pd.Timestamp(now_utc).value)
        step = pd.Timedelta(hours=self.dt_h)
        first = pd.Timestamp(now_utc).floor(step) + step
        products = [make_product(self.zone, first + i * step, self.duration_min, self.gate_closure_min) for i in range(n_steps)]
        self.exchange.open_products([p for p in products if p.gate_closure_ns > self.now_ns], self.now_ns)
        self.exchange.close_due(self.now_ns)
        for site_id, plan in plans.items():
            self.exchange.update_site(self._trading_state(site_id, plan))
        return self._new_trades()

    def _trading_state(self, site_id: str, plan: dict[str, Any]) -> SiteTradingState:
        b = self.batteries[site_id]
        periods: dict[str, PeriodState] = {}
        for start, soc, power in zip(plan["mtu_start_utc"] or [], plan["soc_start"], plan["base_power_kw"], strict=False):
            pid = make_product(self.zone, pd.Timestamp(start), self.duration_min).product_id
            periods[pid] = PeriodState(soc_start=float(soc) if math.isfinite(soc) else 0.5 * (b.soc_min + b.soc_max),
                                       base_power_kw=float(power))  # fmt: skip
        return SiteTradingState(site_id=site_id, energy_kwh=b.energy_kwh, soc_min=b.soc_min, soc_max=b.soc_max,
                                p_charge_max_kw=b.p_charge_max_kw, p_discharge_max_kw=b.p_discharge_max_kw,
                                eta_charge=b.eta_charge, eta_discharge=b.eta_discharge, periods=periods)  # fmt: skip

    def _new_trades(self) -> dict[str, dict[str, float]]:
        power: dict[str, dict[str, float]] = {}
        events = self.exchange.events_since(self._seen_seq)
        if events:
            self._seen_seq = events[-1].seq
        for event in events:
            if event.kind != "trade":
                continue
            _, start, minutes = parse_product_id(event.data["product"])
            mwh = float(event.data["quantity_mwh"])
            kw = mwh * 1000.0 / (minutes / 60.0)
            key = start.isoformat()
            for who, sign in ((event.data["seller"], 1.0), (event.data["buyer"], -1.0)):
                if who in self.batteries:
                    power.setdefault(who, {})
                    power[who][key] = power[who].get(key, 0.0) + sign * kw
            self.trades.append({"seq": event.seq, "ts_utc": pd.Timestamp(event.ts_ns, tz="UTC").isoformat(), **plain(event.data)})
            self.indicators[self.zone].on_trade(event.ts_ns / NS_PER_S, float(event.data["price_eur_per_mwh"]), mwh)
        del self.trades[:-TRADES_KEPT]
        self.metrics.consume(self.exchange, self.indicators)
        return power

    # --- the API's entry points (one call each, answered after the journal commit) -------
    def submit(self, site_id: str, product: str, side: str, quantity_mwh: float, price_eur_per_mwh: float,
               time_in_force: str = "GTC", client_order_id: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Place an order for ``site_id`` through the pre-trade check; returns the ack (accepted, order, rejection, trades)."""
        request = OrderRequest(site_id, product, Side(side), quantity_mwh, price_eur_per_mwh,
                               TimeInForce(time_in_force), client_order_id=client_order_id)  # fmt: skip
        ack = self.exchange.submit(request, self.now_ns)
        self.metrics.consume(self.exchange, self.indicators)
        return self._ack(ack)

    def cancel(self, site_id: str, order_id: int) -> dict[str, Any]:
        """Cancel an order of ``site_id``."""
        ack = self.exchange.cancel(site_id, order_id, self.now_ns)
        self.metrics.consume(self.exchange, self.indicators)
        return self._ack(ack)

    def _ack(self, ack: Any) -> dict[str, Any]:
        rejection = ack.rejection
        return {
            "accepted": ack.accepted, "order": plain(ack.order), "trades": plain(list(ack.trades)),
            "reasons": [r.value for r in rejection.reasons] if rejection else [],
            "message": rejection.message if rejection else None,
        }  # fmt: skip

    def orders(self, sites: list[str] | None = None, open_only: bool = True) -> list[dict[str, Any]]:
        """Orders of ``sites`` (None: all), newest first."""
        engine = self.exchange.engine
        lot, ticks = engine.config.lot_mwh, engine.config.ticks_per_eur
        chosen = [o for o in engine.orders.values() if (sites is None or o.participant in sites) and (o.is_open or not open_only)]
        return [plain(o.snapshot(lot, ticks)) for o in sorted(chosen, key=lambda o: -o.order_id)]

    def book(self, product: str, levels: int = 10) -> dict[str, Any] | None:
        """Depth of ``product`` (None if it was never opened)."""
        if product not in self.exchange.engine.books:
            return None
        depth = self.exchange.engine.depth(product, levels, self.now_ns)
        return {**plain(depth), "open": self.exchange.engine.books[product].open}

    def products(self) -> list[dict[str, Any]]:
        """Open products with their gate closure and best prices."""
        engine = self.exchange.engine
        out = []
        for pid, product in self.exchange.products.items():
            if not engine.books[pid].open:
                continue
            depth = engine.depth(pid, 1, self.now_ns)
            out.append({"product": pid, "delivery_start_utc": pd.Timestamp(product.delivery_start_ns, tz="UTC").isoformat(),
                        "duration_min": product.duration_min,
                        "gate_closure_utc": pd.Timestamp(product.gate_closure_ns, tz="UTC").isoformat(),
                        "best_bid_eur_per_mwh": depth.best_bid_eur_per_mwh, "best_ask_eur_per_mwh": depth.best_ask_eur_per_mwh})  # fmt: skip
        return out

    def recent_trades(self, sites: list[str] | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The last trades (newest first); with ``sites``, those with one of them on either side."""
        chosen = [t for t in reversed(self.trades) if sites is None or t["buyer"] in sites or t["seller"] in sites]
        return chosen[:limit]

    def events_since(self, seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Exchange events after ``seq`` as plain dicts (``seq``, ``ts_utc``, ``kind``, ``data``)."""
        return [{"seq": e.seq, "ts_utc": pd.Timestamp(e.ts_ns, tz="UTC").isoformat(), "kind": e.kind, "data": plain(e.data)}
                for e in self.exchange.events_since(seq, limit)]  # fmt: skip

    def metrics_text(self) -> bytes:
        """Prometheus exposition (G_MARK, G_EMA, G_VWAP, G_EXPO_*, G_PNL_REAL, C_EVENTS and the order counters)."""
        return self.metrics.text()

    def close(self) -> None:
        """Close the journal."""
        self.exchange.close()


LiveExchangeActor = ray.remote(LiveExchangeService)


class LiveExchangeClient(ServiceClient):
    """Typed client of the :class:`LiveExchangeService`; its methods are awaited."""

    service = LiveExchangeService
    actor = LiveExchangeActor
    on_tick = remote_async(LiveExchangeService.on_tick)
    submit = remote_async(LiveExchangeService.submit)
    cancel = remote_async(LiveExchangeService.cancel)
    orders = remote_async(LiveExchangeService.orders)
    book = remote_async(LiveExchangeService.book)
    products = remote_async(LiveExchangeService.products)
    recent_trades = remote_async(LiveExchangeService.recent_trades)
    events_since = remote_async(LiveExchangeService.events_since)
    metrics_text = remote_async(LiveExchangeService.metrics_text)
    close = remote_async(LiveExchangeService.close)
