"""The backtest driver: walks the delivery days on a runtime, in-process (``local``) or on Ray (``ray``).

Both runtimes run the same services through the same driver loop, called
through typed clients (:mod:`actors.client`: ``site.plan_day(day, forecast)``);
only how a call is made differs (a direct call, or ``handle.method.remote``
returning an ``ObjectRef``). Results are therefore identical for the same
scenario.

One round per delivery day D, as a real asset would trade::

    forecast(D) ─▶ plan_day(D) at every site ─▶ market.clear(D) ─▶ deliver_day(D) at every site
                                                      │                       ▲
                       for each intraday session r of D (auction, or continuous rounds):
                       forecast.intraday(D, r) ─▶ intraday_intent(D, r) at every site
                         ─▶ market.clear_intraday_auction(D, r) or exchange.run_session(D, r) ─┘
    market.auction_result(D) ─▶ forecast.publish(D)     (after forecast(D), before forecast(D+1))

Each intraday session hands its result to the sites' next decision, so a site's
base schedule in round r holds its fills of the rounds before. Days whose
intraday prices are missing are not traded intraday.

A price-taker does not move the price, so the auction result of D is published
without waiting for the bids; the forecast service then works ahead of the
sites, while each forecast still sees only what was published before its gate.

Calls are fanned out without waiting (Ray resolves the ``ObjectRef`` arguments
and runs each actor's calls in submission order); the driver gathers a day's
results with one ``ray.get``, keeping at most ``window`` days in flight so a
progress bar can follow the run.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from actors.backtest.exchange import ExchangeClient
from actors.backtest.forecast import ForecastClient
from actors.backtest.market import MarketClient
from actors.backtest.site_group import SiteFleet
from actors.client import Ref, Runtime
from actors.etrm.services import EtrmServices
from twin.backtest.clock import DeliveryDay, delivery_days, horizon_steps
from twin.backtest.site_day_store import SiteDayStore
from twin.config import Scenario
from twin.ems.dispatch import DispatchResult
from twin.ems.multimarket import MultiMarketBound
from twin.ems.planner import SiteSeries
from twin.ems.site_problem import SitePlan
from twin.etrm.run_files import EtrmResults
from twin.forecast.intraday import (
    DayAheadPlusShape,
    IntradayForecaster,
    PerfectIntraday,
    local_slots,
)
from twin.forecast.registry import make_forecaster
from twin.grid.frequency import FrequencyReplay
from twin.io.prices import PriceSeries
from twin.markets.calendar import PublicationCalendar
from twin.markets.exchange.limits import limit_book
from twin.markets.exchange.session import SessionResult, merge_sessions
from twin.markets.intraday_rounds import intraday_rounds


@dataclass(frozen=True)
class BacktestPlan:
    """Everything a run needs, resolved before any work starts."""

    scenario: Scenario
    prices: PriceSeries
    days: list[DeliveryDay]
    n_horizon: int
    forecaster: str
    imbalance_eur_per_mwh: np.ndarray | None = None
    """Measured imbalance prices per step of ``prices``, or None (spread model)."""
    intraday_eur_per_mwh: np.ndarray | None = None
    """The intraday reference prices per step of ``prices`` (NaN: none), or None."""
    block_steps: int = 1
    """Steps per day-ahead MTU (4: an hourly auction on a 15-min grid)."""
    site_series: dict[str, SiteSeries] = field(default_factory=dict)
    """Per EMS site (load, PV, tariff, FCR or a strategy other than arbitrage): its series."""
    forecaster_override: bool = False
    """The forecaster was set for the run (``--forecaster``): every site uses it."""
    price_history: pd.Series | None = None
    """Prices published before ``prices`` starts (``market.prices.history_paths``), on its grid."""
    exogenous: pd.DataFrame | None = None
    """Exogenous forecasts for the fitted forecasters, arranged by publication (UTC index)."""
    frequency: FrequencyReplay | None = None
    """Grid frequency replayed from the first delivery day (FCR response, grid events), or None."""

    def forecaster_of(self, site_id: str) -> str:
        """The day-ahead forecaster site ``site_id`` plans with."""
        if self.forecaster_override:
            return self.forecaster
        site = next(s for s in self.scenario.sites if s.site_id == site_id)
        return self.scenario.strategy_of(site).forecaster

    @property
    def intraday_marks(self) -> np.ndarray | None:
        """Intraday price per step the sites trade against.

        The data, or the day-ahead price under ``mark: day_ahead``; None when the
        scenario trades no intraday.
        """
        intraday = self.scenario.market.intraday
        if not intraday.enabled:
            return None
        if intraday.mark == "day_ahead":
            return self.prices.price_eur_per_mwh.to_numpy(dtype=float)
        return self.intraday_eur_per_mwh

    def intraday_days(self) -> list[bool]:
        """Per delivery day: whether it is traded intraday (a price for every product)."""
        marks = self.intraday_marks
        if marks is None:
            return [False] * len(self.days)
        return [
            bool(np.isfinite(marks[d.first_step : d.first_step + d.n_steps]).all())
            for d in self.days
        ]


@dataclass(frozen=True)
class BacktestRun:
    """Raw outputs of a run, before results are assembled."""

    plan: BacktestPlan
    site_days: SiteDayStore
    """Per delivery day, one ``SiteDay`` per site (scenario order); spilled to disk for large fleets."""
    sessions: list[SessionResult | None]
    """Per delivery day, its intraday sessions merged (None without intraday trading)."""
    perfect_foresight: dict[str, DispatchResult | SitePlan]
    multimarket_bound: dict[str, MultiMarketBound] | None
    runtime: str
    wall_time_s: float
    forecast_vintages: pd.DataFrame | None = None
    """Every day-ahead forecast made, per forecaster (:meth:`ForecastService.vintages`)."""
    etrm: EtrmResults | None = None
    """What the risk, credit, billing and grid services produced (None: ETRM off)."""
    sites_per_actor: int = 1
    """Sites per actor of the run (the largest group)."""
    site_nodes: dict[str, str] = field(default_factory=dict)
    """The Ray node each site ran on (``local`` in-process)."""


def plan_backtest(
    scenario: Scenario,
    prices: PriceSeries,
    forecaster: str | None = None,
    imbalance_eur_per_mwh: np.ndarray | None = None,
    price_history: pd.Series | None = None,
) -> BacktestPlan:
    """Resolve the delivery days and horizon of a scenario on its prices.

    ``imbalance_eur_per_mwh`` (shape ``(T,)``, aligned to ``prices``) replaces the
    spread model of imbalance settlement when given. ``price_history`` (prices
    published before ``prices`` starts) counts towards the forecasters' history.

    Raises
    ------
    ConfigError
        If the backtest period does not fit the data and the forecaster's history.
    """
    name = forecaster or scenario.strategy.forecaster
    names = {name} if forecaster else {scenario.strategy_of(s).forecaster for s in scenario.sites} | {name}
    history_days = max(
        make_forecaster(n, prices.price_eur_per_mwh, scenario.forecasting).history_days for n in names
    )
    if price_history is not None and len(price_history):
        before = (prices.index[0] - price_history.index[0]) / pd.Timedelta(days=1)
        history_days = max(0, history_days - int(before))
    days = delivery_days(
        prices.index,
        prices.step,
        scenario.market.timezone,
        scenario.market.gate_closure_local,
        history_days=history_days,
        start=scenario.backtest.start,
        end=scenario.backtest.end,
    )
    n_horizon = horizon_steps(scenario.strategy.horizon_h, prices.step)
    return BacktestPlan(
        scenario, prices, days, n_horizon, name, imbalance_eur_per_mwh,
        forecaster_override=forecaster is not None, price_history=price_history,
    )  # fmt: skip


def run_backtest(
    plan: BacktestPlan,
    runtime: Runtime,
    on_day: Callable[[DeliveryDay], None] | None = None,
    window: int = 8,
    sites_per_actor: int | None = None,
    spill_dir: Path | None = None,
) -> BacktestRun:
    """Walk the delivery days of ``plan`` on ``runtime``.

    Parameters
    ----------
    plan : BacktestPlan
    runtime : LocalRuntime or RayRuntime
    on_day : callable, optional
        Called with each day once its results are in (for progress bars).
    window : int
        Delivery days in flight at once (Ray); results are gathered in order.
    sites_per_actor : int, optional
        Sites per actor (:mod:`actors.backtest.site_group`); default: one group
        per CPU of the runtime. Results do not depend on it.
    spill_dir : Path, optional
        Keep the delivered days on disk here, a chunk of days at a time
        (:class:`~twin.backtest.site_day_store.SiteDayStore`), instead of in
        memory: the driver's memory then stays flat with the fleet's size.

    Returns
    -------
    BacktestRun
    """
    started = time.perf_counter()
    scenario, prices = plan.scenario, plan.prices
    series = prices.price_eur_per_mwh
    first = plan.days[0]
    calendar = PublicationCalendar.of_market(scenario.market)
    published = calendar.published_day_ahead(series, first.gate_closure_utc)
    if plan.price_history is not None:
        published = pd.concat([plan.price_history.loc[plan.price_history.index < series.index[0]], published])
    intraday = scenario.market.intraday
    marks = plan.intraday_marks
    auction = intraday.enabled and intraday.is_auction
    market = MarketClient.spawn(
        runtime,
        runtime.put(series.to_numpy()),
        scenario.market.imbalance.spread_eur_per_mwh,
        plan.imbalance_eur_per_mwh,
        marks if auction else None,
        scenario.market.zone,
        intraday.policy.fee_eur_per_mwh,
        intraday.lot_mwh,
    )
    intraday_forecaster = (
        make_intraday_forecaster(plan.forecaster, plan, calendar) if marks is not None else None
    )
    forecasts = {
        name: ForecastClient.spawn(
            runtime,
            name,
            published,
            calendar,
            prices.step,
            plan.n_horizon,
            series if name == "perfect" else None,
            intraday_forecaster if name == plan.forecaster else None,
            scenario.forecasting,
            plan.exogenous,
        )
        for name in dict.fromkeys(
            [plan.forecaster, *(plan.forecaster_of(s.site_id) for s in scenario.sites)]
        )
    }
    forecast = forecasts[plan.forecaster]
    fcr = scenario.market.fcr
    freq = scenario.etrm.grid.frequency
    site_args = [
        (
            site,
            scenario.strategy_of(site),
            prices.dt_h,
            plan.n_horizon,
            intraday,
            scenario.market.zone,
            calendar,
            plan.block_steps,
            plan.site_series.get(site.site_id),
            fcr.prequalified_duration_min / 60.0 if fcr is not None else 0.25,
            fcr.forecast if fcr is not None else "persistence",
            plan.frequency if freq is not None and freq.fcr_response else None,
            (freq.deadband_mhz, freq.fcr_full_mhz) if freq is not None else (10.0, 200.0),
        )
        for site in scenario.sites
    ]
    sites = SiteFleet(
        runtime,
        site_args,
        [site.actor_options for site in scenario.sites],
        [None if site.site_id in plan.site_series else site.battery.model_dump_json() for site in scenario.sites],
        [plan.forecaster_of(site.site_id) for site in scenario.sites],
        sites_per_actor,
    )
    exchange = (
        ExchangeClient.spawn(
            runtime,
            scenario.market.zone,
            calendar,
            intraday,
            prices.dt_h,
            None,
            marks,
            limit_book(scenario.etrm, scenario.sites, [intraday.liquidity_provider.name]) if scenario.etrm.enabled else None,
        )
        if marks is not None and not auction
        else None
    )
    etrm = EtrmServices.spawn(
        runtime, scenario, published, prices.step, first.start_utc, plan.frequency,
        [s.site_id for s in scenario.sites] + [intraday.liquidity_provider.name],
    )  # fmt: skip
    span = period_slice(plan)
    period = runtime.put(series.to_numpy()[span])
    pf_refs = sites.perfect_foresight(period, span.start)
    bound_refs = []
    traded_days = plan.intraday_days()
    if marks is not None:
        traded = np.full(len(series), np.nan)
        for day, on in zip(plan.days, traded_days, strict=True):
            if on:
                steps = slice(day.first_step, day.first_step + day.n_steps)
                traded[steps] = marks[steps]
        id_period = runtime.put(traded[span])
        cost = intraday.trade_cost_eur_per_mwh
        bound_refs = sites.multimarket_bound(period, id_period, cost)

    site_days = SiteDayStore(spill_dir)
    sessions: list[SessionResult | None] = []
    in_flight: deque[tuple[DeliveryDay, list[Ref[Any]], int]] = deque()

    def _collect_oldest() -> None:
        day, refs, n_sessions = in_flight.popleft()
        got = runtime.get(refs)
        n_sites = sites.n_sites
        site_days.append(got[:n_sites])
        sessions.append(merge_sessions(got[n_sites : n_sites + n_sessions]) if n_sessions else None)
        if on_day is not None:
            on_day(day)

    for day, with_intraday in zip(plan.days, traded_days, strict=True):
        forecast_refs = {name: f.forecast(day) for name, f in forecasts.items()}
        result = market.auction_result(day)
        for f in forecasts.values():
            f.publish(day, result)
        bids = sites.plan_day(day, forecast_refs)
        clearing = market.clear(day, *bids)
        session_refs: list[Ref[Any]] = []
        if with_intraday:
            rounds = intraday_rounds(
                day.start_utc, day.n_steps, prices.step, day.date, calendar, intraday
            )
            for rnd in rounds:
                expected = forecast.intraday(day, rnd)
                previous = session_refs[-1:]
                intents = sites.intraday_intent(day, clearing, rnd, expected, *previous)
                if exchange is not None:
                    session_refs.append(exchange.run_session(day, clearing, rnd, *intents))
                else:
                    session_refs.append(
                        market.clear_intraday_auction(day, rnd, prices.dt_h, *intents)
                    )
        delivered: list[Ref[Any]] = sites.deliver_day(day, clearing, *session_refs)
        etrm_refs: list[Ref[Any]] = []
        if etrm is not None:
            updates, etrm_refs = etrm.on_day(day, clearing, session_refs, delivered)
            if exchange is not None:
                etrm_refs.append(exchange.update_limits(*updates))
        in_flight.append((day, [*delivered, *session_refs, *etrm_refs], len(session_refs)))
        if len(in_flight) >= window:
            _collect_oldest()
    while in_flight:
        _collect_oldest()
    site_ids = [s.site_id for s in scenario.sites]
    pf = dict(zip(site_ids, runtime.get(pf_refs), strict=True))
    bounds = dict(zip(site_ids, runtime.get(bound_refs), strict=True)) if bound_refs else None
    vintages = pd.concat(runtime.get([f.vintages() for f in forecasts.values()]), ignore_index=True)
    etrm_results = etrm.results(runtime) if etrm is not None else None
    nodes = dict(zip(site_ids, runtime.get(sites.node_ids()), strict=True))
    return BacktestRun(
        plan=plan,
        site_days=site_days,
        sessions=sessions,
        perfect_foresight=pf,
        multimarket_bound=bounds,
        runtime=runtime.name,
        wall_time_s=time.perf_counter() - started,
        forecast_vintages=vintages,
        etrm=etrm_results,
        sites_per_actor=sites.sites_per_actor,
        site_nodes=nodes,
    )


def make_intraday_forecaster(
    name: str, plan: BacktestPlan, calendar: PublicationCalendar
) -> IntradayForecaster:
    """The intraday forecaster that goes with day-ahead forecaster ``name``.

    ``perfect`` knows the realised intraday prices; every other forecaster uses
    :class:`DayAheadPlusShape`. Under ``mark: day_ahead`` the "forecast" is the
    day-ahead price, known before intraday trading opens.
    """
    intraday = plan.scenario.market.intraday
    da = plan.prices.price_eur_per_mwh.to_numpy(dtype=float)
    marks = plan.intraday_marks
    assert marks is not None
    if intraday.mark == "day_ahead":
        return PerfectIntraday(da, da, name="day_ahead_mark")
    if name == "perfect":
        return PerfectIntraday(da, marks)
    index = plan.prices.index
    return DayAheadPlusShape(
        da,
        marks,
        calendar.intraday_publication_utc(index, plan.prices.step, intraday.is_auction),
        local_slots(index, plan.scenario.market.timezone),
        intraday.forecast_lookback_days,
    )


def period_slice(plan: BacktestPlan) -> slice:
    """Positions of the backtest period's steps in the price series."""
    first, last = plan.days[0], plan.days[-1]
    return slice(first.first_step, last.first_step + last.n_steps)


def period_index(plan: BacktestPlan) -> pd.DatetimeIndex:
    """UTC index of every step of the backtest period."""
    return plan.prices.index[period_slice(plan)]


def period_prices(plan: BacktestPlan) -> np.ndarray:
    """Realised prices of every step of the backtest period. [EUR/MWh]"""
    return plan.prices.price_eur_per_mwh.to_numpy()[period_slice(plan)]
