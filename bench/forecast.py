"""Forecasting benchmarks: one day's recalibration of LEAR (4 windows), LightGBM and Prophet, on the epftoolbox file.

Medians over days of the 2015 development year on this machine (printed with
the figures); for the README, never asserted in tests. No vintage cache: every
day is fitted. Run with BESS_TWIN_DATA set (the Makefile sets it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path

from twin.config.forecasting import ForecastingConfig
from twin.forecast.models import make_daily_model
from twin.io.forecast_data import read_epftoolbox

EPF = Path("epftoolbox_de_2012_2015_train") / "epftoolbox_de_2012-01-09_2015-12-31_hourly.csv"


def bench_model(name: str, days: int, jobs: int = 1, **settings: int) -> dict[str, float]:
    """Median seconds per forecast day (each day recalibrated) of ``name`` over ``days`` days from 2015-03-02."""
    table = read_epftoolbox(Path(os.environ["BESS_TWIN_DATA"]) / EPF)
    model = make_daily_model(name, ForecastingConfig(jobs=jobs, **settings), use_cache=False)  # type: ignore[arg-type]
    first = table.day_index(dt.date(2015, 3, 2))
    times = []
    for day in range(first, first + days):
        t = time.perf_counter()
        model.predict(table.public_at_gate(day), day)
        times.append(time.perf_counter() - t)
    return {"median_s": statistics.median(times), "max_s": max(times), "days": days}


def main() -> None:
    results = {
        "lear_4_windows_1_process": bench_model("lear", 10, jobs=1),
        "lear_4_windows_per_cpu": bench_model("lear", 10, jobs=0),
        "lightgbm_daily_refit": bench_model("lightgbm", 10, lightgbm_refit_days=1),
        "prophet_daily_refit": bench_model("prophet", 10),
    }
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    print(json.dumps({"machine": machine, **results}, indent=2))


if __name__ == "__main__":
    main()
