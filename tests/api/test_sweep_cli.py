"""``bess-twin sweep``: sites x parameter sets in one backtest, each equal to its own backtest."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from actors.backtest.driver import plan_backtest, run_backtest
from actors.runtime import LocalRuntime
from api.cli import app
from twin.config import load_scenario
from twin.config.sweep import expand, parse_grid
from twin.errors import ConfigError
from twin.io.prices import load_prices

runner = CliRunner()
QUICKSTART = "scenarios/quickstart.yaml"
GRID = ["--grid", "battery.energy_kwh=200,400", "--grid", "strategy.terminal_soc.policy=free,target"]


def _period(scenario) -> tuple[str, str]:
    """Ten delivery days a fortnight into the scenario's data (whatever year it holds)."""
    index = load_prices(scenario.market).index.tz_convert(scenario.market.timezone)
    start = (index[0] + pd.Timedelta(days=14)).date()
    return start.isoformat(), (start + pd.Timedelta(days=9)).isoformat()


@pytest.mark.data
def test_sweep_runs_every_site_per_parameter_set_as_its_own_backtest_would(data_dir, tmp_path):
    base = load_scenario(QUICKSTART)
    start, end = _period(base)
    out = tmp_path / "sweep"
    result = runner.invoke(app, ["sweep", QUICKSTART, *GRID, "--runtime", "local", "--start", start, "--end", end,
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 site(s) x 4 parameter set(s) = 8 runs" in result.output
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 8
    assert set(table["base_site_id"]) == {"vienna", "linz"}
    assert sorted(table["battery.energy_kwh"].unique()) == [200, 400]
    assert table["perfect_foresight_profit_eur"].gt(0).all()  # every site has its bound, so a capture ratio
    assert "n/a" not in (out / "report.html").read_text().split("Parameter sweep")[1].split("</table>")[0]
    assert "np.int64" not in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fleet"]["sites"] == 8
    assert "Parameter sweep" in (out / "report.html").read_text()
    # one set against the backtest of that configuration alone
    row = table[(table["base_site_id"] == "vienna") & (table["battery.energy_kwh"] == 400)
                & (table["strategy.terminal_soc.policy"] == "free")].iloc[0]  # fmt: skip
    alone, _ = expand(base.model_copy(update={"sites": base.sites[:1]}),
                      parse_grid(["battery.energy_kwh=400", "strategy.terminal_soc.policy=free"]))  # fmt: skip
    alone = alone.model_copy(update={"backtest": alone.backtest.model_copy(
        update={"start": pd.Timestamp(start).date(), "end": pd.Timestamp(end).date()})})  # fmt: skip
    run = run_backtest(plan_backtest(alone, load_prices(alone.market)), LocalRuntime())
    revenue = sum(float(day[0].revenue_eur.sum()) for day in run.site_days)
    assert row["revenue_eur"] == pytest.approx(revenue, rel=1e-9)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (["--grid", "market.zone=AT"], "only per-site keys can be swept"),
        (["--grid", "strategy.horizon_h=24,48"], "the planning horizon is the run's"),
        (["--grid", "battery.energy_kwh=-1,100"], "battery.energy_kwh: Input should be greater than 0"),
        (["--grid", "battery.energy_kwh"], "write key=value1,value2"),
    ],
)
def test_a_bad_grid_exits_2_before_any_work(data_dir, tmp_path, grid, message):
    out = tmp_path / "never"
    result = runner.invoke(app, ["sweep", QUICKSTART, *grid, "--runtime", "local", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not out.exists()


def test_parameter_sets_are_the_cartesian_product():
    axes = parse_grid(["battery.energy_kwh=1,2,3", "dynamics.integration=event,fixed"])
    from twin.config.sweep import parameter_sets

    sets = parameter_sets(axes)
    assert len(sets) == 6
    assert sets[0] == {"battery.energy_kwh": 1, "dynamics.integration": "event"}
    assert sets[-1] == {"battery.energy_kwh": 3, "dynamics.integration": "fixed"}
    with pytest.raises(ConfigError, match="given twice"):
        parse_grid(["battery.energy_kwh=1", "battery.energy_kwh=2"])
