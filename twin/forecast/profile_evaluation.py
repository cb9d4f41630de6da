"""Walk-forward evaluation of load and PV forecasters on a measured series, at the day-ahead gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from twin.forecast.metrics import mae, rmse
from twin.forecast.profile import ProfileGbm, forecast_profile, gate_ns


def walk_forward_profile(
    series: pd.Series,
    model: str,
    days: list[dt.date],
    tz: str,
    holidays_country: str | None = "DE",
    on_day: Callable[[dt.date], None] | None = None,
) -> pd.DataFrame:
    """Forecast each local day of ``days`` at its gate (D-1 12:00) with ``model`` and with persistence.

    Parameters
    ----------
    series : pd.Series
        Measured values (kW) on a regular UTC index.
    model : str
        One of :data:`twin.forecast.profile.PROFILE_MODELS`.

    Returns
    -------
    pd.DataFrame
        ``timestamp_utc, value_kw, forecast_kw, persistence_kw`` for every step of the days.
    """
    index_ns = pd.DatetimeIndex(series.index).as_unit("ns").asi8
    values = series.to_numpy(dtype=float)
    gbm = ProfileGbm(tz, holidays_country)
    frames = []
    for day in days:
        start = pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")
        end = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(tz).tz_convert("UTC")
        positions = np.flatnonzero((series.index >= start) & (series.index < end))
        if len(positions) == 0:
            continue
        decision = gate_ns(day, tz)
        frames.append(
            pd.DataFrame(
                {
                    "timestamp_utc": pd.DatetimeIndex(series.index)[positions].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "value_kw": values[positions],
                    "forecast_kw": forecast_profile(model, values, index_ns, positions, decision, gbm),
                    "persistence_kw": forecast_profile("persistence", values, index_ns, positions, decision),
                }
            )
        )
        if on_day is not None:
            on_day(day)
    return pd.concat(frames, ignore_index=True)


def profile_metrics(rows: pd.DataFrame) -> dict[str, float | int | None]:
    """MAE, RMSE and skill against persistence (``1 - MAE / MAE_persistence``), over measured steps. [kW]"""
    ok = np.isfinite(rows[["value_kw", "forecast_kw", "persistence_kw"]].to_numpy(dtype=float)).all(axis=1)
    scored = rows[ok]
    actual = scored["value_kw"].to_numpy(dtype=float)
    forecast = scored["forecast_kw"].to_numpy(dtype=float)
    base = mae(actual, scored["persistence_kw"].to_numpy(dtype=float)) if len(scored) else float("nan")
    model_mae = mae(actual, forecast) if len(scored) else float("nan")
    return {
        "mae_kw": model_mae,
        "rmse_kw": rmse(actual, forecast) if len(scored) else None,
        "persistence_mae_kw": base,
        "skill_vs_persistence": 1.0 - model_mae / base if base > 0 else None,
        "scored_steps": int(len(scored)),
        "unscored_steps": int(len(rows) - len(scored)),
    }
