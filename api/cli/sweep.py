"""``bess-twin sweep``: a scenario's sites times a parameter grid, as one fleet backtest.

Registered on the main app by :mod:`api.cli`. Exit codes as there: 2 for bad
input (before any work starts), 1 for a failure during the run.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli.output import EXIT_BAD_INPUT, console, fail
from api.cli.prepare import check_writable, prepare
from twin.errors import ScenarioError


def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML whose sites are swept")],
    grid: Annotated[
        list[str], typer.Option("--grid", help="key=v1,v2 over battery.*, dynamics.* or strategy.* (repeat for more axes)")
    ],
    out: Annotated[Path | None, typer.Option(help="Run folder; default runs/<scenario>-sweep-<time>")] = None,
    runtime: Annotated[str, typer.Option(help="ray (actors) or local (in-process)")] = "ray",
    ray_address: Annotated[str | None, typer.Option(help="Address of a running Ray cluster")] = None,
    sites_per_actor: Annotated[
        int | None, typer.Option(min=1, help="Sites per Ray actor; default: one group per CPU of the cluster")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First delivery day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="Last delivery day, YYYY-MM-DD")] = None,
    etrm: Annotated[bool, typer.Option("--etrm/--no-etrm", help="Run the ETRM services (default: off for sweeps)")] = False,
) -> None:
    """Run every site of SCENARIO once per parameter set of the grid (their Cartesian product), in one backtest.

    Writes the usual run folder (each swept site is ``<site>.p<k>``) plus
    ``sweep.parquet``: one row per site and parameter set with its values and
    KPIs; ``report.html`` gets a parameter-sweep section.
    """
    from twin.config import load_scenario
    from twin.config.sweep import expand, parse_grid

    started = time.perf_counter()
    if runtime not in ("ray", "local"):
        raise fail(f"--runtime {runtime!r} is not known; choose ray or local", EXIT_BAD_INPUT)
    try:
        axes = parse_grid(grid)
        fleet, rows = expand(load_scenario(scenario), axes)
        fleet = fleet.model_copy(update={"name": f"{fleet.name}-sweep"})
        ready = prepare(scenario, start=start, end=end, etrm=etrm, scenario=fleet)
        out_dir = out or Path("runs") / f"{fleet.name}-{dt.datetime.now():%Y%m%dT%H%M%S}"
        check_writable(out_dir)
    except ScenarioError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    n_sets = len({r["parameter_set"] for r in rows})
    console.print(f"sweep: {len({r['base_site_id'] for r in rows})} site(s) x {n_sets} parameter set(s) = "
                  f"{len(fleet.sites)} runs over {', '.join(a.key for a in axes)}", highlight=False)  # fmt: skip
    from api.cli.execute import execute
    from twin.backtest.sweep import per_parameter_set, sweep_table

    summary = execute(ready, runtime, ray_address, out_dir, started, sites_per_actor=sites_per_actor,
                      extra_meta={"sweep": {"axes": {a.key: list(a.values) for a in axes}, "sites": rows}})  # fmt: skip
    table = sweep_table(summary)
    table.to_parquet(out_dir / "sweep.parquet", index=False)
    console.print(f"wrote {out_dir / 'sweep.parquet'} ({len(table)} rows)")
    sets = per_parameter_set(table).sort_values("profit_eur", ascending=False)
    if len(sets):
        top = sets.iloc[0]
        best = int(top["parameter_set"])
        values = {key: v for key, v in next(r for r in rows if r["parameter_set"] == best).items() if key in summary["sweep"]["axes"]}
        console.print(f"best parameter set: {best} {values}: fleet profit {top['profit_eur']:,.2f} EUR",
                      highlight=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to the main CLI."""
    app.command("sweep")(sweep)
