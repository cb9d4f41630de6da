"""Benchmarks: dispatch re-solve, perfect-foresight LP, backtest throughput (make bench).

Medians over repeats; the machine is printed with the figures. Not part of CI:
the machines are shared and noisy, so figures are for the README, not asserts.
Run with BESS_TWIN_DATA set (the Makefile sets it).
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

from actors.backtest.driver import plan_backtest, run_backtest
from actors.runtime import LocalRuntime, RayRuntime
from twin.config import TerminalSocConfig, load_scenario
from twin.ems.dispatch import DispatchProblem, solve_dispatch
from twin.io.prices import load_prices

QUICKSTART = Path(__file__).resolve().parents[1] / "scenarios" / "quickstart.yaml"


def bench_resolve(spec, price, n_steps, dt_h, repeats=300):
    problem = DispatchProblem(spec, n_steps, dt_h, TerminalSocConfig())
    rng = np.random.default_rng(0)
    starts = rng.integers(0, len(price) - n_steps, repeats)
    problem.solve(price[:n_steps], 0.5)  # compile once
    times = []
    for s in starts:
        t = time.perf_counter()
        problem.solve(price[s : s + n_steps], float(rng.uniform(0.1, 0.9)))
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, float(np.percentile(times, 95) * 1e3), problem.milp_solves


def bench_perfect_foresight(spec, price, dt_h, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        solve_dispatch(spec, price, dt_h)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fleet_scenario(base, n_sites):
    sites = []
    for i in range(n_sites):
        template = base.sites[i % len(base.sites)]
        sites.append(template.model_copy(update={"site_id": f"site{i:02d}"}))
    return base.model_copy(update={"sites": sites})


def bench_throughput(base, prices, n_sites, runtime_name):
    scenario = fleet_scenario(base, n_sites)
    plan = plan_backtest(scenario, prices)
    t0 = time.perf_counter()
    runtime = LocalRuntime() if runtime_name == "local" else RayRuntime()
    t_start = time.perf_counter() - t0
    try:
        out = run_backtest(plan, runtime)
    finally:
        runtime.close()
    wall = time.perf_counter() - t0
    site_years = n_sites * len(plan.days) / 365.0
    return {"sites": n_sites, "runtime": runtime_name, "startup_s": t_start, "run_s": out.wall_time_s,
            "wall_s": wall, "site_years_per_min": site_years / (wall / 60)}


def main() -> None:
    base = load_scenario(QUICKSTART)
    prices = load_prices(base.market)
    spec = base.sites[0].battery
    price = prices.price_eur_per_mwh.to_numpy()
    price_15 = np.repeat(price, 4)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
               "processor": platform.processor() or platform.machine()}
    print(f"machine: {machine}")
    results: dict = {"machine": machine}
    med, p95, milp = bench_resolve(spec, price_15, 96, 0.25)
    results["resolve_96_ms"] = {"median": med, "p95": p95, "milp_solves": milp}
    print(f"dispatch re-solve, 96 steps (15 min, 24 h): median {med:.2f} ms, p95 {p95:.2f} ms ({milp} MILP fallbacks)")
    med, p95, milp = bench_resolve(spec, price, 36, 1.0)
    results["resolve_36_ms"] = {"median": med, "p95": p95, "milp_solves": milp}
    print(f"dispatch re-solve, 36 steps (1 h, 36 h): median {med:.2f} ms, p95 {p95:.2f} ms ({milp} MILP fallbacks)")
    pf = bench_perfect_foresight(spec, price, 1.0)
    results["perfect_foresight_year_hourly_s"] = pf
    print(f"perfect-foresight LP, {len(price)} hourly steps: median {pf:.2f} s")
    sizes = [int(x) for x in os.environ.get("BENCH_SITES", "1,4,16").split(",")]
    results["throughput"] = []
    for runtime_name in ("local", "ray"):
        for n in sizes:
            row = bench_throughput(base, prices, n, runtime_name)
            results["throughput"].append(row)
            print(f"backtest {runtime_name:5s} {n:2d} sites: wall {row['wall_s']:.1f} s "
                  f"(startup {row['startup_s']:.1f} s), {row['site_years_per_min']:.1f} site-years/min")
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    print(f"written {out / 'latest.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
