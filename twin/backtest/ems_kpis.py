"""KPIs of an EMS site: bill with and without the battery, self-consumption, peaks, FCR, cycles.

Definitions (energies from the per-step columns of ``sites.parquet``, ``dt`` h):

* ``energy_bill_eur``: tariff energy bill of ``grid_kw`` (imports at the import
  price, exports at the export price); ``*_without_battery_eur``: the same for
  ``load_kw - pv`` with the same feed-in curtailment rule.
* ``demand_charge_eur``: per calendar month, the monthly demand charge times the
  month's highest import; ``bill_eur = energy bill + demand charges``;
  ``savings_eur = bill without battery - bill``.
* ``self_consumption_ratio = (E_pv - E_export) / E_pv`` and
  ``self_sufficiency = 1 - E_import / E_load`` (Weniger, Tjaden, Quaschning,
  Energy Procedia 46, 2014), None without PV or load.
* ``profit_eur = revenue_eur + savings_eur - degradation_cost_eur``: what the
  battery earns the site (``revenue_eur`` holds market and FCR revenue); the
  perfect-foresight bound is valued the same way, and ``capture_ratio`` is
  their ratio.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from twin.config import SiteConfig, StrategyConfig
from twin.ems.realtime import pcc_flow
from twin.ems.site_problem import SitePlan
from twin.ems.tariff import (
    billing_period_of_step,
    energy_bill_eur,
    export_price_eur_per_mwh,
    import_price_eur_per_mwh,
    monthly_peaks_kw,
    period_label,
)
from twin.units import KWH_PER_MWH


def _fcr_delivery(frame: pd.DataFrame) -> dict[str, Any]:
    """FCR activation asked by the replayed frequency and what the plant could not deliver (empty without a band)."""
    if "fcr_activation_kwh" not in frame or not (frame["fcr_band_kw"] > 0).any():
        return {}
    asked = frame["fcr_activation_kwh"].abs()
    short = frame.get("fcr_shortfall_kwh", pd.Series(0.0, index=frame.index)).abs()
    held = frame["fcr_band_kw"] > 0
    return {
        "fcr_activation_kwh": float(asked.sum()),
        "fcr_shortfall_kwh": float(short.sum()),
        "fcr_steps_short": int((held & (short > 0.01 * asked.clip(lower=1e-9))).sum()),
        "fcr_steps_held": int(held.sum()),
    }


def bill_parts(
    site: SiteConfig, grid_kw: np.ndarray, price_eur_per_mwh: np.ndarray, period: np.ndarray, dt_h: float
) -> tuple[float, float, dict[int, float]]:
    """Energy bill, demand charges and monthly peaks of a PCC flow (zeros without a tariff).

    Returns
    -------
    (float, float, dict of int to float)
        Energy bill [EUR], demand charges [EUR], peak import per period [kW].
    """
    tariff = site.tariff
    peaks = monthly_peaks_kw(grid_kw, period)
    if tariff is None:
        return 0.0, 0.0, peaks
    imp = import_price_eur_per_mwh(tariff, price_eur_per_mwh)
    exp = export_price_eur_per_mwh(tariff, price_eur_per_mwh)
    energy = float(energy_bill_eur(grid_kw, imp, exp, dt_h).sum())
    demand = tariff.demand_charge_eur_per_kw_per_month * sum(peaks.values())
    return energy, demand, peaks


def share(num: float, den: float) -> float | None:
    """``num / den`` clipped to [0, 1] (a self-consumption or self-sufficiency share); None when ``den`` is (nearly) zero."""
    return min(max(num / den, 0.0), 1.0) if den > 1e-9 else None


def ems_site_summary(
    site: SiteConfig,
    strategy: StrategyConfig,
    frame: pd.DataFrame,
    pf: SitePlan | None,
    fcr_eur_per_mw_h: np.ndarray | None,
    dt_h: float,
    timezone: str,
    revenue_eur: float,
    wear_eur: float,
    pf_wear_eur: float,
    days: int,
    strategies: list[str],
) -> dict[str, Any]:
    """The EMS block of a site's summary (see the module docstring).

    Parameters
    ----------
    frame : pd.DataFrame
        The site's rows of ``sites.parquet`` (``timestamp_utc``, ``price_eur_per_mwh``,
        ``load_kw``, ``pv_kw``, ``pv_curtailed_kw``, ``grid_kw``, ``fcr_revenue_eur``).
    pf : SitePlan or None
        The stacked perfect-foresight bound over the same steps.
    fcr_eur_per_mw_h : np.ndarray or None
        Realised FCR prices of the steps (for valuing the bound's band). [EUR/MW/h]
    revenue_eur, wear_eur, pf_wear_eur : float
        Market + FCR revenue, and the wear cost of the run and of the bound. [EUR]
    days : int
        Delivery days (for the pro-rata cycle budget).
    strategies : list of str
        The strategy of each day.
    """
    index = pd.DatetimeIndex(frame["timestamp_utc"])
    period = billing_period_of_step(index, timezone)
    price = frame["price_eur_per_mwh"].to_numpy(dtype=float)
    load, pv = frame["load_kw"].to_numpy(dtype=float), frame["pv_kw"].to_numpy(dtype=float)
    curtailed = frame["pv_curtailed_kw"].to_numpy(dtype=float)
    grid = frame["grid_kw"].to_numpy(dtype=float)
    grid0, _ = pcc_flow(load, pv + curtailed, np.zeros(len(load)), site.feed_in_limit_kw)
    energy, demand, peaks = bill_parts(site, grid, price, period, dt_h)
    energy0, demand0, peaks0 = bill_parts(site, grid0, price, period, dt_h)
    savings = (energy0 + demand0) - (energy + demand)
    imports = float(np.clip(grid, 0, None).sum() * dt_h)
    exports = float(np.clip(-grid, 0, None).sum() * dt_h)
    pv_kwh, load_kwh = float(pv.sum() * dt_h), float(load.sum() * dt_h)
    profit = revenue_eur + savings - wear_eur
    out: dict[str, Any] = {
        "kind": "behind_the_meter" if site.behind_the_meter else "grid_scale",
        "load_kwh": load_kwh,
        "pv_kwh": pv_kwh,
        "pv_curtailed_kwh": float(curtailed.sum() * dt_h),
        "grid_import_kwh": imports,
        "grid_export_kwh": exports,
        "self_consumption_ratio": share(pv_kwh - exports, pv_kwh) if pv_kwh > 0 else None,
        "self_sufficiency": share(load_kwh - imports, load_kwh) if load_kwh > 0 else None,
        "energy_bill_eur": energy,
        "energy_bill_without_battery_eur": energy0,
        "demand_charge_eur": demand,
        "demand_charge_without_battery_eur": demand0,
        "bill_eur": energy + demand,
        "bill_without_battery_eur": energy0 + demand0,
        "savings_eur": savings,
        "fcr_revenue_eur": float(frame["fcr_revenue_eur"].sum()),
        **_fcr_delivery(frame),
        "peaks": [
            {
                "period": period_label(p),
                "peak_import_kw": peaks[p],
                "peak_import_without_battery_kw": peaks0[p],
                "reduction_pct": (100.0 * (1 - peaks[p] / peaks0[p])) if peaks0[p] > 1e-9 else None,
            }
            for p in sorted(peaks)
        ],
        "cycles_budget": (strategy.cycles_per_year * days / 365.0) if strategy.cycles_per_year else None,
        "strategy": strategy.kind,
        "load_forecast": site.load.forecast if site.load is not None else None,
        "pv_forecast": site.pv.forecast if site.pv is not None else None,
        "profile_forecast_upper_bound": any(
            f in ("perfect", "weather") for f in (site.load and site.load.forecast, site.pv and site.pv.forecast)
        ),
        "strategy_days": {name: strategies.count(name) for name in sorted(set(strategies))},
        "profit_eur": profit,
    }
    if pf is not None:
        pf_energy, pf_demand, _ = bill_parts(site, pf.grid_kw, price, period, dt_h)
        pf_fcr = 0.0
        if fcr_eur_per_mw_h is not None:
            pf_fcr = float(np.nansum(fcr_eur_per_mw_h * pf.fcr_band_kw) * dt_h / KWH_PER_MWH)
        pf_market = 0.0 if site.behind_the_meter else float(price @ pf.power_kw * dt_h / KWH_PER_MWH)
        pf_savings = (energy0 + demand0) - (pf_energy + pf_demand)
        pf_profit = pf_market + pf_fcr + pf_savings - pf_wear_eur
        out.update(
            {
                "perfect_foresight_profit_eur": pf_profit,
                "perfect_foresight_savings_eur": pf_savings,
                "perfect_foresight_fcr_revenue_eur": pf_fcr,
                "perfect_foresight_revenue_eur": pf_market + pf_fcr,
                "capture_ratio": profit / pf_profit if pf_profit > 1e-9 else None,
            }
        )
    return out
