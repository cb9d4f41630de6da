"""EMS benchmarks: stacked LP re-solve (96 steps, every term), a year's stacked bound, the commercial year.

Medians over repeats on this machine (printed with the figures); for the
README, never asserted in tests. Run with BESS_TWIN_DATA set (the Makefile sets it).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from api.cli.prepare import prepare

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def bench_stacked_resolve(days: int = 58) -> dict[str, float]:
    """Re-solve a 96-step (24 h at 15 min) problem with every term on, on real inputs.

    The commercial site of ``commercial_peak_shaving.yaml`` (BDEW load, pvlib PV,
    day-ahead-indexed tariff, demand charge) plus the FCR capacity prices and a
    load-balancing weight, one solve per day of January-February 2023 (the FCR
    data end on 2023-03-01), from a different SoC each day.
    """
    import dataclasses

    from twin.ems.planner import SitePlanner
    from twin.io.reserve_prices import load_fcr_prices

    ready = prepare(SCENARIOS / "commercial_peak_shaving.yaml")
    plan, site = ready.plan, ready.scenario.sites[0]
    data = Path(os.environ["BESS_TWIN_DATA"])
    fcr = load_fcr_prices(
        data / "fcr_capacity_prices_de" / "fcr_capacity_price_de_smard_2020-07_2023-03_4h_blocks.csv",
        ready.prices.index,
    )
    series = dataclasses.replace(
        plan.site_series[site.site_id], fcr_eur_per_mw_h=fcr.eur_per_mw_h, fcr_tie=fcr.tie
    )
    strategy = ready.scenario.strategy.model_copy(update={"load_balancing_eur_per_kw": 0.01})
    planner = SitePlanner(site, strategy, series, ready.prices.dt_h, 96)
    price = ready.prices.price_eur_per_mwh.to_numpy()
    rng = np.random.default_rng(0)
    times = []
    for k, day in enumerate(plan.days[: days + 1]):
        gate = int(day.gate_closure_utc.value)
        full, _ = planner.inputs(day.first_step, gate, price[day.first_step : day.first_step + 96])
        t = time.perf_counter()
        planner.problem(full.fcr_tie).solve(full, float(rng.uniform(0.1, 0.9)))
        if k > 1:  # the first solves compile (one problem per FCR block layout)
            times.append(time.perf_counter() - t)
    return {"median_ms": statistics.median(times) * 1e3, "p95_ms": float(np.percentile(times, 95) * 1e3)}


def bench_year_bound(repeats: int = 3) -> dict[str, float]:
    """The commercial site's stacked perfect-foresight LP over its year (35,000 steps)."""
    from actors.backtest.driver import period_slice
    from actors.backtest.ems_site import EmsSite
    from twin.ems.planner import SitePlanner

    ready = prepare(SCENARIOS / "commercial_peak_shaving.yaml")
    plan, site = ready.plan, ready.scenario.sites[0]
    span = period_slice(plan)
    planner = SitePlanner(site, ready.scenario.strategy_of(site), plan.site_series[site.site_id],
                          ready.prices.dt_h, plan.n_horizon)  # fmt: skip
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        EmsSite(planner).bound(span.start, span.stop - span.start, ready.prices.dt_h, 1)
        times.append(time.perf_counter() - t)
    return {"median_s": statistics.median(times), "steps": span.stop - span.start}


def bench_commercial_year(repeats: int = 3) -> dict[str, float]:
    """The whole commercial backtest (stacked, local runtime), from prepare to results."""
    from actors.backtest.driver import run_backtest
    from actors.runtime import LocalRuntime

    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        ready = prepare(SCENARIOS / "commercial_peak_shaving.yaml")
        run_backtest(ready.plan, LocalRuntime())
        times.append(time.perf_counter() - t)
    return {"median_s": statistics.median(times)}


def main() -> None:
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]}
    out = {
        "machine": machine,
        "stacked_resolve_96_steps": bench_stacked_resolve(),
        "stacked_bound_year": bench_year_bound(),
        "commercial_year_backtest": bench_commercial_year(),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
