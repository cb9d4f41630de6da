"""Run a prepared backtest, write its run folder and report, and print its summary.

Shared by ``bess-twin backtest`` and ``bess-twin forecast value``.
"""

from __future__ import annotations

import os
import platform
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import twin
from api.cli.output import EXIT_RUN_FAILED, console, fail
from api.cli.prepare import Prepared
from twin.errors import SimulationError

SPILL_FROM_SITES = 16
"""Fleets of this many sites keep their delivered days on disk until assembly (:class:`SiteDayStore`)."""

if TYPE_CHECKING:
    from actors.backtest.driver import BacktestPlan



def _intraday_facts(plan: Any) -> dict[str, Any]:
    """What the run trades intraday, and on which basis (the ``intraday`` block of the summary)."""
    intraday = plan.scenario.market.intraday
    days = plan.intraday_days()
    if not intraday.enabled:
        return {
            "enabled": False,
            "basis": "off",
            "note": "day-ahead only: no intraday trading in this run",
        }
    market = (
        "intraday auction (D-1 15:00, price-taker)"
        if intraday.is_auction
        else f"continuous trading around {intraday.reference if intraday.mark == 'data' else 'the day-ahead price'}, "
        f"rounds every {intraday.round_interval_min:g} min"
    )
    facts: dict[str, Any] = {
        "enabled": True,
        "basis": intraday.mark,
        "market": market,
        "reference": intraday.reference if intraday.mark == "data" else "day_ahead",
        "days_traded": int(sum(days)),
        "days": len(days),
    }
    if intraday.mark == "day_ahead":
        facts["label"] = (
            "optimistic bound: intraday traded against the day-ahead price, which the "
            "site knew when it traded; not a revenue"
        )
    elif not any(days):
        facts["note"] = "no intraday prices for this period: day-ahead only"
    return facts


def _intraday_line(plan: Any) -> str:
    facts = _intraday_facts(plan)
    if not facts["enabled"]:
        return "day-ahead only: no intraday trading in this run"
    line = f"intraday: {facts['market']} on {facts['days_traded']} of {facts['days']} days"
    if "label" in facts:
        line += " [optimistic bound]"
    if "note" in facts:
        line += f" ({facts['note']})"
    return line


def execute(
    ready: Prepared, runtime: str, ray_address: str | None, out_dir: Path, started: float, quiet: bool = False,
    sites_per_actor: int | None = None, extra_meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run a prepared backtest, write its run folder and report; return ``summary.json``'s content.

    Raises
    ------
    typer.Exit
        Code 1 if the simulation fails.
    """
    # a large fleet keeps its delivered days on disk until they are assembled, one site at a time
    if len(ready.scenario.sites) < SPILL_FROM_SITES:
        return _execute(ready, runtime, ray_address, out_dir, started, quiet, sites_per_actor, extra_meta, None)
    with tempfile.TemporaryDirectory(prefix="bess-twin-days-") as spill:
        return _execute(ready, runtime, ray_address, out_dir, started, quiet, sites_per_actor, extra_meta, Path(spill))


def _execute(
    ready: Prepared, runtime: str, ray_address: str | None, out_dir: Path, started: float, quiet: bool,
    sites_per_actor: int | None, extra_meta: dict[str, Any] | None, spill_dir: Path | None,
) -> dict[str, Any]:
    from actors.backtest.driver import run_backtest
    from actors.runtime import make_runtime

    sc, prices, plan = ready.scenario, ready.prices, ready.plan
    resolution_min = prices.step / pd.Timedelta(minutes=1)
    console.print(
        f"[bold]{sc.name}[/]: {len(sc.sites)} site(s), {sc.market.zone} day-ahead at "
        f"{resolution_min:.0f} min, {plan.days[0].date} to {plan.days[-1].date} "
        f"({len(plan.days)} days), forecaster [cyan]{plan.forecaster}[/], runtime [cyan]{runtime}[/]"
    )
    console.print(_intraday_line(plan), highlight=False, soft_wrap=True)
    try:
        with console.status(f"starting {runtime} runtime ..."):
            rt = make_runtime(runtime, ray_address)  # type: ignore[arg-type]
        try:
            with Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("days"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as progress:
                task = progress.add_task("delivering", total=len(plan.days))

                def on_day(day: object) -> None:
                    progress.update(task, advance=1, description=f"delivered {day.date}")  # type: ignore[attr-defined]

                run = run_backtest(plan, rt, on_day=on_day, sites_per_actor=sites_per_actor, spill_dir=spill_dir)
        except BaseException:
            rt.close()
            raise
    except SimulationError as err:
        raise fail(f"backtest failed: {err}", EXIT_RUN_FAILED) from None
    # every result is in this process now: Ray stops (about 1.5 s of waiting) while the results are written
    closing = threading.Thread(target=rt.close, name="runtime-close")
    closing.start()
    try:
        return _write(ready, run, runtime, ray_address, out_dir, started, quiet, extra_meta, spill_dir)
    finally:
        closing.join()


def _write(
    ready: Prepared, run: Any, runtime: str, ray_address: str | None, out_dir: Path, started: float, quiet: bool,
    extra_meta: dict[str, Any] | None, spill_dir: Path | None,
) -> dict[str, Any]:
    """Assemble a finished run, write its folder and report; return ``summary.json``'s content."""
    from actors.backtest.driver import period_index, period_prices
    from twin.backtest.report import write_report
    from twin.backtest.results import assemble, write_results

    sc, prices, plan, week = ready.scenario, ready.prices, ready.plan, ready.report_week
    resolution_min = prices.step / pd.Timedelta(minutes=1)

    meta = {
        **(extra_meta or {}),
        "runtime": runtime,
        "ray_address": ray_address,
        "sites_per_actor": run.sites_per_actor,
        "nodes": len(set(run.site_nodes.values())),
        "plant": sorted({s.dynamics.integration for s in sc.sites}),
        "forecaster": plan.forecaster,
        "wall_time_s": time.perf_counter() - started,
        "simulation_time_s": run.wall_time_s,
        "market": {
            "zone": sc.market.zone,
            "source": prices.source,
            "resolution_min": resolution_min,
            "filled_steps": prices.filled_steps,
            "gate_closure_local": sc.market.gate_closure_local.isoformat(timespec="minutes"),
        },
        "strategy": sc.strategy.model_dump(mode="json"),
        "intraday": _intraday_facts(plan),
        "forecast_accuracy": _forecast_accuracy(plan, run),
        "software": {"bess_twin": twin.__version__, "python": platform.python_version()},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    streamed = None
    if spill_dir is not None:  # a large fleet: the per-step table goes straight to sites.parquet
        out_dir.mkdir(parents=True, exist_ok=True)
        streamed = out_dir / "sites.parquet"
    with console.status("assembling the results ..."):
        result = assemble(
            sc,
            period_index(plan),
            period_prices(plan),
            prices.dt_h,
            run.site_days,
            run.perfect_foresight,
            meta,
            run.sessions,
            run.multimarket_bound,
            _fcr_prices(plan),
            sites_path=streamed,
        )
    if run.etrm is not None:
        from twin.etrm.run_files import write_etrm

        with console.status("writing risk, credit, invoices, grid events and the ledger ..."):
            result.summary["etrm"] = write_etrm(run.etrm, out_dir, result.all_sites(), result.trades, sc.market.timezone, sc.etrm.billing.pdf)
    write_results(result, out_dir)
    if run.forecast_vintages is not None:
        from twin.backtest.forecast_vintages import write_vintages

        write_vintages(run.forecast_vintages, prices.price_eur_per_mwh, out_dir)
    write_report(result, out_dir / "report.html", pd.Timestamp(week) if week else None)
    if not quiet:
        _print_summary(result.summary, out_dir)
    return result.summary


def _forecast_accuracy(plan: BacktestPlan, run: object) -> dict:
    """Accuracy of each day-ahead forecaster on the delivery days (from the run's vintages)."""
    from twin.backtest.forecast_vintages import delivery_day_accuracy

    vintages = getattr(run, "forecast_vintages", None)
    if vintages is None or vintages.empty:
        return {}
    return delivery_day_accuracy(
        vintages,
        plan.prices.price_eur_per_mwh,
        [d.start_utc for d in plan.days],
        [d.start_utc + d.n_steps * plan.prices.step for d in plan.days],
    )


def _fcr_prices(plan: BacktestPlan) -> np.ndarray | None:
    """Realised FCR prices of the backtest period, when the scenario has FCR."""
    from actors.backtest.driver import period_slice

    for series in plan.site_series.values():
        if series.has_fcr:
            return series.fcr_eur_per_mw_h[period_slice(plan)]
    return None


def _ratio_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _print_summary(summary: dict, out_dir: Path) -> None:
    table = Table(
        title=f"{summary['scenario']}: {summary['period']['start']} to {summary['period']['end']}"
    )
    for column in (
        "site",
        "total\nEUR",
        "DA\nEUR",
        "ID\nEUR",
        "imb.\nEUR",
        "bound\nEUR",
        "capt.",
        "capt.\nDA",
        "EFC",
    ):
        table.add_column(column, justify="right")
    market_sites = [s for s in summary["sites"] if s.get("kind") != "behind_the_meter"]
    for site in market_sites:
        table.add_row(
            site["site_id"],
            f"{site['revenue_eur']:,.0f}",
            f"{site['day_ahead_revenue_eur']:,.0f}",
            f"{site['intraday_net_eur']:,.0f}",
            f"{site['imbalance_eur']:,.0f}",
            f"{site['perfect_foresight_revenue_eur']:,.0f}",
            _ratio_text(site["capture_ratio"]),
            _ratio_text(site["capture_ratio_day_ahead"]),
            f"{site['full_cycles']:.1f}",
        )
    fleet = summary["fleet"]
    table.add_row(
        "[bold]fleet",
        f"[bold]{fleet['revenue_eur']:,.0f}",
        f"[bold]{fleet['day_ahead_revenue_eur']:,.0f}",
        f"[bold]{fleet['intraday_net_eur']:,.0f}",
        f"[bold]{fleet['imbalance_eur']:,.0f}",
        f"[bold]{fleet['perfect_foresight_revenue_eur']:,.0f}",
        "[bold]" + _ratio_text(fleet["capture_ratio"]),
        "[bold]" + _ratio_text(fleet["capture_ratio_day_ahead"]),
        "",
    )
    if market_sites:
        console.print(table)
    _print_ems_table(summary)
    intraday = summary.get("intraday", {})
    if intraday.get("enabled"):
        bound = " [bold yellow]optimistic bound, not a revenue[/]" if "label" in intraday else ""
        console.print(
            f"intraday: {intraday['market']}, {intraday['days_traded']} of {intraday['days']} "
            f"days, {intraday['trades']:,} trades, {intraday['traded_mwh']:,.1f} MWh "
            f"(intraday column: trade cash minus fees){bound}",
            highlight=False,
        )
        console.print(
            "DA: day-ahead, ID: intraday cash minus fees, imb.: imbalance; bound: "
            "day-ahead + intraday perfect foresight; capt.: total / bound; capt. DA: "
            "day-ahead revenue / day-ahead perfect foresight",
            highlight=False,
        )
    else:
        console.print(
            "day-ahead only: no intraday trading in this run. DA: day-ahead, imb.: "
            "imbalance; bound: perfect foresight; capt.: total / bound",
            highlight=False,
        )
    console.print(
        f"wall time {summary['wall_time_s']:.1f} s ({summary['runtime']} runtime, "
        f"simulation {summary['simulation_time_s']:.1f} s)"
    )
    console.print(
        f"results in [bold]{out_dir}[/]: summary.json, sites.parquet, daily.parquet, "
        f"trades.parquet, forecasts.parquet, report.html"
    )
    etrm = summary.get("etrm")
    if etrm:
        risk = etrm.get("risk", {})
        fleet = next((t for t in risk.get("var_backtest", [])
                      if t["participant"] == "fleet" and t["method"] == "historical" and abs(t["confidence"] - 0.99) < 1e-9), None)  # fmt: skip
        var_text = (f"fleet VaR 99 % exceeded {fleet['exceedances']}x in {fleet['observations']} days "
                    f"(Kupiec p {fleet['p_value']:.3f})") if fleet else "VaR: history too short"  # fmt: skip
        console.print(
            f"ETRM: {var_text}; {etrm.get('billing', {}).get('invoices', 0)} invoices; "
            f"{sum(etrm.get('grid', {}).get('events', {}).values())} grid events; {etrm['ledger']['entries']} ledger "
            "entries (risk.parquet, credit.parquet, positions.parquet, grid_events.parquet, invoices/, ledger.sqlite)",
            highlight=False,
        )


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _print_ems_table(summary: dict) -> None:
    """The EMS table: what the battery earns each site (bill savings, FCR), against the bound."""
    sites = [s for s in summary["sites"] if "kind" in s]
    if not sites:
        return
    btm = any(s["kind"] == "behind_the_meter" for s in sites)
    fcr = any(s["fcr_revenue_eur"] for s in sites)
    peaks = any(s["demand_charge_eur"] for s in sites)
    pv = any(s["pv_kwh"] for s in sites)
    columns: list[tuple[str, Any]] = [
        ("site", lambda s: s["site_id"]),
        ("strategy", _strategy_text),
        ("profit\nEUR", lambda s: _money(s["profit_eur"])),
    ]
    if btm:
        columns += [
            ("savings\nEUR", lambda s: _money(s["savings_eur"])),
            ("bill\nEUR", lambda s: _money(s["bill_eur"])),
            ("w/o bat.\nEUR", lambda s: _money(s["bill_without_battery_eur"])),
        ]
    if fcr:
        columns.append(("FCR\nEUR", lambda s: _money(s["fcr_revenue_eur"])))
    if peaks:
        columns.append(("peak\n-%", _peak_cut_text))
    if pv:
        columns += [
            ("SCR", lambda s: _ratio_text(s["self_consumption_ratio"])),
            ("SS", lambda s: _ratio_text(s["self_sufficiency"])),
        ]
    columns += [
        ("bound\nEUR", lambda s: _money(s.get("perfect_foresight_profit_eur"))),
        ("capt.", lambda s: _ratio_text(s["capture_ratio"])),
        ("EFC", lambda s: f"{s['full_cycles']:.0f}" + (f"/{s['cycles_budget']:.0f}" if s.get("cycles_budget") else "")),
    ]
    table = Table(title="EMS: what the battery earns each site")
    for name, _ in columns:
        table.add_column(name, justify="right")
    for site in sites:
        table.add_row(*(fmt(site) for _, fmt in columns))
    console.print(table)
    console.print(
        "profit: savings + market and FCR revenue - wear; savings: bill without the battery - "
        "bill (energy + demand charges); peak -%: mean monthly peak cut; SCR: self-consumption "
        "ratio; SS: self-sufficiency; bound: the stacked LP on realised data; EFC (/ budget)",
        highlight=False,
    )


def _strategy_text(site: dict) -> str:
    days = site.get("strategy_days", {})
    if site["strategy"] != "auto":
        return str(site["strategy"])
    return "auto: " + ", ".join(f"{k} {v}" for k, v in days.items())


def _peak_cut_text(site: dict) -> str:
    cuts = [p["reduction_pct"] for p in site["peaks"] if p["reduction_pct"] is not None]
    return f"{sum(cuts) / len(cuts):.1f}" if cuts and site["demand_charge_eur"] else ""

