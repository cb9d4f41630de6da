"""Exchange actor: the internal exchange, its market feed indicators and metrics.

``ExchangeService`` is a plain class; ``ExchangeActor`` is the same class as a
Ray actor. Ray runs an actor's calls one at a time, so every command, and every
match with both orders and its trade, is applied and journaled atomically
(the journal writes a batch in one transaction). The event stream
(:meth:`ExchangeService.events_since`) is what the API forwards over WebSocket.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import ray

from actors.client import ServiceClient, remote
from actors.etrm.credit import CreditUpdate
from actors.etrm.risk import RiskUpdate
from actors.etrm.services import EtrmDay
from actors.metrics import ExchangeMetrics
from twin.backtest.clock import DeliveryDay
from twin.config.intraday import IntradayConfig
from twin.io.journal import SqliteJournal
from twin.markets.calendar import PublicationCalendar
from twin.markets.day_ahead import Clearing
from twin.markets.exchange.commands import Ack, Event
from twin.markets.exchange.engine import EngineConfig
from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.limits import LimitBook
from twin.markets.exchange.orders import OrderRequest, Trade
from twin.markets.exchange.session import IntradayIntent, SessionResult, run_session
from twin.markets.indicators import MarketIndicators
from twin.markets.intraday_rounds import IntradayRound
from twin.markets.products import NS_PER_S, Product, day_products


class ExchangeService:
    """The internal continuous market of one bidding zone.

    Parameters
    ----------
    market : str
        Bidding zone, e.g. ``DE-LU``.
    calendar : PublicationCalendar
        When the session opens (D-1 15:00 local).
    intraday : IntradayConfig
    dt_h : float
        Product length. [h]
    journal_path : str or Path, optional
        SQLite journal; in memory without it (backtests).
    marks_eur_per_mwh : np.ndarray, shape (T,), optional
        The real intraday index of every grid step: the mark the LP quotes
        around. Without it the day-ahead price is the mark (``mark: day_ahead``).
    limits : LimitBook, optional
        Credit, VaR, position and grid limits of the pre-trade check; the risk
        and credit services refresh what they measure through :meth:`update_limits`.
    """

    def __init__(
        self,
        market: str,
        calendar: PublicationCalendar,
        intraday: IntradayConfig,
        dt_h: float,
        journal_path: str | Path | None = None,
        marks_eur_per_mwh: np.ndarray | None = None,
        limits: LimitBook | None = None,
    ) -> None:
        self.market, self.calendar, self.config, self.dt_h = market, calendar, intraday, dt_h
        self._marks = marks_eur_per_mwh
        engine = EngineConfig(lot_mwh=intraday.lot_mwh, price_rule=intraday.price_rule)
        journal = SqliteJournal(journal_path) if journal_path is not None else None
        self.exchange = Exchange(journal, engine, intraday.policy, limits=limits)
        self.exchange.register(intraday.liquidity_provider.name, "trader")
        self.indicators: dict[str, MarketIndicators] = {market: MarketIndicators()}
        self.metrics = ExchangeMetrics()

    def run_session(
        self,
        day: DeliveryDay,
        clearing: Clearing,
        session: IntradayRound,
        *intents: IntradayIntent,
    ) -> SessionResult:
        """Trade one round of ``day``: the LP quotes around the marks, sites trade.

        Parameters
        ----------
        day : DeliveryDay
        clearing : Clearing
            The day-ahead result; its prices are the marks without intraday data.
        session : IntradayRound
            When the round trades and which products are open.
        *intents : IntradayIntent
            One per site.
        """
        for intent in intents:
            self.exchange.register(intent.state.site_id, "site")
        products = day_products(
            self.market, day.start_utc, day.n_steps, self.dt_h, self.config.gate_closure_min
        )
        if self._marks is not None:
            marks = self._marks[day.first_step : day.first_step + day.n_steps]
        else:
            marks = np.asarray(clearing.price_eur_per_mwh, dtype=float)
        indicator = self.indicators[self.market]
        for price in marks[session.tradable]:
            indicator.on_price(session.at_ns / NS_PER_S, float(price))
        self.metrics.count_price_update(self.market, int(session.tradable.sum()))
        result = run_session(
            self.exchange,
            products,
            marks,
            list(intents),
            self.config.liquidity_provider,
            session.at_ns,
            tradable=session.tradable,
        )
        self._observe(result.trades)
        return result

    def _observe(self, trades: list[Trade] | tuple[Trade, ...]) -> None:
        """Feed trades to the indicators, then refresh the metrics from the event stream."""
        lot = self.exchange.engine.config.lot_mwh
        for t in trades:
            self.indicators[self.market].on_trade(
                t.ts_ns / NS_PER_S, t.price_eur_per_mwh, t.quantity_lots * lot
            )
        self.metrics.count_price_update(self.market, len(trades))
        self.metrics.consume(self.exchange, self.indicators)

    def update_limits(self, *updates: RiskUpdate | CreditUpdate | EtrmDay) -> None:
        """Take in what the risk (price-change sigma) and credit (exposures, PFE move) services last measured."""
        book = self.exchange.limits
        for update in updates:
            risk = update.risk if isinstance(update, EtrmDay) else update if isinstance(update, RiskUpdate) else None
            credit = update.credit if isinstance(update, EtrmDay) else update if isinstance(update, CreditUpdate) else None
            if risk is not None:
                book.sigma_eur_per_mwh = risk.sigma_eur_per_mwh
            if credit is not None:
                book.exposure_eur = dict(credit.exposure_eur)
                book.move_eur_per_mwh = credit.move_eur_per_mwh

    # --- the API's entry points --------------------------------------------------------
    def register(self, participant: str, kind: str = "site") -> None:
        """Admit a participant (``site`` or ``trader``)."""
        self.exchange.register(participant, kind)  # type: ignore[arg-type]

    def open_products(self, products: list[Product], ts_ns: int) -> None:
        """Open continuous trading of ``products``."""
        self.exchange.open_products(products, ts_ns)

    def submit(self, request: OrderRequest, ts_ns: int) -> Ack:
        """Place one order (committed before the ack)."""
        ack = self.exchange.submit(request, ts_ns)
        self._observe(ack.trades)
        return ack

    def cancel(self, participant: str, order_id: int, ts_ns: int) -> Ack:
        """Cancel one order."""
        ack = self.exchange.cancel(participant, order_id, ts_ns)
        self.metrics.consume(self.exchange, self.indicators)
        return ack

    def events_since(self, seq: int = 0, limit: int = 10_000) -> list[Event]:
        """Events after ``seq`` (for the WebSocket stream)."""
        return self.exchange.events_since(seq, limit)

    def metrics_text(self) -> bytes:
        """Prometheus exposition of this exchange's metrics."""
        return self.metrics.text()

    def state_hash(self) -> str:
        """State hash of the engine."""
        return self.exchange.state_hash()


ExchangeActor = ray.remote(ExchangeService)


class ExchangeClient(ServiceClient):
    """Typed client of the :class:`ExchangeService`."""

    service = ExchangeService
    actor = ExchangeActor
    run_session = remote(ExchangeService.run_session)
    update_limits = remote(ExchangeService.update_limits)
    register = remote(ExchangeService.register)
    open_products = remote(ExchangeService.open_products)
    submit = remote(ExchangeService.submit)
    cancel = remote(ExchangeService.cancel)
    events_since = remote(ExchangeService.events_since)
    metrics_text = remote(ExchangeService.metrics_text)
    state_hash = remote(ExchangeService.state_hash)

