"""One site's block of ``summary.json``: revenue by market, the bound, energies, cycles, SoC, health."""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.backtest.site_day import SiteDay
from twin.ems.dispatch import DispatchResult
from twin.ems.multimarket import MultiMarketBound
from twin.ems.site_inputs import SitePlan
from twin.physics.battery import full_cycles
from twin.units import KWH_PER_MWH


def ratio(num: float, den: float) -> float | None:
    """``num / den``, or None when the denominator is not positive."""
    return num / den if den > 1e-9 else None


def site_summary(
    site_id: str,
    spec: Any,
    power: np.ndarray,
    revenue: np.ndarray,
    pf: DispatchResult | SitePlan,
    pf_da_revenue: np.ndarray,
    dt_h: float,
    days: list[SiteDay],
    bound: MultiMarketBound | None = None,
) -> dict[str, Any]:
    """Revenue split, bound, wear, energies, cycles, SoC range and health of one site (see ``results``)."""
    charged = float(np.sum(np.clip(-power, 0, None)) * dt_h)
    discharged = float(np.sum(np.clip(power, 0, None)) * dt_h)
    pf_charged = float(np.sum(pf.p_charge_kw) * dt_h)
    pf_discharged = float(np.sum(pf.p_discharge_kw) * dt_h)
    wear = spec.degradation_cost_eur_per_mwh * (charged + discharged) / KWH_PER_MWH
    pf_throughput = pf_charged + pf_discharged if bound is None else bound.throughput_kwh
    pf_wear = spec.degradation_cost_eur_per_mwh * pf_throughput / KWH_PER_MWH
    soc = np.concatenate([d.soc for d in days])
    total = float(revenue.sum())
    pf_da_total = float(pf_da_revenue.sum())
    pf_total = pf_da_total if bound is None else bound.revenue_eur
    day_ahead = float(sum(d.day_ahead_revenue_eur.sum() for d in days))
    intraday = float(sum(d.intraday_revenue_eur.sum() for d in days))
    fees = float(sum(d.fees_eur.sum() for d in days))
    return {
        "site_id": site_id,
        "revenue_eur": total,
        "day_ahead_revenue_eur": day_ahead,
        "intraday_revenue_eur": intraday,
        "fees_eur": fees,
        "intraday_net_eur": intraday - fees,
        "intraday_traded_mwh": float(
            sum(np.abs(d.intraday_kw).sum() for d in days) * dt_h / KWH_PER_MWH
        ),
        "imbalance_eur": float(sum(d.imbalance_eur.sum() for d in days)),
        "imbalance_energy_kwh": float(sum(np.abs(d.imbalance_kwh).sum() for d in days)),
        "perfect_foresight_revenue_eur": pf_total,
        "perfect_foresight_day_ahead_revenue_eur": pf_da_total,
        "capture_ratio": ratio(total - wear, pf_total - pf_wear),
        "capture_ratio_day_ahead": ratio(day_ahead, pf_da_total),
        "degradation_cost_eur": wear,
        "perfect_foresight_degradation_cost_eur": pf_wear,
        "profit_eur": total - wear,
        "energy_charged_kwh": charged,
        "energy_discharged_kwh": discharged,
        "full_cycles": full_cycles(spec, charged, discharged),
        "perfect_foresight_full_cycles": full_cycles(spec, pf_charged, pf_discharged),
        "soc_min": float(soc.min()),
        "soc_max": float(soc.max()),
        "soc_initial": spec.soc_initial,
        "soc_final": float(soc[-1]),
        "milp_days": int(sum(d.used_milp for d in days)),
        "temperature_max_c": float(max(d.temperature_c.max() for d in days)),
        "soh_final": float(days[-1].soh[-1]),
        "energy_kwh": spec.energy_kwh,
        "p_charge_max_kw": spec.p_charge_max_kw,
        "p_discharge_max_kw": spec.p_discharge_max_kw,
    }


def ems_array(days: list[SiteDay], name: str) -> np.ndarray:
    """A per-step EMS field over the days; zeros where a day does not have it."""
    if all(getattr(d, name) is None for d in days):  # a plain arbitrage site
        return np.zeros(sum(len(d.power_kw) for d in days))
    return np.concatenate(
        [
            getattr(d, name) if getattr(d, name) is not None else np.zeros(len(d.power_kw))
            for d in days
        ]
    )
