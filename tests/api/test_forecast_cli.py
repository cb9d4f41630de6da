"""``bess-twin forecast evaluate`` on the real epftoolbox training file: files, metrics, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def epf_file(data_dir):
    return data_dir / "epftoolbox_de_2012_2015_train" / "epftoolbox_de_2012-01-09_2015-12-31_hourly.csv"


def test_evaluate_writes_forecasts_and_metrics_that_recompute(tmp_path, epf_file):
    out = tmp_path / "lear"
    result = runner.invoke(app, ["forecast", "evaluate", "--data", str(epf_file), "--test-start", "2015-06-01",
                                 "--test-end", "2015-06-03", "--out", str(out), "--windows", "56"])  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "forecasts.csv")
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(frame) == 3 * 24 and metrics["days"] == 3
    err = frame.price_eur_per_mwh - frame.forecast_eur_per_mwh
    assert metrics["mae_eur_per_mwh"] == pytest.approx(err.abs().mean())
    assert metrics["rmse_eur_per_mwh"] == pytest.approx(np.sqrt((err**2).mean()))
    raw = pd.read_csv(epf_file)
    week_before = raw[(raw.timestamp_local >= "2015-05-25") & (raw.timestamp_local < "2015-05-28")]
    naive_mae = np.abs(frame.price_eur_per_mwh.to_numpy() - week_before.price_eur_per_mwh.to_numpy()).mean()
    assert metrics["rmae_weekly"] == pytest.approx(metrics["mae_eur_per_mwh"] / naive_mae)
    assert frame.timestamp_utc.iloc[0] == "2015-05-31T22:00:00Z"
    assert metrics["diebold_mariano"]["baseline"] == "seasonal_naive"


def test_naive_models_are_their_own_reference(tmp_path, epf_file):
    result = runner.invoke(app, ["forecast", "evaluate", "--data", str(epf_file), "--test-start", "2015-03-02",
                                 "--test-end", "2015-03-15", "--out", str(tmp_path), "--model", "seasonal_naive"])  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["rmae_weekly"] == pytest.approx(1.0)
    assert metrics["diebold_mariano"]["p_value"] is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "oracle"], "--model 'oracle' is not known"),
        (["--test-start", "2012-01-20"], "need 63 days before the first test day"),
        (["--windows", "56,abc"], "--windows '56,abc' must be whole days"),
        (["--baseline", "oracle"], "--baseline 'oracle' is neither"),
        (["--test-end", "2015-01-01"], "is before --test-start"),
    ],
)
def test_bad_input_exits_2_before_work(tmp_path, epf_file, extra, message):
    args = {"--test-start": "2015-06-01", "--test-end": "2015-06-03", "--model": "lear", "--windows": "56"}
    for key, value in zip(extra[::2], extra[1::2], strict=True):
        args[key] = value
    flat = [x for kv in args.items() for x in kv]
    result = runner.invoke(app, ["forecast", "evaluate", "--data", str(epf_file), "--out", str(tmp_path / "o"), *flat])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "o").exists()


def test_baseline_from_another_runs_forecasts_equals_the_named_baseline(tmp_path, epf_file):
    common = ["forecast", "evaluate", "--data", str(epf_file), "--test-start", "2015-03-02", "--test-end", "2015-04-05"]
    first = runner.invoke(app, [*common, "--model", "persistence", "--out", str(tmp_path / "p")])
    named = runner.invoke(app, [*common, "--model", "seasonal_naive", "--baseline", "persistence", "--out", str(tmp_path / "a")])
    from_file = runner.invoke(app, [*common, "--model", "seasonal_naive", "--baseline",
                                    str(tmp_path / "p" / "forecasts.csv"), "--out", str(tmp_path / "b")])  # fmt: skip
    assert first.exit_code == named.exit_code == from_file.exit_code == 0, from_file.output
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())["diebold_mariano"]
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())["diebold_mariano"]
    assert a["statistic"] == pytest.approx(b["statistic"]) and b["baseline"].endswith("forecasts.csv")
    short = runner.invoke(app, [*common[:-1], "2015-04-12", "--model", "seasonal_naive", "--baseline",
                                str(tmp_path / "p" / "forecasts.csv"), "--out", str(tmp_path / "c")])  # fmt: skip
    assert short.exit_code == 2 and "does not cover every test interval" in short.output
    assert not (tmp_path / "c").exists()  # refused before any work
