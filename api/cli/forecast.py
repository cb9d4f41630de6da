"""``bess-twin forecast evaluate``: walk-forward day-ahead price forecasts and their accuracy.

Registered on the main app by :mod:`api.cli`. Exit codes as there: 2 for bad
input (before any work starts), 1 for a failure during the run.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.prepare import parse_date
from twin.errors import ScenarioError, SimulationError

console = Console()
err_console = Console(stderr=True)
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
MODELS = ("lear", "persistence", "seasonal_naive")
BASELINES = ("seasonal_naive", "persistence")

forecast_app = typer.Typer(help="Day-ahead price forecasts: walk-forward evaluation", no_args_is_help=True)


def _fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


@forecast_app.command("evaluate")
def evaluate(
    data: Annotated[Path, typer.Option(help="Price and exogenous forecasts, epftoolbox layout (timestamp_local, price_eur_per_mwh, exogenous columns)")],
    test_start: Annotated[str, typer.Option(help="First test day, YYYY-MM-DD")],
    test_end: Annotated[str, typer.Option(help="Last test day (inclusive), YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="Folder for forecasts.csv and metrics.json")],
    model: Annotated[str, typer.Option(help=f"Forecaster: {', '.join(MODELS)}")] = "lear",
    windows: Annotated[str, typer.Option(help="LEAR calibration windows in days, comma-separated")] = "56,84,1092,1456",
    baseline: Annotated[str, typer.Option(help=f"Diebold-Mariano baseline: {', '.join(BASELINES)}")] = "seasonal_naive",
    jobs: Annotated[int, typer.Option(min=1, max=64, help="Processes calibrating LEAR's windows in parallel")] = 1,
) -> None:
    """Forecast each test day from what was public at its gate; write forecasts and accuracy.

    Each day D is forecast from prices up to D-1 and exogenous forecasts up to D
    (the epftoolbox convention), then D's prices are revealed; LEAR is
    recalibrated every day.
    """
    from twin.forecast.lear import Lear
    from twin.forecast.metrics import accuracy, diebold_mariano, naive
    from twin.io.forecast_data import read_epftoolbox

    started = time.perf_counter()
    try:
        if model not in MODELS:
            raise ScenarioError(f"--model {model!r} is not known; choose {', '.join(MODELS)}")
        if baseline not in BASELINES:
            raise ScenarioError(f"--baseline {baseline!r} is not known; choose {', '.join(BASELINES)}")
        try:
            lear = Lear(tuple(int(w) for w in windows.split(",")), n_jobs=jobs)
        except ValueError:
            raise ScenarioError(f"--windows {windows!r} must be whole days, e.g. 56,84,1092,1456") from None
        first, last = parse_date(test_start, "--test-start"), parse_date(test_end, "--test-end")
        if last < first:
            raise ScenarioError(f"--test-end {last} is before --test-start {first}")
        table = read_epftoolbox(data)
        days = np.arange(table.day_index(first), table.day_index(last + dt.timedelta(days=1)))
        need = lear.history_days if model == "lear" else 7
        if len(days) == 0 or days[0] < need:
            raise ScenarioError(
                f"--test-start {first}: the data ({table.dates[0]} to {table.dates[-1]}) need "
                f"{need} days before the first test day, and the period must hold days"
            )
        out.mkdir(parents=True, exist_ok=True)
    except ScenarioError as err:
        raise _fail(str(err), EXIT_BAD_INPUT) from None

    forecasts = np.empty((len(days), table.prices.shape[1]))
    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("days"), TimeElapsedColumn(), console=console,
        ) as progress:  # fmt: skip
            task = progress.add_task(f"{model}", total=len(days))
            for i, d in enumerate(days):
                if model == "lear":
                    forecasts[i] = lear.forecast_day(table.prices, table.exogenous, table.weekday, int(d))
                else:
                    forecasts[i] = table.prices[d - (1 if model == "persistence" else 7)]
                progress.update(task, advance=1, description=f"{model} {table.dates[d]}")
    except SimulationError as err:
        raise _fail(f"forecast failed: {err}", EXIT_RUN_FAILED) from None

    actual = table.prices[days]
    pd.DataFrame(
        {
            "timestamp_local": [
                f"{table.dates[d]}T{slot:02d}" for d in days for slot in range(table.prices.shape[1])
            ],
            "timestamp_utc": table.timestamp_utc[days].ravel(),
            "price_eur_per_mwh": actual.ravel(),
            "forecast_eur_per_mwh": forecasts.ravel(),
        }
    ).to_csv(out / "forecasts.csv", index=False)
    metrics = accuracy(table.prices, days, forecasts)
    base = naive(table.prices, days, 7 if baseline == "seasonal_naive" else 1)
    statistic, p_value = diebold_mariano(actual, forecasts, base)
    summary = {
        "model": model,
        "windows_days": list(lear.windows_days) if model == "lear" else None,
        "data": str(data),
        "exogenous": table.exogenous_names,
        "test_start": str(table.dates[days[0]]),
        "test_end": str(table.dates[days[-1]]),
        "days": len(days),
        **metrics,
        "diebold_mariano": {
            "baseline": baseline,
            "statistic": None if np.isnan(statistic) else statistic,
            "p_value": None if np.isnan(p_value) else p_value,
            "h1": "the model is more accurate than the baseline",
        },
        "wall_time_s": time.perf_counter() - started,
    }
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    result = Table(title=f"{model}: {summary['test_start']} to {summary['test_end']} ({len(days)} days)")
    for column in ("MAE EUR/MWh", "rMAE weekly", "rMAE daily", "sMAPE %", "RMSE", f"DM p vs {baseline}"):
        result.add_column(column, justify="right")
    result.add_row(
        f"{metrics['mae_eur_per_mwh']:.3f}", f"{metrics['rmae_weekly']:.3f}", f"{metrics['rmae_daily']:.3f}",
        f"{metrics['smape_pct']:.2f}", f"{metrics['rmse_eur_per_mwh']:.3f}",
        "n/a" if np.isnan(p_value) else f"{p_value:.3g}",
    )  # fmt: skip
    console.print(result)
    console.print(f"results in [bold]{out}[/]: forecasts.csv, metrics.json ({summary['wall_time_s']:.1f} s)")


def register(app: typer.Typer) -> None:
    """Add the ``forecast`` command group to ``app``."""
    app.add_typer(forecast_app, name="forecast")
