"""Backtest results: per-step and per-day tables, KPIs, and the run folder.

A run folder holds ``summary.json``, ``sites.parquet`` (one row per site and
step), ``daily.parquet`` (one row per site and delivery day),
``trades.parquet`` (one row per intraday trade, :mod:`twin.backtest.trades`)
and ``report.html``. Revenues are in EUR, energies in kWh at the PCC.

KPIs
----
* ``revenue_eur``: market revenue: day-ahead, plus intraday trade cash minus
  exchange fees, plus imbalance settlement.
* ``intraday_revenue_eur``, ``fees_eur``: intraday trade cash (sells minus
  buys) and the fees paid on it.
* ``day_ahead_revenue_eur``: ``sum(price * schedule_kw * dt_h) / 1000``.
* ``imbalance_eur``: settlement of ``delivered - scheduled`` energy at the
  imbalance price (:mod:`twin.markets.imbalance`); negative is a cost.
* ``imbalance_energy_kwh``: sum of absolute deviations from the schedule.
* ``soh_final``, ``temperature_max_c``: state of health and hottest cell
  temperature of the simulated plant.
* ``degradation_cost_eur``: ``degradation_cost_eur_per_mwh`` times throughput
  (charged + discharged energy) in MWh.
* ``perfect_foresight_day_ahead_revenue_eur``: revenue of one LP over the whole
  period on realised day-ahead prices, from ``soc_initial``, free terminal SoC:
  the upper bound of day-ahead trading alone.
* ``perfect_foresight_revenue_eur``: the bound ``capture_ratio`` is measured
  against: with intraday trading on real prices the multi-market bound (one LP
  that knows the day-ahead and intraday prices and trades both, with the same
  fees and spread, :mod:`twin.ems.multimarket`), else the day-ahead bound.
* ``capture_ratio``: ``(revenue - degradation cost) / (perfect-foresight revenue
  - its degradation cost)``; equal to the revenue ratio when wear is free, and
  at most 1. ``None`` when the benchmark earns nothing.
* ``capture_ratio_day_ahead``: day-ahead revenue (awards at the auction price)
  over the day-ahead bound.
* ``intraday_net_eur``: intraday trade cash minus fees.
* ``full_cycles``: equivalent full cycles, throughput / (2 * energy_kwh).
* EMS sites (load, PV, tariff, FCR or a strategy other than arbitrage): the
  bill with and without the battery, savings, self-consumption, self-sufficiency,
  monthly peaks, FCR revenue, ``profit_eur`` and ``capture_ratio`` against the
  stacked bound (:mod:`twin.backtest.ems_kpis`); ``revenue_eur`` includes FCR.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.backtest.daily import daily_table
from twin.backtest.ems_kpis import ems_site_summary
from twin.backtest.run_folder import BacktestResult, read_results, write_results
from twin.backtest.site_day import SiteDay
from twin.backtest.site_day_store import SiteDayStore
from twin.backtest.site_summary import ems_array as _ems_array
from twin.backtest.site_summary import ratio as _ratio
from twin.backtest.site_summary import site_summary as _site_summary
from twin.backtest.trades import rejections_table, trades_table, trading_summary
from twin.config import Scenario
from twin.ems.dispatch import DispatchResult
from twin.ems.multimarket import MultiMarketBound
from twin.ems.site_problem import SitePlan
from twin.markets.exchange.session import SessionResult
from twin.markets.products import product_id
from twin.units import KWH_PER_MWH

_PLANT_COLUMNS = (
    "day_ahead_kw",
    "intraday_kw",
    "day_ahead_revenue_eur",
    "intraday_revenue_eur",
    "fees_eur",
    "imbalance_kwh",
    "imbalance_price_eur_per_mwh",
    "imbalance_eur",
    "temperature_c",
    "soh",
)
"""Per-step fields of :class:`SiteDay` copied to ``sites.parquet`` as they are."""


SITES_COLUMNS = [
    "timestamp_utc",
    "site_id",
    "price_eur_per_mwh",
    "forecast_eur_per_mwh",
    "schedule_kw",
    "power_kw",
    "soc",
    "energy_kwh",
    "revenue_eur",
    *_PLANT_COLUMNS,
    "load_kw",
    "pv_kw",
    "pv_curtailed_kw",
    "grid_kw",
    "fcr_band_kw",
    "fcr_revenue_eur",
    "fcr_activation_kwh",
    "fcr_shortfall_kwh",
    "energy_bill_eur",
    "energy_bill_without_battery_eur",
    "perfect_foresight_power_kw",
    "perfect_foresight_revenue_eur",
]

_EMS_COLUMNS = (
    "load_kw",
    "pv_kw",
    "pv_curtailed_kw",
    "fcr_band_kw",
    "fcr_revenue_eur",
    "fcr_activation_kwh",
    "fcr_shortfall_kwh",
    "energy_bill_eur",
    "energy_bill_without_battery_eur",
)
"""Per-step EMS fields of :class:`SiteDay`: zeros for a plain arbitrage site."""


KEPT_SITES = 12
"""Sites whose per-step rows stay in memory when the table is streamed to a file (the report's week)."""


def stack_frames(tables: list[pa.Table]) -> pd.DataFrame:
    """One DataFrame from per-site Arrow tables, freeing each column's buffers as it is converted.

    ``pd.concat`` of per-site DataFrames holds the parts and the whole at once:
    twice the memory of ``sites.parquet``'s content (about 4 GB for a 1,000-site
    year). Arrow concatenates without copying, and ``to_pandas(self_destruct=True)``
    releases the Arrow buffers column by column. The list is emptied.

    Parameters
    ----------
    tables : list of pyarrow.Table
        Same schema each (a site's rows).

    Returns
    -------
    pd.DataFrame
        The rows of every table in order, with a fresh RangeIndex.
    """
    table = pa.concat_tables(tables, promote_options="default")
    tables.clear()
    frame: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True)
    return frame


def assemble(
    scenario: Scenario,
    index: pd.DatetimeIndex,
    price_eur_per_mwh: np.ndarray,
    dt_h: float,
    site_days: Sequence[list[SiteDay]],
    perfect_foresight: dict[str, DispatchResult | SitePlan],
    meta: dict[str, Any],
    sessions: list[SessionResult | None] | None = None,
    bounds: dict[str, MultiMarketBound] | None = None,
    fcr_eur_per_mw_h: np.ndarray | None = None,
    sites_path: Path | None = None,
) -> BacktestResult:
    """Assemble per-step, per-day and summary results.

    Parameters
    ----------
    scenario : Scenario
    index : pd.DatetimeIndex, length T
        UTC interval starts of the backtest period.
    price_eur_per_mwh : np.ndarray, shape (T,)
        Realised prices of the period. [EUR/MWh]
    dt_h : float
        Step length. [h]
    site_days : sequence of list of SiteDay
        Per delivery day, one entry per site in scenario order; a
        :class:`~twin.backtest.site_day_store.SiteDayStore` is read one site at
        a time (a spilled store never holds the whole fleet in memory).
    perfect_foresight : dict of str to DispatchResult
        Benchmark per site, over the same T steps.
    meta : dict
        Run facts copied into the summary (runtime, wall_time_s, forecaster, ...).
    sessions : list of SessionResult or None, optional
        The intraday sessions of each day (merged), for ``trades.parquet`` and the
        ``intraday`` block of the summary.
    bounds : dict of str to MultiMarketBound, optional
        The multi-market perfect-foresight bound per site; replaces the
        day-ahead bound as the ``perfect_foresight_*`` columns and the
        ``capture_ratio`` denominator.
    fcr_eur_per_mw_h : np.ndarray, shape (T,), optional
        Realised FCR capacity prices, for valuing the bound's FCR band. [EUR/MW/h]
    sites_path : Path, optional
        Stream the per-step table to this Parquet file (``sites.parquet``), one
        row group per site, instead of holding it: the result's ``sites`` then
        holds the first :data:`KEPT_SITES` sites only and ``sites_file`` names
        the file (a 1,000-site year is about 2 GB in memory).

    Returns
    -------
    BacktestResult
    """
    tz = scenario.market.timezone
    if isinstance(site_days, SiteDayStore):  # without loading a spilled chunk
        first_date, last_date = site_days.dates[0], site_days.dates[-1]
    else:
        first_date, last_date = site_days[0][0].delivery_date, site_days[-1][0].delivery_date
    frames: list[pa.Table] = []  # one per site, as Arrow: stacked without a second copy (stack_frames)
    writer: pq.ParquetWriter | None = None
    daily_frames: list[pd.DataFrame] = []  # one per site: a list of dicts for a 1,000-site year would take ~1 GB
    site_summaries = []
    for k, site in enumerate(scenario.sites):
        days = site_days.site(k) if isinstance(site_days, SiteDayStore) else [day[k] for day in site_days]
        power = np.concatenate([d.power_kw for d in days])
        revenue = np.concatenate([d.revenue_eur for d in days])
        pf = perfect_foresight[site.site_id]
        ems_pf = pf if isinstance(pf, SitePlan) else None
        pf_da_revenue = price_eur_per_mwh * pf.power_kw * dt_h / KWH_PER_MWH
        if ems_pf is not None and site.behind_the_meter:
            pf_da_revenue = np.zeros(len(price_eur_per_mwh))
        bound = bounds.get(site.site_id) if bounds else None
        pf_power = pf.power_kw if bound is None else bound.power_kw
        pf_revenue = (
            pf_da_revenue
            if bound is None
            else bound.day_ahead_revenue_eur + bound.intraday_revenue_eur
        )
        if ems_pf is not None and fcr_eur_per_mw_h is not None:
            fcr_price = np.nan_to_num(fcr_eur_per_mw_h, nan=0.0)
            pf_revenue = pf_revenue + fcr_price * ems_pf.fcr_band_kw * dt_h / KWH_PER_MWH
        ems = {name: _ems_array(days, name) for name in _EMS_COLUMNS}
        grid = np.concatenate(
            [d.grid_kw if d.grid_kw is not None else -d.power_kw for d in days]
        )
        site_frame = pd.DataFrame(
                {
                    "timestamp_utc": index,
                    "site_id": site.site_id,
                    "price_eur_per_mwh": price_eur_per_mwh,
                    "forecast_eur_per_mwh": np.concatenate([d.forecast_eur_per_mwh for d in days]),
                    "schedule_kw": np.concatenate([d.schedule_kw for d in days]),
                    "power_kw": power,
                    "soc": np.concatenate([d.soc for d in days]),
                    "energy_kwh": np.concatenate([d.energy_kwh for d in days]),
                    "revenue_eur": revenue,
                    **{
                        name: np.concatenate([getattr(d, name) for d in days])
                        for name in _PLANT_COLUMNS
                    },
                    **{name: ems[name] for name in ("load_kw", "pv_kw", "pv_curtailed_kw")},
                    "grid_kw": grid,
                    **{name: ems[name] for name in _EMS_COLUMNS[3:]},
                    "perfect_foresight_power_kw": pf_power,
                    "perfect_foresight_revenue_eur": pf_revenue,
                }
        )
        table = pa.Table.from_pandas(site_frame, preserve_index=False)
        if sites_path is not None:
            writer = writer or pq.ParquetWriter(sites_path, table.schema)
            writer.write_table(table.cast(writer.schema))
        if sites_path is None or k < KEPT_SITES:  # streamed: only the first sites stay in memory (the report)
            frames.append(table)
        spec = site.battery
        daily_frames.append(daily_table(site, days, site_frame, dt_h))
        summary_site = _site_summary(
            site.site_id, spec, power, revenue, pf, pf_da_revenue, dt_h, days, bound
        )
        if ems_pf is not None:
            summary_site["perfect_foresight_revenue_eur"] = float(pf_revenue.sum())
        if ems_pf is not None or site.behind_the_meter:
            summary_site.update(
                ems_site_summary(
                    site,
                    scenario.strategy_of(site),
                    site_frame,
                    ems_pf,
                    fcr_eur_per_mw_h,
                    dt_h,
                    tz,
                    summary_site["revenue_eur"],
                    summary_site["degradation_cost_eur"],
                    summary_site["perfect_foresight_degradation_cost_eur"],
                    len(days),
                    [d.strategy for d in days],
                )
            )
        site_summaries.append(summary_site)
    if writer is not None:
        writer.close()
    sites = stack_frames(frames)
    daily = pd.concat(daily_frames, ignore_index=True)
    fleet_revenue = sum(s["revenue_eur"] for s in site_summaries)
    fleet_profit = sum(s["profit_eur"] for s in site_summaries)
    fleet_pf_profit = sum(
        s.get(
            "perfect_foresight_profit_eur",
            s["perfect_foresight_revenue_eur"] - s["perfect_foresight_degradation_cost_eur"],
        )
        for s in site_summaries
    )
    fleet_pf = sum(s["perfect_foresight_revenue_eur"] for s in site_summaries)
    fleet_wear = sum(s["degradation_cost_eur"] for s in site_summaries)
    fleet_da = sum(s["day_ahead_revenue_eur"] for s in site_summaries)
    fleet_pf_da = sum(s["perfect_foresight_day_ahead_revenue_eur"] for s in site_summaries)
    local = index.tz_convert(tz)
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "period": {
            "start": str(first_date),
            "end": str(last_date),
            "start_utc": index[0].isoformat(),
            "end_utc": (index[-1] + pd.Timedelta(hours=dt_h)).isoformat(),
            "days": len(site_days),
            "steps": len(index),
            "timezone": tz,
            "first_local": local[0].isoformat(),
        },
        **meta,
        "fleet": {
            "revenue_eur": fleet_revenue,
            "day_ahead_revenue_eur": fleet_da,
            "intraday_revenue_eur": sum(s["intraday_revenue_eur"] for s in site_summaries),
            "fees_eur": sum(s["fees_eur"] for s in site_summaries),
            "intraday_net_eur": sum(s["intraday_net_eur"] for s in site_summaries),
            "intraday_traded_mwh": sum(s["intraday_traded_mwh"] for s in site_summaries),
            "imbalance_eur": sum(s["imbalance_eur"] for s in site_summaries),
            "imbalance_energy_kwh": sum(s["imbalance_energy_kwh"] for s in site_summaries),
            "perfect_foresight_revenue_eur": fleet_pf,
            "perfect_foresight_day_ahead_revenue_eur": fleet_pf_da,
            "capture_ratio": _ratio(fleet_profit, fleet_pf_profit),
            "capture_ratio_day_ahead": _ratio(fleet_da, fleet_pf_da),
            "degradation_cost_eur": fleet_wear,
            "profit_eur": fleet_profit,
            "perfect_foresight_profit_eur": fleet_pf_profit,
            "savings_eur": sum(s.get("savings_eur", 0.0) for s in site_summaries),
            "fcr_revenue_eur": sum(s.get("fcr_revenue_eur", 0.0) for s in site_summaries),
            "energy_charged_kwh": sum(s["energy_charged_kwh"] for s in site_summaries),
            "energy_discharged_kwh": sum(s["energy_discharged_kwh"] for s in site_summaries),
            "sites": len(site_summaries),
        },
        "sites": site_summaries,
    }
    fee = scenario.market.intraday.policy.fee_eur_per_mwh
    trades = trades_table(sessions or [], fee)
    if scenario.market.intraday.enabled:
        marks = {
            product_id(scenario.market.zone, ts, round(dt_h * 60)): float(p)
            for ts, p in zip(index, price_eur_per_mwh, strict=True)
        }
        summary["intraday"] = {
            **summary.get("intraday", {}),
            **trading_summary(sessions or [], marks),
        }
    return BacktestResult(
        sites=sites, daily=daily, summary=summary, trades=trades,
        rejections=rejections_table(sessions or []) if scenario.market.intraday.enabled else None,
        sites_file=sites_path,
    )  # fmt: skip



__all__ = ["SITES_COLUMNS", "BacktestResult", "assemble", "read_results", "write_results"]
