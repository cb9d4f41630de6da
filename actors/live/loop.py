"""Live mode: a fleet run in (accelerated) real time against real device traffic.

``run_live`` starts the device simulators and broker the scenario asks for,
one site actor per site and the market actor, then ticks every
``live.control_interval_s`` of wall time: the market publishes its price window
for the current market time, every site reads its device through the safety
guard, re-plans on a new MTU and writes its setpoint, and the rows go to the
SQLite history in one transaction. A stop request (Ctrl-C / SIGTERM), the end
of ``live.duration_h`` or the end of the price data ends the run cleanly: every
site commands 0 kW and writes a final row, the history is checkpointed, and the
children are stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from actors.live.etrm import LiveEtrmClient
from actors.live.exchange import LiveExchangeClient
from actors.live.market import LiveMarketClient
from actors.live.site import LiveSiteClient
from actors.runtime import make_runtime
from hardware.clock import VirtualClock
from twin.backtest.clock import horizon_steps
from twin.config import Scenario
from twin.forecast.naive import Forecaster
from twin.io.feeds import ReplayFeed
from twin.io.history import HistoryStore
from twin.io.prices import PriceSeries
from twin.markets.calendar import PublicationCalendar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveSummary:
    """What a live run did."""

    ticks: int
    rows: int
    market_start_utc: dt.datetime
    market_end_utc: dt.datetime
    wall_s: float
    stop_reason: str
    history_path: Path
    etrm: dict[str, Any] | None = None
    """The ETRM services' summary (``etrm.json`` beside the history), or None when off."""


def live_start_utc(scenario: Scenario, prices: PriceSeries) -> dt.datetime:
    """Market start of a live run: ``live.start`` (local), else the second day of the data."""
    tz = scenario.market.timezone
    if scenario.live.start is not None:
        start = pd.Timestamp(scenario.live.start).tz_localize(tz)
    else:
        first = prices.index[0].tz_convert(tz).normalize()
        start = (first.tz_localize(None) + pd.Timedelta(days=1)).tz_localize(tz)
    return start.tz_convert("UTC").to_pydatetime()


class ChildProcesses(Protocol):
    """Processes a live run needs beside it (device simulators, a broker), started by the caller's edge."""

    def start(self, clock: VirtualClock, log_dir: Path) -> None:
        """Start them on the run's market clock, logging under ``log_dir``; blocks until they listen."""

    def stop(self) -> None:
        """Stop whatever was started."""


async def run_live(
    scenario: Scenario,
    prices: PriceSeries,
    *,
    runtime: str = "ray",
    ray_address: str | None = None,
    on_tick: Callable[[list[dict[str, Any]]], None] | None = None,
    children: ChildProcesses | None = None,
    stop: asyncio.Event | None = None,
    on_started: Callable[[dict[str, LiveSiteClient], LiveEtrmClient | None, LiveExchangeClient], None] | None = None,
    on_event: Callable[[str, str | None, dict[str, Any]], None] | None = None,
) -> LiveSummary:
    """Run the scenario's fleet live until stopped.

    Parameters
    ----------
    scenario : Scenario
    prices : PriceSeries
        Day-ahead prices to replay.
    runtime : {"ray", "local"}
    ray_address : str, optional
    on_tick : callable, optional
        Called with each tick's rows (the CLI's live table).
    children : ChildProcesses, optional
        Device simulators and broker to start on the run's clock before the sites
        connect, and to stop at the end (the CLI's ``api.cli.children.Children``).
    stop : asyncio.Event, optional
        Set it to stop; default: SIGINT and SIGTERM set it.
    on_started : callable, optional
        Called with the started site clients by id, the ETRM client and the internal exchange
        (the API sends operator setpoints and strategies through the sites, reads risk, credit,
        grid and invoices from the ETRM service and places traders' orders on the exchange).
    on_event : callable, optional
        Called with ``(kind, site_id, data)`` for each new trade of a site (``trade``, its
        power per MTU) and each grid event that ended (``alert``, site None): the API's event stream.

    Returns
    -------
    LiveSummary
    """
    live = scenario.live
    started = time.monotonic()
    rt = make_runtime(runtime, ray_address)  # type: ignore[arg-type]  # before the clock: Ray takes seconds
    own_signals = stop is None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM) if own_signals else ():  # after ray.init, which installs its own
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    history = HistoryStore(live.history_path)
    sites: list[LiveSiteClient] = []
    etrm: LiveEtrmClient | None = None
    etrm_summary: dict[str, Any] | None = None
    ticks = 0
    reason = "stopped"
    clock = VirtualClock(live_start_utc(scenario, prices), live.speed_up)
    end_utc: dt.datetime | None = None  # duration counts from the first tick: start-up takes wall time
    try:
        if children is not None:
            await asyncio.to_thread(children.start, clock, live.history_path.parent)
        n_horizon = horizon_steps(scenario.strategy.horizon_h, prices.step)
        calendar = PublicationCalendar.of_market(scenario.market)
        market = LiveMarketClient.spawn(
            rt, scenario.market.zone, ReplayFeed(prices.price_eur_per_mwh, calendar), prices.step,
            scenario.market.timezone, live.history_path.with_name("prices.sqlite"),
            live.price_poll_interval_s, prices.index[-1] + prices.step, _live_forecaster(scenario),
            calendar.published_day_ahead(prices.price_eur_per_mwh, pd.Timestamp(clock.now())),
        )
        sites = [
            LiveSiteClient.spawn(rt, site, scenario.strategy_of(site), prices.dt_h, n_horizon, clock,
                                 options=site.actor_options)
            for site in scenario.sites
        ]
        etrm = _spawn_etrm(rt, scenario, prices, calendar, clock)
        exchange = LiveExchangeClient.spawn(rt, scenario, prices.dt_h, live.history_path.with_name("exchange.sqlite"))
        by_id = {cfg.site_id: client for cfg, client in zip(scenario.sites, sites, strict=True)}
        await asyncio.gather(*(s.start() for s in sites))
        if on_started is not None:
            on_started(by_id, etrm, exchange)
        while not stop.is_set():
            tick_started = time.monotonic()
            now = clock.now()
            if end_utc is None and live.duration_h:
                end_utc = now + dt.timedelta(hours=live.duration_h)
            if end_utc is not None and now >= end_utc:
                reason = f"duration {live.duration_h} h reached"
                break
            window = await market.window(pd.Timestamp(now), n_horizon)
            if window["end_of_data"]:
                reason = "end of price data"
                break
            rows = await asyncio.gather(*(s.tick(window) for s in sites))
            history.append(rows)
            traded = await _trade(exchange, by_id, pd.Timestamp(now), n_horizon)
            alerts = await etrm.on_tick(rows, now) if etrm is not None else []
            if on_event is not None:
                for site_id, power in traded.items():
                    on_event("trade", site_id, {"traded_kw": power})
                for alert in alerts:
                    on_event("alert", None, alert)
            ticks += 1
            if on_tick is not None:
                on_tick(rows)
            wait = live.control_interval_s - (time.monotonic() - tick_started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.0))
        if stop.is_set():
            reason = "stop requested"
        await exchange.close()
        vintages = await market.vintages()
        vintages.to_parquet(live.history_path.with_name("forecasts.parquet"), index=False)
        if etrm is not None:
            etrm_summary = await etrm.close()
            live.history_path.with_name("etrm.json").write_text(json.dumps(etrm_summary, indent=2, default=str) + "\n")
    finally:
        try:
            if sites:
                finals = await asyncio.gather(
                    *(s.stop() for s in sites), return_exceptions=True
                )
                history.append(row for row in finals if isinstance(row, dict))
            history.close()
            rt.close()
        finally:  # even when the run is cancelled while its sites stop
            if children is not None:
                children.stop()
        for sig in (signal.SIGINT, signal.SIGTERM) if own_signals else ():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return LiveSummary(
        ticks=ticks,
        rows=history.rows_written,
        market_start_utc=clock.start_utc,
        market_end_utc=clock.now(),
        wall_s=time.monotonic() - started,
        stop_reason=reason,
        history_path=live.history_path,
        etrm=etrm_summary,
    )


async def _trade(
    exchange: LiveExchangeClient, sites: dict[str, LiveSiteClient], now: pd.Timestamp, n_steps: int
) -> dict[str, dict[str, float]]:
    """Give the exchange the sites' plans and the sites their new trades; returns those (kW by MTU start, per site)."""
    names = list(sites)
    plans = await asyncio.gather(*(sites[n].trading_state() for n in names))
    trades = await exchange.on_tick(now, n_steps, dict(zip(names, plans, strict=True)))
    await asyncio.gather(*(sites[n].add_trades(kw) for n, kw in trades.items()))
    return trades


def _spawn_etrm(
    rt: Any, scenario: Scenario, prices: PriceSeries, calendar: PublicationCalendar, clock: VirtualClock
) -> LiveEtrmClient | None:
    """The live ETRM service, or None when the scenario switches ETRM off."""
    if not scenario.etrm.enabled:
        return None
    f = scenario.etrm.grid.frequency
    replay = None
    if f is not None and f.mqtt_topic is None and f.path is not None:
        from twin.io.frequency import read_replay

        replay = read_replay(f.path)
    published = calendar.published_day_ahead(prices.price_eur_per_mwh, pd.Timestamp(clock.now()))
    return LiveEtrmClient.spawn(rt, scenario, published, prices.step, scenario.live.history_path.parent,
                                clock.start_utc, replay)  # fmt: skip


def _live_forecaster(scenario: Scenario) -> Forecaster:
    """The scenario's day-ahead forecaster for the unpublished MTUs (``perfect`` cannot run live: persistence)."""
    from twin.forecast.registry import make_forecaster
    from twin.io.forecast_data import read_exogenous

    name = scenario.strategy.forecaster
    if name == "perfect":
        name = "persistence"
    exogenous = read_exogenous(list(scenario.forecasting.exogenous)) if scenario.forecasting.exogenous else None
    return make_forecaster(name, None, scenario.forecasting, exogenous)
