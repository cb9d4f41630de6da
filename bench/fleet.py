"""Fleet throughput and memory: site-years per minute at 1-256 sites, local and Ray, event-driven and fixed-step plant.

Each configuration is a real ``bess-twin backtest`` (or ``sweep``) in a fresh
process, Ray start, result assembly and the report included, on the quickstart
market (day-ahead only, ETRM off) with N sites of four battery types. While it
runs, the RSS of its whole process tree (driver, raylet, Ray workers) and of
the driver alone are sampled every 0.2 s; the peaks are reported.

The optimisation-only bound is the time the site LPs alone take for a
site-year (the rolling day-ahead problem of the same days, no plant, no
market, one process): the backtest's site-years per minute divided by the
bound's shows how close the full twin comes to its solver.

Usage::

    python -m bench.fleet                                  # the README table (long)
    python -m bench.fleet --sites 1,16 --modes local --days 60
    python -m bench.fleet --sweep 1000 --days 365          # a 1,000-site one-year sweep

Figures are medians of ``--repeats`` runs; the machine is printed with them.
Results go to ``bench/results/fleet.json`` and the plot to ``docs/img/fleet_scaling.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
BATTERIES = [
    {"energy_kwh": 200, "p_charge_max_kw": 100, "p_discharge_max_kw": 100},
    {"energy_kwh": 300, "p_charge_max_kw": 150, "p_discharge_max_kw": 150},
    {"energy_kwh": 1000, "p_charge_max_kw": 250, "p_discharge_max_kw": 250},
    {"energy_kwh": 50, "p_charge_max_kw": 50, "p_discharge_max_kw": 50},
]
MODES = {"local": ["--runtime", "local"], "ray": ["--runtime", "ray", "--sites-per-actor", "1"],
         "ray-groups": ["--runtime", "ray"]}  # fmt: skip


def fleet_scenario(n_sites: int, folder: Path) -> Path:
    """The quickstart market with ``n_sites`` sites cycling through :data:`BATTERIES`."""
    raw = yaml.safe_load(QUICKSTART.read_text())
    raw["name"] = f"fleet{n_sites}"
    raw["sites"] = [
        {"site_id": f"site{i:04d}", "battery": {**BATTERIES[i % len(BATTERIES)], "soc_min": 0.1, "soc_max": 0.9}}
        for i in range(n_sites)
    ]
    path = folder / f"fleet{n_sites}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def period(days: int) -> tuple[str, str]:
    """The first ``days`` delivery days the quickstart's data allow."""
    from twin.config import load_scenario
    from twin.io.prices import load_prices

    sc = load_scenario(QUICKSTART)
    index = load_prices(sc.market).index.tz_convert(sc.market.timezone)
    start = (index[0] + pd.Timedelta(days=2)).date()
    end = min(start + pd.Timedelta(days=days - 1), (index[-1] - pd.Timedelta(days=2)).date())
    return start.isoformat(), end.isoformat()


class TreeSampler(threading.Thread):
    """Peak RSS of a process and of its whole tree, sampled every ``interval_s``. [bytes]"""

    def __init__(self, pid: int, interval_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval_s = psutil.Process(pid), interval_s
        self.peak_root = self.peak_tree = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                rss = [p.memory_info().rss for p in procs if p.is_running()]
                self.peak_root = max(self.peak_root, rss[0] if rss else 0)
                self.peak_tree = max(self.peak_tree, sum(rss))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
            self.done.wait(self.interval_s)


def run_one(args: list[str], n_sites: int, days: int, out: Path) -> dict[str, Any]:
    """One CLI run in a fresh process: wall time, site-years per minute, peak memory."""
    env = os.environ | {"RAY_USAGE_STATS_ENABLED": "0"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args, "--out", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    sampler = TreeSampler(proc.pid)
    sampler.start()
    output, _ = proc.communicate()
    wall_s = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{output[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    site_years = n_sites * summary["period"]["days"] / 365.0
    return {"wall_s": wall_s, "simulation_s": summary.get("simulation_time_s"), "site_years": site_years,
            "site_years_per_min": site_years / (wall_s / 60.0), "peak_driver_mb": sampler.peak_root / 2**20,
            "peak_tree_mb": sampler.peak_tree / 2**20, "peak_tree_mb_per_site": sampler.peak_tree / 2**20 / n_sites,
            "sites_per_actor": summary.get("sites_per_actor"), "nodes": summary.get("nodes")}  # fmt: skip


def optimisation_bound(days: int) -> dict[str, float]:
    """Solver time alone per site-year: the rolling day-ahead LP of each battery type over ``days`` days."""
    from twin.config import load_scenario
    from twin.config.battery import BatterySpec
    from twin.ems.dispatch import DispatchProblem
    from twin.io.prices import load_prices

    sc = load_scenario(QUICKSTART)
    prices = load_prices(sc.market)
    p = prices.price_eur_per_mwh.to_numpy()
    per_day, horizon = round(24 / prices.dt_h), round(36 / prices.dt_h)
    times = []
    for battery in BATTERIES:
        spec = BatterySpec(**battery, soc_min=0.1, soc_max=0.9)
        problem = DispatchProblem(spec, horizon, prices.dt_h, sc.strategy.terminal_soc)
        soc, t = 0.5, time.perf_counter()
        starts = range(0, min(len(p) - horizon, days * per_day), per_day)
        for s in starts:
            soc = float(problem.solve(p[s : s + horizon], soc).energy_kwh[per_day]) / spec.energy_kwh
        times.append((time.perf_counter() - t) / len(starts) * 365)
    per_site_year_s = statistics.mean(times)
    return {"solver_s_per_site_year": per_site_year_s, "site_years_per_min_one_core": 60.0 / per_site_year_s,
            "site_years_per_min_all_cores": 60.0 / per_site_year_s * (os.cpu_count() or 1)}  # fmt: skip


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Site-years per minute against the number of sites, one line per runtime and plant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    frame = pd.DataFrame(results)
    for (mode, plant), group in frame.groupby(["mode", "plant"]):
        group = group.sort_values("sites")
        ax.plot(group["sites"], group["site_years_per_min"], marker="o", linestyle="-" if plant == "event" else "--",
                label=f"{mode}, {plant} plant")  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xlabel("sites")
    ax.set_ylabel("site-years per minute")
    ax.set_title(f"bess-twin fleet backtest, day-ahead only ({os.cpu_count()} cores)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default="1,16,64,256")
    parser.add_argument("--modes", default="local,ray,ray-groups")
    parser.add_argument("--plants", default="event,fixed")
    parser.add_argument("--days", type=int, default=365, help="delivery days per run (site-years scale with it)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--fixed-days", type=int, default=0, help="delivery days of the fixed-step runs (default: --days)")
    parser.add_argument("--per-site-max", type=int, default=64,
                        help="largest fleet run with one actor per site (each is a process of ~150 MB)")
    parser.add_argument("--sweep", type=int, default=0, help="instead: a sweep making this many sites (x4 battery sizes)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fleet.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "fleet_scaling.png")
    opts = parser.parse_args(argv)
    start, end = period(opts.days)
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
               "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)}  # fmt: skip
    print(f"machine: {machine}; period {start} to {end}", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bess-bench-") as tmp:
        folder = Path(tmp)
        if opts.sweep:
            base = fleet_scenario(max(opts.sweep // 4, 1), folder)
            args = ["sweep", str(base), "--grid", "battery.energy_kwh=200,400,800,1600", "--start", start, "--end", end]
            row = run_one(args, 4 * max(opts.sweep // 4, 1), opts.days, folder / "sweep")
            row |= {"mode": "sweep ray-groups", "plant": "event", "sites": 4 * max(opts.sweep // 4, 1)}
            print(json.dumps(row), flush=True)
            results.append(row)
        else:
            for n in (int(x) for x in opts.sites.split(",")):
                scenario = fleet_scenario(n, folder)
                for plant in opts.plants.split(","):
                    days = opts.fixed_days if plant == "fixed" and opts.fixed_days else opts.days
                    first, last = period(days)
                    for mode in opts.modes.split(","):
                        if mode == "ray" and n > opts.per_site_max:
                            print(f"skip: {n} sites with one actor per site (> --per-site-max {opts.per_site_max})", flush=True)
                            continue
                        args = ["backtest", str(scenario), *MODES[mode], "--plant", plant, "--no-etrm",
                                "--start", first, "--end", last]  # fmt: skip
                        runs = [run_one(args, n, days, folder / f"{n}-{mode}-{plant}-{r}") for r in range(opts.repeats)]
                        row = {k: statistics.median(r[k] for r in runs) if isinstance(runs[0][k], float) else runs[0][k]
                               for k in runs[0]}  # fmt: skip
                        row |= {"mode": mode, "plant": plant, "sites": n}
                        print(json.dumps(row), flush=True)
                        results.append(row)
    bound = optimisation_bound(opts.days)
    print(f"optimisation-only bound: {json.dumps(bound)}", flush=True)
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(opts.out.read_text()) if opts.out.exists() else {}
    key = "sweep" if opts.sweep else "fleet"
    today = time.strftime("%Y-%m-%d")
    for row in results:
        row["measured"] = today
    # rows of configurations not re-run this time stay, with the date they were measured
    fresh = {(r["mode"], r["plant"], r["sites"]) for r in results}
    kept = [r for r in previous.get(key, {}).get("results", []) if (r["mode"], r["plant"], r["sites"]) not in fresh]
    merged = sorted(kept + results, key=lambda r: (r["plant"], r["sites"], r["mode"]))
    previous[key] = {"machine": machine, "period": [start, end], "bound": bound, "results": merged}
    opts.out.write_text(json.dumps(previous, indent=2) + "\n")
    if not opts.sweep and len(merged) > 1:
        plot(merged, opts.plot)
        print(f"wrote {opts.out} and {opts.plot}")


if __name__ == "__main__":
    main()
