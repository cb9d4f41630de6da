"""The per-day table of a backtest (``daily.parquet``): one row per site and delivery day.

Every column is a segment reduction (:func:`numpy.ufunc.reduceat`) of the
site's per-step columns over its delivery days, so a site-year costs a few
array operations instead of a few thousand (delivery days differ in length on
the DST changeovers, hence segments rather than a reshape).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from twin.backtest.ems_kpis import share
from twin.backtest.site_day import SiteDay
from twin.config import SiteConfig
from twin.ems.realtime import pcc_flow
from twin.physics.battery import full_cycles
from twin.types import FloatArray


def daily_table(
    site: SiteConfig, days: Sequence[SiteDay], steps: pd.DataFrame, dt_h: float
) -> pd.DataFrame:
    """One site's rows of ``daily.parquet``.

    Parameters
    ----------
    site : SiteConfig
    days : sequence of SiteDay, length D
        The site's delivery days in order; they give the segments, the
        delivery dates, the strategy and whether the MILP was used.
    steps : pd.DataFrame, T rows
        The site's per-step table (the rows of ``sites.parquet``) over the
        same days: T is the sum of the days' steps.
    dt_h : float
        Step length. [h]

    Returns
    -------
    pd.DataFrame
        D rows: revenues, fees and imbalance (EUR), throughput (kWh) and full
        cycles, SoC/SoH at the day's end, the hottest cell temperature (°C),
        the mean price (EUR/MWh) and the EMS KPIs (energies in kWh, bills in
        EUR, peaks in kW, shares as fractions, None where undefined).
    """
    lengths = np.array([len(d.power_kw) for d in days])
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    ends = starts + lengths - 1

    def col(name: str) -> FloatArray:
        return np.asarray(steps[name], dtype=float)

    def per_day(values: FloatArray) -> FloatArray:
        return np.add.reduceat(values, starts)

    power, grid = col("power_kw"), col("grid_kw")
    load, pv = col("load_kw"), col("pv_kw")
    charged = per_day(np.clip(-power, 0, None)) * dt_h
    discharged = per_day(np.clip(power, 0, None)) * dt_h
    imports = np.clip(grid, 0, None)
    exports_kwh = per_day(np.clip(-grid, 0, None)) * dt_h
    imports_kwh = per_day(imports) * dt_h
    grid0, _ = pcc_flow(load, pv + col("pv_curtailed_kw"), np.zeros(len(load)), site.feed_in_limit_kw)
    load_kwh, pv_kwh = per_day(load) * dt_h, per_day(pv) * dt_h
    bill, bill0 = per_day(col("energy_bill_eur")), per_day(col("energy_bill_without_battery_eur"))
    return pd.DataFrame(
        {
            "delivery_date": [pd.Timestamp(d.delivery_date) for d in days],
            "site_id": site.site_id,
            "revenue_eur": per_day(col("revenue_eur")),
            "day_ahead_revenue_eur": per_day(col("day_ahead_revenue_eur")),
            "intraday_revenue_eur": per_day(col("intraday_revenue_eur")),
            "fees_eur": per_day(col("fees_eur")),
            "imbalance_eur": per_day(col("imbalance_eur")),
            "imbalance_energy_kwh": per_day(np.abs(col("imbalance_kwh"))),
            "perfect_foresight_revenue_eur": per_day(col("perfect_foresight_revenue_eur")),
            "energy_charged_kwh": charged,
            "energy_discharged_kwh": discharged,
            "full_cycles": full_cycles(site.battery, charged, discharged),
            "soc_end": col("soc")[ends],
            "temperature_max_c": np.maximum.reduceat(col("temperature_c"), starts),
            "soh_end": col("soh")[ends],
            "price_mean_eur_per_mwh": per_day(col("price_eur_per_mwh")) / lengths,
            "used_milp": [d.used_milp for d in days],
            "strategy": [d.strategy for d in days],
            "load_kwh": load_kwh,
            "pv_kwh": pv_kwh,
            "grid_import_kwh": imports_kwh,
            "grid_export_kwh": exports_kwh,
            "energy_bill_eur": bill,
            "energy_bill_without_battery_eur": bill0,
            "energy_savings_eur": bill0 - bill,
            "self_consumption_ratio": [share(p - e, p) for p, e in zip(pv_kwh, exports_kwh, strict=True)],
            "self_sufficiency": [share(d - i, d) for d, i in zip(load_kwh, imports_kwh, strict=True)],
            "peak_import_kw": np.maximum.reduceat(imports, starts),
            "peak_import_without_battery_kw": np.maximum.reduceat(np.clip(grid0, 0, None), starts),
            "fcr_revenue_eur": per_day(col("fcr_revenue_eur")),
        }
    )
