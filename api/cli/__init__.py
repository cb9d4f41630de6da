"""The ``bess-twin`` command line: the composition root of a backtest.

Exit codes: 0 success, 1 failure during the run, 2 bad scenario or input data
(reported before any work starts).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from api.cli.dashboard import register as register_dashboard_command
from api.cli.execute import _intraday_line, execute
from api.cli.forecast import register as register_forecast_commands
from api.cli.hardware import register as register_hardware_commands
from api.cli.invoices import register as register_invoice_commands
from api.cli.ledger import register as register_ledger_commands
from api.cli.output import EXIT_BAD_INPUT, console, fail
from api.cli.prepare import check_writable, prepare
from api.cli.serve import register as register_serve_command
from api.cli.sweep import register as register_sweep_command
from api.cli.users import register as register_user_commands
from twin.errors import ScenarioError
from twin.forecast.registry import FORECASTERS

app = typer.Typer(
    name="bess-twin",
    help="Digital twin of battery storage sites that trade electricity.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


ScenarioArg = Annotated[
    Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/quickstart.yaml")
]


@app.command()
def validate(
    scenario: ScenarioArg,
    report_week: Annotated[
        str | None, typer.Option(help="Check that this week lies in the backtest period")
    ] = None,
) -> None:
    """Check a scenario and everything a backtest reads from it; exit 2 if anything is wrong."""
    try:
        ready = prepare(scenario, report_week=report_week)
    except ScenarioError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    sc, prices, plan = ready.scenario, ready.prices, ready.plan
    tz = sc.market.timezone
    first_local = prices.index[0].tz_convert(tz).date()
    last_local = (prices.index[-1] + prices.step - pd.Timedelta(seconds=1)).tz_convert(tz).date()
    imbalance = (
        "measured imbalance prices" if sc.market.imbalance.prices is not None
        else f"imbalance at day-ahead +- {sc.market.imbalance.spread_eur_per_mwh:g} EUR/MWh"
    )
    console.print(
        f"[green]ok[/] {scenario}: {len(sc.sites)} site(s), {sc.market.zone} prices "
        f"{first_local} to {last_local} ({tz}) at "
        f"{prices.step / pd.Timedelta(minutes=1):.0f} min; backtest {plan.days[0].date} to "
        f"{plan.days[-1].date} ({len(plan.days)} days), {imbalance}"
        + f"; {_intraday_line(plan)}",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def backtest(
    scenario: ScenarioArg,
    out: Annotated[
        Path | None, typer.Option(help="Run folder; default runs/<scenario>-<time>")
    ] = None,
    runtime: Annotated[str, typer.Option(help="ray (actors) or local (in-process)")] = "ray",
    ray_address: Annotated[
        str | None, typer.Option(help="Address of a running Ray cluster")
    ] = None,
    sites_per_actor: Annotated[
        int | None, typer.Option(min=1, help="Sites per Ray actor; default: one group per CPU of the cluster")
    ] = None,
    plant: Annotated[
        str | None, typer.Option(help="Plant integration of every site: event (default) or fixed (the 60-s reference)")
    ] = None,
    forecaster: Annotated[
        str | None,
        typer.Option(help=f"Override the scenario's forecaster: {', '.join(FORECASTERS)}"),
    ] = None,
    start: Annotated[str | None, typer.Option(help="First delivery day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="Last delivery day, YYYY-MM-DD")] = None,
    report_week: Annotated[
        str | None, typer.Option(help="Week shown in report.html, YYYY-MM-DD; default: the richest")
    ] = None,
    day_ahead_only: Annotated[
        bool,
        typer.Option(
            "--day-ahead-only", help="Switch the scenario's intraday trading off (the baseline)"
        ),
    ] = False,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="Override every site's strategy: arbitrage, peak_shaving, self_consumption, "
            "load_balancing, fcr, stacked or auto"
        ),
    ] = None,
    etrm: Annotated[
        bool,
        typer.Option("--etrm/--no-etrm", help="Run the risk, credit, billing and grid services (default: as the scenario says)"),
    ] = True,
) -> None:
    """Run a backtest: day-ahead arbitrage (and intraday where traded), or the EMS of sites with load, PV, tariffs and FCR."""
    started = time.perf_counter()
    if runtime not in ("ray", "local"):
        raise fail(f"--runtime {runtime!r} is not known; choose ray or local", EXIT_BAD_INPUT)
    if plant not in (None, "event", "fixed"):
        raise fail(f"--plant {plant!r} is not known; choose event or fixed", EXIT_BAD_INPUT)
    try:
        ready = prepare(scenario, forecaster=forecaster, start=start, end=end,
                        report_week=report_week, day_ahead_only=day_ahead_only,
                        strategy=strategy, etrm=etrm, plant=plant)
        out_dir = out or Path("runs") / f"{ready.scenario.name}-{dt.datetime.now():%Y%m%dT%H%M%S}"
        check_writable(out_dir)
    except ScenarioError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    execute(ready, runtime, ray_address, out_dir, started, sites_per_actor=sites_per_actor)


@app.command("scenario-reference")
def scenario_reference(
    out: Annotated[
        Path, typer.Option(help="Markdown file to write")
    ] = Path("docs/scenario-reference.md"),
) -> None:
    """Write the scenario YAML reference, generated from the configuration models."""
    from twin.config import Scenario
    from twin.config.reference import render_reference

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_reference(Scenario), encoding="utf-8")
    console.print(f"wrote {out}")


register_hardware_commands(app)
register_forecast_commands(app)
register_ledger_commands(app)
register_invoice_commands(app)
register_user_commands(app)
register_serve_command(app)
register_dashboard_command(app)
register_sweep_command(app)


def main() -> None:
    """Entry point for ``python -m api.cli``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()

