"""Runtimes that drive a backtest: in-process (``local``) or on Ray actors (``ray``).

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

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from actors.backtest.exchange import ExchangeClient
from actors.backtest.forecast import ForecastClient
from actors.backtest.market import MarketClient
from actors.backtest.site import SiteClient
from actors.client import Ref
from twin.backtest.clock import DeliveryDay, delivery_days, horizon_steps
from twin.backtest.site_day import SiteDay
from twin.config import Scenario
from twin.ems.dispatch import DispatchResult
from twin.forecast.naive import make_forecaster
from twin.io.prices import PriceSeries
from twin.markets.calendar import PublicationCalendar
from twin.markets.exchange.session import SessionResult

log = logging.getLogger(__name__)

RuntimeName = Literal["ray", "local"]


class Runtime(Protocol):
    """How services are instantiated and called: in-process or on Ray actors."""

    name: str

    def create(self, service: type, actor: Any, options: dict[str, Any], *args: Any) -> Any:
        """Start one service instance with constructor ``args``; returns its handle."""

    def call(self, handle: Any, method: str, *args: Any) -> Any:
        """Call ``method`` of the instance behind ``handle`` (clients do this)."""

    def put(self, value: Any) -> Any:
        """Share a large value once with every service."""

    def get(self, refs: Sequence[Any]) -> list[Any]:
        """Resolve pending results, in order."""

    def close(self) -> None:
        """Stop every service this runtime started."""


class LocalRuntime:
    """Runs every service in this process; calls return values at once."""

    name = "local"

    def create(self, service: type, actor: Any, options: dict[str, Any], *args: Any) -> Any:
        """Instantiate ``service`` directly (``actor`` and ``options`` are ignored)."""
        return service(*args)

    def call(self, handle: Any, method: str, *args: Any) -> Any:
        """Call ``handle.method(*args)`` now (typed clients call this, see :mod:`actors.client`)."""
        return getattr(handle, method)(*args)

    def put(self, value: Any) -> Any:
        """Return ``value`` unchanged."""
        return value

    def get(self, refs: Sequence[Any]) -> list[Any]:
        """Return ``refs`` unchanged (they are values already)."""
        return list(refs)

    def close(self) -> None:
        """Nothing to release."""


class RayRuntime:
    """Runs every service as a Ray actor.

    Parameters
    ----------
    address : str, optional
        Address of a running Ray cluster; default: start a local Ray instance
        (or reuse the one this process already started).
    num_cpus : int, optional
        CPUs for a local instance; default: all.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        import ray

        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            os.environ.setdefault("RAY_DEDUP_LOGS", "1")
            ray.init(
                address=address,
                num_cpus=num_cpus if address is None else None,
                include_dashboard=False,
                logging_level=logging.WARNING,
                configure_logging=True,
            )
        self._handles: list[Any] = []

    def create(self, service: type, actor: Any, options: dict[str, Any], *args: Any) -> Any:
        """Start ``actor`` (the ``ray.remote`` twin of ``service``) with ``options``."""
        handle = actor.options(**options).remote(*args) if options else actor.remote(*args)
        self._handles.append(handle)
        return handle

    def call(self, handle: Any, method: str, *args: Any) -> Any:
        """Submit ``handle.method.remote(*args)``; returns an ``ObjectRef``."""
        return getattr(handle, method).remote(*args)

    def put(self, value: Any) -> Any:
        """Store ``value`` once in the object store (for large arrays sent to many actors)."""
        return self._ray.put(value)

    def get(self, refs: Sequence[Any]) -> list[Any]:
        """Fetch all ``refs`` with one ``ray.get``."""
        return list(self._ray.get(refs))

    def close(self) -> None:
        """Stop the actors, and Ray itself if this runtime started it."""
        for handle in self._handles:
            self._ray.kill(handle)
        self._handles.clear()
        if self._owns:
            self._ray.shutdown()


def make_runtime(name: RuntimeName, ray_address: str | None = None) -> Runtime:
    """Build a runtime by name (``ray`` or ``local``)."""
    if name == "local":
        return LocalRuntime()
    if name == "ray":
        return RayRuntime(address=ray_address)
    raise ValueError(f"unknown runtime {name!r}; choose ray or local")


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
