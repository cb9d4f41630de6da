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
from pandas.tseries.frequencies import to_offset
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.output import EXIT_BAD_INPUT, EXIT_RUN_FAILED, console, fail
from api.cli.prepare import parse_date
from twin.errors import ScenarioError, SimulationError

MODELS = ("lear", "prophet", "lightgbm", "ensemble", "persistence", "seasonal_naive")
BASELINES = ("seasonal_naive", "persistence")

forecast_app = typer.Typer(help="Day-ahead price forecasts: walk-forward evaluation, value in money", no_args_is_help=True)


def _is_epftoolbox(path: Path) -> bool:
    """Whether ``path`` has the epftoolbox layout (a local-time label and ``price_eur_per_mwh``)."""
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (OSError, ValueError):
        return False
    return "timestamp_local" in header and "price_eur_per_mwh" in header


@forecast_app.command("evaluate")
def evaluate(
    data: Annotated[Path, typer.Option(help="Prices: the epftoolbox layout (timestamp_local, price_eur_per_mwh, exogenous columns) or a tidy price file (timestamp_utc, price column)")],
    test_start: Annotated[str, typer.Option(help="First test day, YYYY-MM-DD")],
    test_end: Annotated[str, typer.Option(help="Last test day (inclusive), YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="Folder for forecasts.csv and metrics.json")],
    model: Annotated[str, typer.Option(help=f"Forecaster: {', '.join(MODELS)}")] = "lear",
    history: Annotated[list[Path] | None, typer.Option(help="Earlier tidy price files (calibration history) read before a tidy --data; repeatable")] = None,
    exogenous: Annotated[list[Path] | None, typer.Option(help="Tidy exogenous forecast file (timestamp_utc + columns) for a tidy --data; repeatable")] = None,
    exogenous_columns: Annotated[str | None, typer.Option(help="Exogenous columns, comma-separated; default: every *forecast_day_ahead* column")] = None,
    exogenous_lagged: Annotated[bool, typer.Option(help="Treat D's exogenous forecasts as not public at D's gate: use D-1's")] = False,
    zone: Annotated[str | None, typer.Option(help="Bidding zone picking the price column of a tidy file, e.g. DE-LU")] = None,
    timezone: Annotated[str, typer.Option(help="Local time zone of the delivery days (tidy --data)")] = "Europe/Berlin",
    holidays: Annotated[str, typer.Option(help="Country of the public holidays the calendar features use ('' for none)")] = "DE",
    windows: Annotated[str, typer.Option(help="LEAR calibration windows in days, comma-separated")] = "56,84,1092,1456",
    members: Annotated[str, typer.Option(help="Ensemble members, comma-separated")] = "lear,lightgbm",
    weighting: Annotated[str, typer.Option(help="Ensemble weights: mean or inverse_mae")] = "inverse_mae",
    baseline: Annotated[str, typer.Option(help=f"Diebold-Mariano baseline: {', '.join(BASELINES)}, or another run's forecasts.csv over the same period")] = "seasonal_naive",
    jobs: Annotated[int, typer.Option(min=0, max=64, help="Processes calibrating LEAR's windows in parallel; 0: one per CPU")] = 0,
    cache: Annotated[bool, typer.Option(help="Read and keep vintages in the forecast cache (BESS_TWIN_CACHE)")] = True,
    column: Annotated[str | None, typer.Option(help="Evaluate a measured load or PV column [kW] of a tidy --data file instead of prices; --model: persistence, weekly, week_max, typical_week, lightgbm")] = None,
) -> None:
    """Forecast each test day from what was public at its gate; write forecasts and accuracy.

    Each day D is forecast from prices up to D-1 and exogenous forecasts up to
    D (the epftoolbox convention; --exogenous-lagged: up to D-1), then D's
    prices are revealed; the models are recalibrated on their schedules (LEAR
    and Prophet daily, LightGBM weekly). forecasts.csv holds the two naive
    forecasts too, so every metric can be recomputed from it.
    """
    from pydantic import ValidationError

    from twin.config.forecasting import ExogenousConfig, ForecastingConfig
    from twin.forecast.evaluation import forecast_rows, row_metrics, walk_forward
    from twin.forecast.models import make_daily_model
    from twin.io.forecast_data import read_epftoolbox, read_tidy

    started = time.perf_counter()
    if column is not None:
        _evaluate_profile(data, column, model, test_start, test_end, out, timezone, holidays or None, started)
        return
    try:
        if model not in MODELS:
            raise ScenarioError(f"--model {model!r} is not known; choose {', '.join(MODELS)}")
        if baseline not in BASELINES and not Path(baseline).is_file():
            raise ScenarioError(f"--baseline {baseline!r} is neither {' nor '.join(BASELINES)} nor a forecasts.csv file")
        try:
            window_days = [int(w) for w in windows.split(",")]
        except ValueError:
            raise ScenarioError(f"--windows {windows!r} must be whole days, e.g. 56,84,1092,1456") from None
        try:
            settings = ForecastingConfig(
                lear_windows_days=window_days,
                ensemble_members=[m.strip() for m in members.split(",")],
                ensemble_weighting=weighting,
                jobs=jobs,
            )
        except ValueError as err:
            raise ScenarioError(f"--windows/--members/--weighting: {_first_error(err)}") from None
        first, last = parse_date(test_start, "--test-start"), parse_date(test_end, "--test-end")
        if last < first:
            raise ScenarioError(f"--test-end {last} is before --test-start {first}")
        country = holidays or None
        prices_utc = None
        filled = 0
        if _is_epftoolbox(data):
            if exogenous or history:
                raise ScenarioError("--exogenous and --history are for a tidy --data file; the epftoolbox layout holds its own")
            table = read_epftoolbox(data, country)
        else:
            try:
                sources = [
                    ExogenousConfig(
                        path=p,
                        columns=exogenous_columns.split(",") if exogenous_columns else None,
                        public_before_gate=not exogenous_lagged,
                    )
                    for p in exogenous or []
                ]
            except ValidationError as err:
                raise ScenarioError(f"--exogenous: {_first_error(err)}") from None
            tidy = read_tidy([*(history or []), data], sources, timezone, zone=zone, holidays_country=country)
            table, prices_utc, filled = tidy.table, tidy.prices_utc, tidy.filled_exogenous_slots
        forecaster = make_daily_model(model, settings, use_cache=cache)
        days = np.arange(table.day_index(first), table.day_index(last + dt.timedelta(days=1)))
        need = max(forecaster.history_days, 7)
        if len(days) == 0 or days[0] < need:
            raise ScenarioError(
                f"--test-start {first}: the data ({table.dates[0]} to {table.dates[-1]}) need "
                f"{need} days before the first test day, and the period must hold days"
            )
        baseline_rows = _baseline_rows(baseline, [table.dates[d] for d in days])
        out.mkdir(parents=True, exist_ok=True)
    except ScenarioError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None

    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("days"), TimeElapsedColumn(), console=console,
        ) as progress:  # fmt: skip
            task = progress.add_task(f"{model}", total=len(days))

            def advance(d: int) -> None:
                progress.update(task, advance=1, description=f"{model} {table.dates[d]}")

            forecasts = walk_forward(table, forecaster, days, advance)
    except SimulationError as err:
        raise fail(f"forecast failed: {err}", EXIT_RUN_FAILED) from None

    rows = forecast_rows(table, days, forecasts, prices_utc, timezone)
    rows.drop(columns="day").to_csv(out / "forecasts.csv", index=False)
    baseline_forecast = None
    if baseline_rows is not None:
        merged = rows[["timestamp_local"]].merge(baseline_rows, on="timestamp_local", how="left")
        baseline_forecast = merged["forecast_eur_per_mwh"].to_numpy(dtype=float)
    metrics = row_metrics(rows, baseline, baseline_forecast)
    summary = {
        "model": model,
        "settings": {
            "lear_windows_days": settings.lear_windows_days if model in ("lear", "ensemble") else None,
            "ensemble_members": settings.ensemble_members if model == "ensemble" else None,
            "ensemble_weighting": settings.ensemble_weighting if model == "ensemble" else None,
        },
        "data": str(data),
        "exogenous": table.exogenous_names,
        "exogenous_public_before_gate": not exogenous_lagged,
        "exogenous_filled_values": filled,
        "test_start": str(table.dates[days[0]]),
        "test_end": str(table.dates[days[-1]]),
        "days": len(days),
        **metrics,
        "cache": _cache_counts(forecaster),
        "wall_time_s": time.perf_counter() - started,
    }
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    dm = metrics["diebold_mariano"]
    p_value = dm["p_value"] if isinstance(dm, dict) else None
    result = Table(title=f"{model}: {summary['test_start']} to {summary['test_end']} ({len(days)} days)")
    for column in ("MAE EUR/MWh", "rMAE weekly", "rMAE daily", "sMAPE %", "RMSE", f"DM p vs {baseline}"):
        result.add_column(column, justify="right")
    result.add_row(
        f"{metrics['mae_eur_per_mwh']:.3f}", f"{metrics['rmae_weekly']:.3f}", f"{metrics['rmae_daily']:.3f}",
        f"{metrics['smape_pct']:.2f}", f"{metrics['rmse_eur_per_mwh']:.3f}",
        "n/a" if p_value is None else f"{p_value:.3g}",
    )  # fmt: skip
    console.print(result)
    console.print(f"results in [bold]{out}[/]: forecasts.csv, metrics.json ({summary['wall_time_s']:.1f} s)")


def _evaluate_profile(
    data: Path, column: str, model: str, test_start: str, test_end: str, out: Path, tz: str,
    country: str | None, started: float,
) -> None:  # fmt: skip
    """``forecast evaluate --column``: a load or PV forecaster, walked forward at the day-ahead gate."""
    from twin.forecast.profile import PROFILE_MODELS
    from twin.forecast.profile_evaluation import profile_metrics, walk_forward_profile
    from twin.io.profiles import read_measured

    try:
        if model not in PROFILE_MODELS:
            raise ScenarioError(f"--model {model!r} is not a load/PV forecaster; choose {', '.join(PROFILE_MODELS)}")
        first, last = parse_date(test_start, "--test-start"), parse_date(test_end, "--test-end")
        if last < first:
            raise ScenarioError(f"--test-end {last} is before --test-start {first}")
        series = read_measured(data, column)
        step = pd.Timedelta(series.index.to_series().diff().dropna().mode().iloc[0])
        series = series.asfreq(to_offset(step))  # gaps stay NaN on a regular grid: not scored, not trained on
        days = [d.date() for d in pd.date_range(first, last, freq="D")]
        local_first = pd.Timestamp(series.index[0]).tz_convert(tz).date()
        if (first - local_first).days < 35:
            raise ScenarioError(f"--test-start {first}: the series starts on {local_first}; it needs 35 days before the first test day")
        out.mkdir(parents=True, exist_ok=True)
    except ScenarioError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    with Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("days"), TimeElapsedColumn(), console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task(model, total=len(days))
        rows = walk_forward_profile(series, model, days, tz, country, lambda d: progress.update(task, advance=1, description=f"{model} {d}"))
    rows.to_csv(out / "forecasts.csv", index=False)
    metrics = profile_metrics(rows)
    summary = {"model": model, "data": str(data), "column": column, "test_start": str(first), "test_end": str(last),
               "days": len(days), "gate": "D-1 12:00 local", **metrics, "wall_time_s": time.perf_counter() - started}  # fmt: skip
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    table = Table(title=f"{column}, {model}: {first} to {last}")
    for name in ("MAE kW", "RMSE kW", "persistence MAE kW", "skill vs persistence"):
        table.add_column(name, justify="right")
    table.add_row(_num(metrics["mae_kw"], 3), _num(metrics["rmse_kw"], 3), _num(metrics["persistence_mae_kw"], 3),
                  _num(metrics["skill_vs_persistence"], 3))  # fmt: skip
    console.print(table)
    console.print(f"results in [bold]{out}[/]: forecasts.csv, metrics.json")


def _baseline_rows(baseline: str, dates: list[dt.date]) -> pd.DataFrame | None:
    """Another run's ``forecasts.csv`` as the DM baseline (None for a named naive baseline).

    Raises
    ------
    ScenarioError
        If it lacks the columns or does not cover every test day.
    """
    if baseline in BASELINES:
        return None
    other = pd.read_csv(baseline)
    if not {"timestamp_local", "forecast_eur_per_mwh"} <= set(other.columns):
        raise ScenarioError(f"--baseline {baseline}: needs timestamp_local and forecast_eur_per_mwh (a forecasts.csv)")
    covered = set(other["timestamp_local"].str[:10])
    missing = [str(d) for d in dates if str(d) not in covered]
    if missing:
        raise ScenarioError(
            f"--baseline {baseline}: it does not cover every test interval (first missing day {missing[0]}); "
            "evaluate it on the same period"
        )
    return other[["timestamp_local", "forecast_eur_per_mwh"]]  # the local label is unique in both layouts


def _first_error(err: ValueError) -> str:
    """The first message of a pydantic ValidationError (or the error's text)."""
    errors = getattr(err, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(err)


def _cache_counts(model: object) -> dict[str, int]:
    """Vintage cache hits and misses of ``model`` and its ensemble members."""
    from twin.forecast.daily import Ensemble
    from twin.forecast.models import Cached

    parts = model.members if isinstance(model, Ensemble) else [model]
    cached = [m for m in parts if isinstance(m, Cached)]
    return {"hits": sum(m.hits for m in cached), "misses": sum(m.misses for m in cached)}


@forecast_app.command("value")
def value(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    forecasters: Annotated[str, typer.Option(help="Day-ahead forecasters to compare, comma-separated")] = "persistence,seasonal_naive,lear,perfect",
    out: Annotated[Path | None, typer.Option(help="Folder for value.csv, value.json and one run folder per forecaster")] = None,
    start: Annotated[str | None, typer.Option(help="First delivery day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="Last delivery day, YYYY-MM-DD")] = None,
    runtime: Annotated[str, typer.Option(help="ray (actors) or local (in-process)")] = "local",
) -> None:
    """What each forecast is worth: the same day-ahead-only backtest per forecaster, accuracy next to money.

    Every forecaster plans the scenario's sites on the same days (intraday
    switched off, so the day-ahead forecast is the only difference); the table
    gives its accuracy on the delivery days, the fleet's revenue, capture ratio
    against perfect foresight and EUR per MWh of storage capacity per year.
    """
    from api.cli.execute import execute
    from api.cli.prepare import check_writable, prepare
    from twin.forecast.registry import FORECASTERS

    names = [n.strip() for n in forecasters.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORECASTERS]
    if not names or unknown:
        raise fail(f"--forecasters {forecasters!r}: {', '.join(unknown) or 'none given'} not known; choose from {', '.join(FORECASTERS)}", EXIT_BAD_INPUT)
    if runtime not in ("ray", "local"):
        raise fail(f"--runtime {runtime!r} is not known; choose ray or local", EXIT_BAD_INPUT)
    try:
        ready = {n: prepare(scenario, forecaster=n, start=start, end=end, day_ahead_only=True) for n in names}
        first = next(iter(ready.values()))
        folder = out or Path("runs") / f"{first.scenario.name}-forecast-value-{dt.datetime.now():%Y%m%dT%H%M%S}"
        for n in names:
            check_writable(folder / n)
    except ScenarioError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    periods = {(r.plan.days[0].date, r.plan.days[-1].date) for r in ready.values()}
    if len(periods) > 1:  # the forecasters need different histories: all start on the latest first day
        common = max(p[0] for p in periods).isoformat()
        try:
            ready = {n: prepare(scenario, forecaster=n, start=common, end=end, day_ahead_only=True) for n in names}
        except ScenarioError as err:
            raise fail(str(err), EXIT_BAD_INPUT) from None
        periods = {(r.plan.days[0].date, r.plan.days[-1].date) for r in ready.values()}
        console.print(f"every forecaster starts on {common}, the first day all of them have the history for")
    rows = []
    for n in names:
        console.print(f"[bold]{n}[/]")
        summary = execute(ready[n], runtime, None, folder / n, time.perf_counter(), quiet=True)
        rows.append(_value_row(n, summary, ready[n]))
    frame = pd.DataFrame(rows)
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "value.csv", index=False)
    (folder / "value.json").write_text(json.dumps(rows, indent=2, default=str) + "\n", encoding="utf-8")
    table = Table(title=f"value of the day-ahead forecast: {first.scenario.name}, {min(periods)[0]} to {min(periods)[1]}")
    for column in ("forecaster", "MAE EUR/MWh", "rMAE weekly", "rMAE daily", "DA revenue EUR", "capture DA", "EUR/MWh cap./yr"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row["forecaster"]), _num(row["mae_eur_per_mwh"], 2), _num(row["rmae_weekly"], 3), _num(row["rmae_daily"], 3),
            _num(row["day_ahead_revenue_eur"], 0), _num(row["capture_ratio_day_ahead"], 3),
            _num(row["eur_per_mwh_capacity_per_year"], 0),
        )  # fmt: skip
    console.print(table)
    console.print(f"results in [bold]{folder}[/]: value.csv, value.json, one run folder per forecaster")


def _num(value: object, digits: int) -> str:
    return "n/a" if value is None else f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def _value_row(name: str, summary: dict, ready: object) -> dict[str, object]:
    """One row of the forecast value table from a run's summary."""
    fleet = summary["fleet"]
    accuracy = summary.get("forecast_accuracy", {}).get(name, {})
    capacity_mwh = sum(s.battery.energy_kwh for s in ready.scenario.sites) / 1000.0  # type: ignore[attr-defined]
    days = len(ready.plan.days)  # type: ignore[attr-defined]
    revenue = fleet.get("day_ahead_revenue_eur", fleet.get("revenue_eur"))
    return {
        "forecaster": name,
        "period_start": summary["period"]["start"],
        "period_end": summary["period"]["end"],
        "days": days,
        "mae_eur_per_mwh": accuracy.get("mae_eur_per_mwh"),
        "rmae_weekly": accuracy.get("rmae_weekly"),
        "rmae_daily": accuracy.get("rmae_daily"),
        "day_ahead_revenue_eur": revenue,
        "perfect_foresight_revenue_eur": fleet.get("perfect_foresight_revenue_eur"),
        "capture_ratio_day_ahead": fleet.get("capture_ratio_day_ahead"),
        "eur_per_mwh_capacity_per_year": revenue / capacity_mwh * 365.0 / days if revenue is not None else None,
    }


def register(app: typer.Typer) -> None:
    """Add the ``forecast`` command group to ``app``."""
    app.add_typer(forecast_app, name="forecast")
