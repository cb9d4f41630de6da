"""The day-ahead forecasts a backtest made, kept per vintage, and their accuracy on the delivery days.

``forecasts.parquet`` in the run folder: one row per forecaster, gate closure
(the vintage) and interval of the horizon, with the realised price. The
accuracy counts each vintage's own delivery day only (the horizon's tail on
D+1 is re-forecast at D+1's gate), against the naive forecasts "same interval
24 h earlier" and "168 h earlier".
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from twin.forecast.evaluation import row_metrics

ACCURACY_KEYS = ("mae_eur_per_mwh", "rmae_daily", "rmae_weekly", "smape_pct", "rmse_eur_per_mwh")


def with_realised(vintages: pd.DataFrame, realised: pd.Series) -> pd.DataFrame:
    """``vintages`` plus ``price_eur_per_mwh`` (NaN beyond the data)."""
    out = vintages.copy()
    out["timestamp_utc"] = pd.to_datetime(out["timestamp_utc"], utc=True)
    out["gate_closure_utc"] = pd.to_datetime(out["gate_closure_utc"], utc=True)
    out["price_eur_per_mwh"] = realised.reindex(pd.DatetimeIndex(out["timestamp_utc"])).to_numpy(dtype=float)
    return out


def write_vintages(vintages: pd.DataFrame, realised: pd.Series, out_dir: Path) -> Path:
    """Write ``forecasts.parquet``; returns its path."""
    path = out_dir / "forecasts.parquet"
    with_realised(vintages, realised).to_parquet(path, index=False)
    return path


def delivery_day_accuracy(
    vintages: pd.DataFrame, realised: pd.Series, day_starts: list[pd.Timestamp], day_ends: list[pd.Timestamp]
) -> dict[str, dict[str, float | None]]:
    """MAE, rMAE (daily and weekly naive), sMAPE and RMSE per forecaster on the delivery days.

    Parameters
    ----------
    vintages : pd.DataFrame
        As :meth:`ForecastService.vintages` returns them.
    realised : pd.Series
        Realised prices on a UTC index. [EUR/MWh]
    day_starts, day_ends : list of pd.Timestamp
        UTC start and end of each delivery day, in vintage order.
    """
    frame = with_realised(vintages, realised)
    firsts = np.array([_naive(start) for start in day_starts])
    lasts = np.array([_naive(end) for end in day_ends])
    out: dict[str, dict[str, float | None]] = {}
    for name, part in frame.groupby("forecaster", sort=False):
        stamps = part["timestamp_utc"].dt.tz_convert(None).to_numpy()
        gates = part["gate_closure_utc"].dt.tz_convert(None).to_numpy()
        # the delivery day each step falls in (days are in order and do not overlap)
        k = np.clip(np.searchsorted(firsts, stamps, side="right") - 1, 0, None)
        keep = (stamps >= firsts[k]) & (stamps < lasts[k]) & (gates < firsts[k])
        day = part[keep].drop_duplicates("timestamp_utc", keep="last")
        index = pd.DatetimeIndex(day["timestamp_utc"])
        rows = pd.DataFrame(
            {
                "price_eur_per_mwh": day["price_eur_per_mwh"].to_numpy(dtype=float),
                "forecast_eur_per_mwh": day["forecast_eur_per_mwh"].to_numpy(dtype=float),
                "naive_weekly_eur_per_mwh": realised.reindex(index - pd.Timedelta(hours=168)).to_numpy(dtype=float),
                "naive_daily_eur_per_mwh": realised.reindex(index - pd.Timedelta(hours=24)).to_numpy(dtype=float),
                "day": index.strftime("%Y-%m-%d"),
            }
        )
        scored = bool(np.isfinite(rows["price_eur_per_mwh"]).any())
        metrics = row_metrics(rows) if scored else {}
        row: dict[str, float | None] = {key: _finite_or_none(metrics.get(key)) for key in ACCURACY_KEYS}
        out[str(name)] = row
    return out


def _finite_or_none(value: object) -> float | None:
    """A finite metric as float; NaN or missing as None."""
    return float(value) if isinstance(value, float | int) and math.isfinite(value) else None


def _naive(stamp: pd.Timestamp) -> np.datetime64:
    """A UTC timestamp as a naive numpy datetime64."""
    return pd.Timestamp(stamp).tz_convert("UTC").tz_localize(None).to_datetime64()
