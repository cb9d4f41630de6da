"""Everything an EMS site reads, on the backtest's grid: load, PV, FCR prices, billing periods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twin.config import Scenario, SiteConfig
from twin.ems.planner import SiteSeries
from twin.ems.tariff import billing_period_of_step
from twin.io.profiles import bdew_profile, read_measured, read_weather, rebase_to_year, to_grid
from twin.io.reserve_prices import FcrPrices, load_fcr_prices
from twin.physics.pv import pv_power_kw


def needs_ems(scenario: Scenario, site: SiteConfig) -> bool:
    """Whether ``site`` runs the EMS LP (anything beyond plain day-ahead arbitrage)."""
    strategy = scenario.strategy_of(site)
    fcr = scenario.market.fcr
    return (
        site.behind_the_meter
        or strategy.kind != "arbitrage"
        or strategy.cycles_per_year is not None
        or strategy.load_balancing_eur_per_kw > 0
        or (fcr is not None and fcr.enabled)
    )


def native_step(site: SiteConfig) -> pd.Timedelta | None:
    """The finest step of the site's own series (BDEW: 15 min), None without any."""
    steps = []
    if site.load is not None:
        if site.load.kind == "bdew":
            steps.append(pd.Timedelta("15min"))
        else:
            steps.append(_step(read_measured(Path(site.load.path), site.load.column or "")))
    if site.pv is not None:
        if site.pv.kind == "measured":
            steps.append(_step(read_measured(Path(site.pv.path or ""), site.pv.column or "")))
        else:
            assert site.pv.system is not None
            steps.append(_step(read_weather(Path(site.pv.system.weather))["ghi_w_per_m2"]))
    return min(steps) if steps else None


def _step(series: pd.Series) -> pd.Timedelta:
    return pd.Timedelta(pd.Series(series.index).diff().median())


def _on_grid(series: pd.Series, index: pd.DatetimeIndex, tz: str, align_weekday: bool) -> np.ndarray:
    step = pd.Timedelta(index[1] - index[0])
    native = _step(series)  # re-base on the series' own grid, then average or repeat
    span = pd.date_range(index[0].floor(max(native, step)), index[-1] + step, freq=native, inclusive="left")
    rebased = pd.Series(rebase_to_year(series, span, tz, align_weekday), index=span)
    return to_grid(rebased, index, step).to_numpy(dtype=float)


def site_series(
    scenario: Scenario, site: SiteConfig, index: pd.DatetimeIndex, day_ahead_eur_per_mwh: np.ndarray,
    fcr: FcrPrices | None,
) -> SiteSeries:
    """Load, PV, FCR prices and billing periods of ``site`` on ``index`` (the price grid).

    Series of another year are re-based onto the prices' years
    (:func:`twin.io.profiles.rebase_to_year`): loads by day of year and weekday,
    PV by day of year.

    Raises
    ------
    DataError
        If a file or column is missing.
    """
    tz = scenario.market.timezone
    n = len(index)
    load = np.zeros(n)
    if site.load is not None:
        cfg = site.load
        if cfg.kind == "bdew":
            assert cfg.profile is not None and cfg.annual_kwh is not None
            load = bdew_profile(
                Path(cfg.path), cfg.profile, index, tz, cfg.annual_kwh, cfg.holidays_country, cfg.holidays_subdiv
            )
        else:
            load = _on_grid(read_measured(Path(cfg.path), cfg.column or "", cfg.scale), index, tz, True)
    pv = np.zeros(n)
    if site.pv is not None:
        if site.pv.kind == "measured":
            raw = read_measured(Path(site.pv.path or ""), site.pv.column or "")
        else:
            assert site.pv.system is not None
            raw = pv_power_kw(read_weather(Path(site.pv.system.weather)), site.pv.system)
        pv = np.clip(_on_grid(raw, index, tz, False), 0.0, None)
    fcr_price = fcr.eur_per_mw_h if fcr is not None else np.full(n, np.nan)
    fcr_tie = fcr.tie if fcr is not None else np.zeros(n, dtype=bool)
    return SiteSeries(
        index_ns=np.asarray(index.as_unit("ns").asi8),
        load_kw=np.nan_to_num(load, nan=0.0),
        pv_kw=np.nan_to_num(pv, nan=0.0),
        day_ahead_eur_per_mwh=np.asarray(day_ahead_eur_per_mwh, dtype=float),
        fcr_eur_per_mw_h=fcr_price,
        fcr_tie=fcr_tie,
        period=billing_period_of_step(index, tz),
    )


def scenario_fcr(scenario: Scenario, index: pd.DatetimeIndex) -> FcrPrices | None:
    """FCR prices on ``index`` when the scenario's market has FCR enabled."""
    fcr = scenario.market.fcr
    if fcr is None or not fcr.enabled:
        return None
    return load_fcr_prices(Path(fcr.prices), index)
