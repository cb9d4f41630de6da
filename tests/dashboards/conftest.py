"""Fixtures of the dashboard tests: two small backtest runs of the same period (two forecasters) and an AppTest factory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from api.cli import app as cli

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
RUNS = {"qs": "persistence", "qs_seasonal": "seasonal_naive"}


@pytest.fixture(scope="session")
def dash_runs(tmp_path_factory, data_dir) -> Path:
    root = tmp_path_factory.mktemp("dash_runs")
    for name, forecaster in RUNS.items():
        result = CliRunner().invoke(cli, ["backtest", "scenarios/quickstart.yaml", "--runtime", "local", "--out", str(root / name),
                                          "--start", "2023-03-20", "--end", "2023-04-09", "--forecaster", forecaster])  # fmt: skip
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="session")
def household_runs(tmp_path_factory, data_dir) -> Path:
    """A behind-the-meter run (measured load and PV) long enough for the PV and load forecasters' 35 days of history."""
    root = tmp_path_factory.mktemp("household_runs")
    result = CliRunner().invoke(cli, ["backtest", "scenarios/household_pv.yaml", "--runtime", "local", "--out", str(root / "hh"),
                                      "--start", "2023-05-01", "--end", "2023-06-12"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="session")
def limits_runs(tmp_path_factory, data_dir) -> Path:
    """The quickstart with a VaR limit of 20 EUR per site at 99 %: the risk page's utilisation gauges."""
    import yaml

    root = tmp_path_factory.mktemp("limits_runs")
    data = yaml.safe_load(Path("scenarios/quickstart.yaml").read_text())
    data["etrm"] = {"limits": {"default": {"var_eur": 20.0, "var_confidence": 0.99}}}
    scenario = root / "limits.yaml"
    scenario.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["backtest", str(scenario), "--runtime", "local", "--out", str(root / "lim"),
                                      "--start", "2023-03-20", "--end", "2023-04-09"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


def summary(runs: Path, name: str) -> dict:
    return json.loads((runs / name / "summary.json").read_text())


@pytest.fixture
def app_test(monkeypatch) -> Callable[..., AppTest]:
    """An AppTest of the dashboards over ``runs`` (and an API when given), already run once."""

    def make(runs: Path, api_url: str | None = None) -> AppTest:
        monkeypatch.setenv("BESS_TWIN_DASHBOARD_RUNS_DIR", str(runs))
        if api_url is None:
            monkeypatch.delenv("BESS_TWIN_DASHBOARD_API_URL", raising=False)
        else:
            monkeypatch.setenv("BESS_TWIN_DASHBOARD_API_URL", api_url)
        at = AppTest.from_file(str(APP), default_timeout=90)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return make


def metrics(at: AppTest) -> dict[str, str]:
    """Every metric on the page by label."""
    return {m.label: m.value for m in at.metric}


def page(at: AppTest, name: str) -> AppTest:
    """Switch to ``app_pages/name.py`` and run it; fails on an exception box."""
    at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, (name, [e.message for e in at.exception])
    return at
