"""Forecast accuracy on the delivery days counts only what was forecast before each day's gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.backtest.forecast_vintages import delivery_day_accuracy


def test_only_steps_of_a_delivery_day_forecast_before_it_count():
    """Five days, a 36-h vintage at noon of the day before each: the vintage's own day is off
    by 1 EUR/MWh, the next day's first 12 h (forecast too early, then again later) by 100, a
    vintage made after its day started by 1000. Only the 1s count: the MAE is exactly 1."""
    hours = pd.date_range("2023-03-01", periods=24 * 12, freq="h", tz="UTC")
    realised = pd.Series(50.0, index=hours)
    starts = [pd.Timestamp("2023-03-03", tz="UTC") + pd.Timedelta(days=d) for d in range(5)]
    rows = []
    for start in starts:
        gate = start - pd.Timedelta(hours=12)
        stamps = pd.date_range(start, periods=36, freq="h")
        errors = np.r_[np.full(24, 1.0), np.full(12, 100.0)]
        rows.append(pd.DataFrame({"forecaster": "persistence", "gate_closure_utc": gate, "timestamp_utc": stamps,
                                  "forecast_eur_per_mwh": 50.0 + errors}))  # fmt: skip
    late = pd.date_range(starts[2], periods=24, freq="h")
    rows.append(pd.DataFrame({"forecaster": "persistence", "gate_closure_utc": starts[2] + pd.Timedelta(hours=1),
                              "timestamp_utc": late, "forecast_eur_per_mwh": 1050.0}))  # fmt: skip
    out = delivery_day_accuracy(pd.concat(rows, ignore_index=True), realised, starts,
                                [s + pd.Timedelta(days=1) for s in starts])  # fmt: skip
    assert out["persistence"]["mae_eur_per_mwh"] == pytest.approx(1.0)
