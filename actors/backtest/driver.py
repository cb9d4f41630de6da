"""The backtest driver: walks the delivery days on a runtime, in-process (``local``) or on Ray (``ray``).

Both runtimes run the same services through the same driver loop, called
through typed clients (:mod:`actors.client`: ``site.plan_day(day, forecast)``);
only how a call is made differs (a direct call, or ``handle.method.remote``
returning an ``ObjectRef``). Results are therefore identical for the same
scenario.

One round per delivery day D, as a real asset would trade::

    forecast(D) ─▶ plan_day(D) at every site ─▶ market.clear(D) ─▶ deliver_day(D) at every site
                                                      └▶ intraday_intent(D) at every site
                                                         ─▶ exchange.run_session(D) ─┘   (intraday on)
    market.auction_result(D) ─▶ forecast.publish(D)     (after forecast(D), before forecast(D+1))

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from actors.backtest.exchange import ExchangeClient
from actors.backtest.forecast import ForecastClient
from actors.backtest.market import MarketClient
from actors.backtest.site import SiteClient
from actors.client import Ref, Runtime
from twin.backtest.clock import DeliveryDay, delivery_days, horizon_steps
from twin.backtest.site_day import SiteDay
from twin.config import Scenario
from twin.ems.dispatch import DispatchResult
from twin.forecast.naive import make_forecaster
from twin.io.prices import PriceSeries
from twin.markets.calendar import PublicationCalendar
from twin.markets.exchange.session import SessionResult


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


@dataclass(frozen=True)
class BacktestRun:
    """Raw outputs of a run, before results are assembled."""

    plan: BacktestPlan
    site_days: list[list[SiteDay]]
    """Per delivery day, one ``SiteDay`` per site (scenario order)."""
    sessions: list[SessionResult | None]
    """Per delivery day, the intraday session (None without intraday trading)."""
    perfect_foresight: dict[str, DispatchResult]
    runtime: str
    wall_time_s: float


def plan_backtest(
    scenario: Scenario,
    prices: PriceSeries,
    forecaster: str | None = None,
    imbalance_eur_per_mwh: np.ndarray | None = None,
) -> BacktestPlan:
    """Resolve the delivery days and horizon of a scenario on its prices.

    ``imbalance_eur_per_mwh`` (shape ``(T,)``, aligned to ``prices``) replaces the
    spread model of imbalance settlement when given.

    Raises
    ------
    ConfigError
        If the backtest period does not fit the data and the forecaster's history.
    """
    name = forecaster or scenario.strategy.forecaster
    history_days = make_forecaster(name, prices.price_eur_per_mwh).history_days
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
    return BacktestPlan(scenario, prices, days, n_horizon, name, imbalance_eur_per_mwh)


def run_backtest(
    plan: BacktestPlan,
    runtime: Runtime,
    on_day: Callable[[DeliveryDay], None] | None = None,
    window: int = 8,
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

    Returns
    -------
    BacktestRun
    """
    started = time.perf_counter()
    scenario, prices = plan.scenario, plan.prices
    series = prices.price_eur_per_mwh
    first = plan.days[0]
    realised = series if plan.forecaster == "perfect" else None
    calendar = PublicationCalendar.of_market(scenario.market)
    published = calendar.published_day_ahead(series, first.gate_closure_utc)
    market = MarketClient.spawn(
        runtime,
        runtime.put(series.to_numpy()),
        scenario.market.imbalance.spread_eur_per_mwh,
        plan.imbalance_eur_per_mwh,
    )
    forecast = ForecastClient.spawn(
        runtime, plan.forecaster, published, calendar, prices.step, plan.n_horizon, realised
    )
    sites = [
        SiteClient.spawn(
            runtime,
            site,
            scenario.strategy,
            prices.dt_h,
            plan.n_horizon,
            scenario.market.intraday,
            scenario.market.zone,
            options=site.actor_options,
        )
        for site in scenario.sites
    ]
    intraday = scenario.market.intraday
    exchange = (
        ExchangeClient.spawn(runtime, scenario.market.zone, calendar, intraday, prices.dt_h)
        if intraday.enabled
        else None
    )
    period = runtime.put(series.to_numpy()[period_slice(plan)])
    pf_refs = [site.perfect_foresight(period) for site in sites]

    site_days: list[list[SiteDay]] = []
    sessions: list[SessionResult | None] = []
    in_flight: deque[tuple[DeliveryDay, list[Ref[Any]], bool]] = deque()

    def _collect_oldest() -> None:
        day, refs, with_session = in_flight.popleft()
        got = runtime.get(refs)
        site_days.append(got[: len(sites)])
        sessions.append(got[-1] if with_session else None)
        if on_day is not None:
            on_day(day)

    for day in plan.days:
        forecast_ref = forecast.forecast(day)
        forecast.publish(day, market.auction_result(day))
        bids = [site.plan_day(day, forecast_ref) for site in sites]
        clearing = market.clear(day, *bids)
        session = None
        if exchange is not None:
            intents = [site.intraday_intent(day, clearing) for site in sites]
            session = exchange.run_session(day, clearing, *intents)
        delivered: list[Ref[Any]] = [site.deliver_day(day, clearing, session) for site in sites]
        refs = delivered if session is None else [*delivered, session]
        in_flight.append((day, refs, session is not None))
        if len(in_flight) >= window:
            _collect_oldest()
    while in_flight:
        _collect_oldest()
    pf = dict(zip([s.site_id for s in scenario.sites], runtime.get(pf_refs), strict=True))
    return BacktestRun(
        plan=plan,
        site_days=site_days,
        sessions=sessions,
        perfect_foresight=pf,
        runtime=runtime.name,
        wall_time_s=time.perf_counter() - started,
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
