"""``daily.parquet`` by segment reductions against a naive day-by-day reference, on real runs across DST days."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actors.backtest.driver import period_index, period_prices, run_backtest
from actors.runtime import LocalRuntime
from api.cli.prepare import prepare


def _naive_daily(site, days, steps: pd.DataFrame, dt_h: float) -> pd.DataFrame:
    """One row per day, each worked out from that day's own slice of the per-step table."""
    rows, pos = [], 0
    for d in days:
        day = steps.iloc[pos : pos + len(d.power_kw)]
        pos += len(d.power_kw)
        power, grid = day["power_kw"].to_numpy(), day["grid_kw"].to_numpy()
        charged = sum(max(-p, 0.0) for p in power) * dt_h
        discharged = sum(max(p, 0.0) for p in power) * dt_h
        imports = sum(max(g, 0.0) for g in grid) * dt_h
        exports = sum(max(-g, 0.0) for g in grid) * dt_h
        load, pv = day["load_kw"].sum() * dt_h, day["pv_kw"].sum() * dt_h
        grid0 = day["load_kw"] - day["pv_kw"] - day["pv_curtailed_kw"]
        if site.feed_in_limit_kw is not None:
            grid0 = grid0 + np.minimum(np.clip(-grid0 - site.feed_in_limit_kw, 0, None),
                                       day["pv_kw"] + day["pv_curtailed_kw"])  # fmt: skip
        bill, bill0 = day["energy_bill_eur"].sum(), day["energy_bill_without_battery_eur"].sum()
        rows.append({
            "delivery_date": pd.Timestamp(d.delivery_date), "site_id": site.site_id,
            **{c: day[c].sum() for c in ("revenue_eur", "day_ahead_revenue_eur", "intraday_revenue_eur",
                                        "fees_eur", "imbalance_eur")},
            "imbalance_energy_kwh": day["imbalance_kwh"].abs().sum(),
            "perfect_foresight_revenue_eur": day["perfect_foresight_revenue_eur"].sum(),
            "energy_charged_kwh": charged, "energy_discharged_kwh": discharged,
            "full_cycles": (charged + discharged) / (2 * site.battery.energy_kwh),
            "soc_end": day["soc"].iloc[-1], "temperature_max_c": day["temperature_c"].max(),
            "soh_end": day["soh"].iloc[-1], "price_mean_eur_per_mwh": day["price_eur_per_mwh"].mean(),
            "used_milp": d.used_milp, "strategy": d.strategy,
            "load_kwh": load, "pv_kwh": pv, "grid_import_kwh": imports, "grid_export_kwh": exports,
            "energy_bill_eur": bill, "energy_bill_without_battery_eur": bill0, "energy_savings_eur": bill0 - bill,
            "self_consumption_ratio": min(max((pv - exports) / pv, 0.0), 1.0) if pv > 1e-9 else None,
            "self_sufficiency": min(max((load - imports) / load, 0.0), 1.0) if load > 1e-9 else None,
            "peak_import_kw": max(grid.max(), 0.0), "peak_import_without_battery_kw": max(grid0.max(), 0.0),
            "fcr_revenue_eur": day["fcr_revenue_eur"].sum(),
        })  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("path", "start", "end", "hours"),
    [
        ("scenarios/household_pv.yaml", "2023-03-24", "2023-03-28", 23),  # spring forward, PV and load
        ("scenarios/quickstart.yaml", "2023-10-27", "2023-10-30", 25),  # fall back, plain arbitrage
    ],
)
def test_daily_rows_equal_a_day_by_day_reference(data_dir, path, start, end, hours):
    from twin.backtest.results import assemble

    ready = prepare(Path(path), start=start, end=end, etrm=False)  # what a backtest reads, site series included
    sc, plan = ready.scenario, ready.plan
    run = run_backtest(plan, LocalRuntime())
    result = assemble(sc, period_index(plan), period_prices(plan), plan.prices.dt_h, run.site_days,
                      run.perfect_foresight, {})  # fmt: skip
    for k, site in enumerate(sc.sites):
        days = [day[k] for day in run.site_days]
        assert hours * round(1 / plan.prices.dt_h) in {len(d.power_kw) for d in days}  # the DST day is in
        steps = result.sites[result.sites["site_id"] == site.site_id].reset_index(drop=True)
        daily = result.daily[result.daily["site_id"] == site.site_id].reset_index(drop=True)
        reference = _naive_daily(site, days, steps, plan.prices.dt_h)
        pd.testing.assert_frame_equal(daily, reference, check_exact=False, rtol=1e-12, atol=1e-9)
        if site.pv is not None:
            assert daily["self_consumption_ratio"].notna().all() and daily["pv_kwh"].gt(0).all()
