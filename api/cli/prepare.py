"""Everything a backtest reads, loaded and checked before any work starts (``validate`` runs the same)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twin.config.strategy import STRATEGY_NAMES
from twin.errors import ScenarioError
from twin.forecast.registry import FORECASTERS

if TYPE_CHECKING:
    from actors.backtest.driver import BacktestPlan
    from twin.config import Scenario
    from twin.grid.frequency import FrequencyReplay
    from twin.io.prices import PriceSeries


@dataclass(frozen=True)
class Prepared:
    """Everything a backtest reads, loaded and checked before any work starts."""

    scenario: Scenario
    prices: PriceSeries
    plan: BacktestPlan
    report_week: dt.date | None


def prepare(
    scenario_path: Path,
    *,
    forecaster: str | None = None,
    start: str | None = None,
    end: str | None = None,
    report_week: str | None = None,
    day_ahead_only: bool = False,
    strategy: str | None = None,
    etrm: bool = True,
    plant: str | None = None,
    scenario: Scenario | None = None,
) -> Prepared:
    """Load the scenario and every file a backtest reads; check the period and the report week.

    The one path ``validate`` and ``backtest`` share, so ``validate`` checks
    exactly what a backtest will read.

    ``day_ahead_only`` switches the scenario's intraday trading off (the baseline
    that shows what intraday adds). ``strategy`` sets every site's strategy kind
    (to compare strategies on one scenario). ``etrm=False`` switches the risk,
    credit, billing and grid services off. ``plant`` sets every site's plant
    integration (``event`` or ``fixed``, to compare them on one scenario).
    ``scenario`` is used instead of loading ``scenario_path`` (a sweep's fleet;
    the path then only names it in messages).

    Raises
    ------
    ScenarioError
        Naming the key or option, the value and the fix.
    """
    from actors.backtest.driver import period_slice, plan_backtest
    from twin.config import load_scenario
    from twin.io.market_prices import load_imbalance_prices, load_intraday_prices
    from twin.io.prices import load_prices, on_grid

    if forecaster is not None and forecaster not in FORECASTERS:
        raise ScenarioError(
            f"--forecaster {forecaster!r} is not known; choose {', '.join(FORECASTERS)}"
        )
    if strategy is not None and strategy not in (*STRATEGY_NAMES, "auto"):
        raise ScenarioError(
            f"--strategy {strategy!r} is not known; choose {', '.join((*STRATEGY_NAMES, 'auto'))}"
        )
    sc = scenario if scenario is not None else load_scenario(scenario_path)
    if strategy is not None:
        sc = _with_strategy(sc, strategy)
    if not etrm:
        sc = sc.model_copy(update={"etrm": sc.etrm.model_copy(update={"enabled": False})})
    if plant is not None:
        sc = sc.model_copy(update={"sites": [
            s.model_copy(update={"dynamics": s.dynamics.model_copy(update={"integration": plant})}) for s in sc.sites
        ]})
    if day_ahead_only:
        market = sc.market.model_copy(
            update={"intraday": sc.market.intraday.model_copy(update={"enabled": False})}
        )
        sc = sc.model_copy(update={"market": market})
    first, last = _date(start, "--start"), _date(end, "--end")
    if first or last:
        period = {"start": first or sc.backtest.start, "end": last or sc.backtest.end}
        if period["start"] and period["end"] and period["end"] < period["start"]:
            raise ScenarioError(
                f"the backtest period starts on {period['start']} after it ends on {period['end']}; "
                "check --start/--end (and backtest.start/end)"
            )
        sc = sc.model_copy(update={"backtest": sc.backtest.model_copy(update=period)})
    day_ahead = load_prices(sc.market, strict=sc.backtest.strict)
    intraday = load_intraday_prices(sc.market, strict=sc.backtest.strict)
    # One grid for the backtest: the finer of the two markets' products (15-min
    # intraday products against an hourly auction: each hour is a block of four).
    from twin.io.site_data import native_step, needs_ems, scenario_fcr, site_series

    ems_sites = [site for site in sc.sites if needs_ems(sc, site)]
    steps = [day_ahead.step] + ([intraday.step] if intraday is not None else [])
    steps += [s for s in (native_step(site) for site in ems_sites) if s is not None]
    step = min(steps)
    if (day_ahead.step / step) % 1:
        raise ScenarioError(
            f"a site's load or PV step ({step}) does not divide the day-ahead MTU of "
            f"{day_ahead.step}; use series on a grid that does"
        )
    if intraday is not None and (day_ahead.step / step) % 1:
        raise ScenarioError(
            f"market.intraday.prices: intraday products of {intraday.step} do not divide the "
            f"day-ahead MTU of {day_ahead.step}; use intraday data on a finer regular grid"
        )
    prices = on_grid(day_ahead, step)
    from twin.io.forecast_data import read_exogenous
    from twin.io.history_prices import read_history_files

    history = read_history_files(sc.market, prices.index[0], step)
    plan = plan_backtest(sc, prices, forecaster, price_history=history)
    imbalance = load_imbalance_prices(
        sc.market, prices.index, strict=sc.backtest.strict, period=period_slice(plan)
    )
    intraday_on_grid = None
    if intraday is not None:
        values = intraday.price_eur_per_mwh
        if intraday.step > step:
            values = on_grid(intraday, step).price_eur_per_mwh
        intraday_on_grid = values.reindex(prices.index).to_numpy(dtype=float)
    fcr = scenario_fcr(sc, prices.index)
    da = prices.price_eur_per_mwh.to_numpy(dtype=float)
    series = {site.site_id: site_series(sc, site, prices.index, da, fcr) for site in ems_sites}
    plan = dataclasses.replace(
        plan,
        site_series=series,
        imbalance_eur_per_mwh=imbalance,
        intraday_eur_per_mwh=intraday_on_grid,
        block_steps=int(day_ahead.step / step),
        exogenous=read_exogenous(list(sc.forecasting.exogenous)) if _fitted(sc, plan) else None,
        frequency=_frequency(sc),
    )
    week = _date(report_week, "--report-week")
    if week is not None and not plan.days[0].date <= week <= plan.days[-1].date:
        raise ScenarioError(
            f"--report-week {week} is outside the backtest period {plan.days[0].date} to "
            f"{plan.days[-1].date}; pick a day inside it"
        )
    return Prepared(sc, prices, plan, week)


def _fitted(sc: Scenario, plan: BacktestPlan) -> bool:
    """Whether any site plans with a fitted forecaster (which reads the exogenous files)."""
    from twin.config.forecasting import PRICE_MODELS

    return any(plan.forecaster_of(s.site_id) in PRICE_MODELS for s in sc.sites) or plan.forecaster in PRICE_MODELS


def _with_strategy(sc: Scenario, kind: str) -> Scenario:
    """``sc`` with every site's strategy kind set to ``kind``."""
    from pydantic import ValidationError

    from twin.config import StrategyConfig

    def retyped(strategy: StrategyConfig) -> StrategyConfig:
        data = {**strategy.model_dump(), "kind": kind}
        try:
            return StrategyConfig.model_validate(data)
        except ValidationError as err:
            msg = "; ".join(e["msg"].removeprefix("Value error, ") for e in err.errors())
            raise ScenarioError(f"--strategy {kind}: {msg}") from None

    sites = [
        site.model_copy(update={"strategy": retyped(site.strategy)}) if site.strategy else site
        for site in sc.sites
    ]
    return sc.model_copy(update={"strategy": retyped(sc.strategy), "sites": sites})


def check_writable(out_dir: Path) -> None:
    """Make ``out_dir`` and write a probe file into it, before the run starts."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-check-"):
            pass
    except OSError as err:
        raise ScenarioError(
            f"--out {out_dir}: cannot write there ({err.strerror or err}); choose a writable folder"
        ) from None


def _frequency(sc: Scenario) -> FrequencyReplay | None:
    """The frequency samples the run replays (grid service and FCR response), or None."""
    f = sc.etrm.grid.frequency
    if not (sc.etrm.enabled and sc.etrm.grid.enabled and f is not None and f.path is not None):
        return None
    from twin.io.frequency import read_replay

    return read_replay(f.path)


def _date(text: str | None, option: str) -> dt.date | None:
    return None if text is None else parse_date(text, option)


def parse_date(text: str, option: str) -> dt.date:
    """``text`` as a date, or a :class:`ScenarioError` naming ``option`` and the format."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ScenarioError(f"{option} {text!r} is not a date; use YYYY-MM-DD") from None
