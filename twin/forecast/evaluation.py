"""Walk-forward evaluation of a day-ahead price model: one forecast per day from what was public at its gate.

The forecasts and the two naive forecasts are written row by row
(:func:`forecast_rows`), and every metric is computed from those rows
(:func:`row_metrics`), so ``metrics.json`` can be recomputed from
``forecasts.csv`` alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from twin.forecast.daily import DailyModel
from twin.forecast.metrics import diebold_mariano_losses, mae, rmse, smape_pct
from twin.forecast.table import DailyTable, from_local_days
from twin.types import FloatArray

NAIVE_COLUMNS = {"seasonal_naive": "naive_weekly_eur_per_mwh", "persistence": "naive_daily_eur_per_mwh"}


def walk_forward(
    table: DailyTable, model: DailyModel, days: np.ndarray, on_day: Callable[[int], None] | None = None
) -> FloatArray:
    """Forecast each of ``days`` from :meth:`DailyTable.public_at_gate`.

    Returns
    -------
    np.ndarray, shape (len(days), S)
        [EUR/MWh]
    """
    out = np.empty((len(days), table.slots))
    for i, d in enumerate(days):
        out[i] = model.predict(table.public_at_gate(int(d)), int(d))
        if on_day is not None:
            on_day(int(d))
    return out


def forecast_rows(
    table: DailyTable, days: np.ndarray, forecasts: FloatArray, prices_utc: pd.Series | None = None, tz: str = ""
) -> pd.DataFrame:
    """One row per delivery interval: realised price, forecast and the weekly and daily naive forecasts.

    Parameters
    ----------
    table : DailyTable
    days : np.ndarray of int, shape (m,)
    forecasts : np.ndarray, shape (m, S)
    prices_utc : pd.Series, optional
        The realised prices on their real UTC intervals (tidy input): rows are
        those intervals and each looks its slot up in the (day, slot) arrays.
        None: one row per (day, slot) of the table (the epftoolbox layout,
        whose 24 rows a day already settle DST).
    tz : str
        Local time zone (with ``prices_utc``).

    Returns
    -------
    pd.DataFrame
        ``timestamp_utc, timestamp_local, price_eur_per_mwh, forecast_eur_per_mwh,
        naive_weekly_eur_per_mwh, naive_daily_eur_per_mwh, day``.
    """
    days = np.asarray(days, dtype=int)
    dates = [table.dates[d] for d in days]
    if prices_utc is None:
        slots = table.slots
        step_min = 1440 // slots
        return pd.DataFrame(
            {
                "timestamp_utc": table.timestamp_utc[days].ravel(),
                "timestamp_local": [
                    f"{date}T{(s * step_min) // 60:02d}:{(s * step_min) % 60:02d}" for date in dates for s in range(slots)
                ],
                "price_eur_per_mwh": table.prices[days].ravel(),
                "forecast_eur_per_mwh": forecasts.ravel(),
                "naive_weekly_eur_per_mwh": table.prices[days - 7].ravel(),
                "naive_daily_eur_per_mwh": table.prices[days - 1].ravel(),
                "day": np.repeat([str(d) for d in dates], slots),
            }
        )
    local = pd.DatetimeIndex(prices_utc.index).tz_convert(tz)
    wanted = pd.Index([str(d) for d in dates])
    keep = pd.Index(local.strftime("%Y-%m-%d")).isin(wanted)
    index = pd.DatetimeIndex(prices_utc.index)[keep]
    local = local[keep]
    return pd.DataFrame(
        {
            "timestamp_utc": index.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timestamp_local": local.strftime("%Y-%m-%dT%H:%M%z"),
            "price_eur_per_mwh": prices_utc.to_numpy()[keep],
            "forecast_eur_per_mwh": from_local_days(dates, forecasts, index, tz),
            "naive_weekly_eur_per_mwh": from_local_days(dates, table.prices[days - 7], index, tz),
            "naive_daily_eur_per_mwh": from_local_days(dates, table.prices[days - 1], index, tz),
            "day": local.strftime("%Y-%m-%d"),
        }
    )


def row_metrics(rows: pd.DataFrame, baseline: str = "seasonal_naive", baseline_forecast: np.ndarray | None = None) -> dict[str, object]:
    """MAE, rMAE against both naive forecasts (named), sMAPE, RMSE and the DM test, from ``rows``.

    Rows whose realised price is missing are left out (and counted). The
    Diebold-Mariano test is the multivariate one of epftoolbox: per day the L1
    norm of the errors over the day's intervals.

    Parameters
    ----------
    rows : pd.DataFrame
        As :func:`forecast_rows` writes them.
    baseline : str
        Name of the DM test's baseline: ``seasonal_naive``, ``persistence``, or
        any name when ``baseline_forecast`` is given.
    baseline_forecast : np.ndarray, optional, shape (len(rows),)
        Another model's forecasts of the same rows (its ``forecasts.csv``).
    """
    if baseline_forecast is not None:
        rows = rows.assign(baseline_eur_per_mwh=np.asarray(baseline_forecast, dtype=float))
    scored = rows[np.isfinite(rows["price_eur_per_mwh"].to_numpy(dtype=float))]
    actual = scored["price_eur_per_mwh"].to_numpy(dtype=float)
    forecast = scored["forecast_eur_per_mwh"].to_numpy(dtype=float)
    out: dict[str, object] = {"mae_eur_per_mwh": mae(actual, forecast)}
    for name, column in (("weekly", "naive_weekly_eur_per_mwh"), ("daily", "naive_daily_eur_per_mwh")):
        base = scored[column].to_numpy(dtype=float)
        ok = np.isfinite(base)
        reference = mae(actual[ok], base[ok]) if ok.any() else math.nan
        out[f"rmae_{name}"] = mae(actual[ok], forecast[ok]) / reference if reference > 0 else math.nan
    out["smape_pct"] = smape_pct(actual, forecast)
    out["rmse_eur_per_mwh"] = rmse(actual, forecast)
    out["scored_intervals"] = len(scored)
    out["unscored_intervals"] = len(rows) - len(scored)
    column = "baseline_eur_per_mwh" if baseline_forecast is not None else NAIVE_COLUMNS[baseline]
    per_day = scored.assign(
        model=np.abs(actual - forecast), base=np.abs(actual - scored[column].to_numpy(dtype=float))
    ).groupby("day")[["model", "base"]].sum()
    per_day = per_day[np.isfinite(per_day["base"])]
    statistic, p_value = diebold_mariano_losses(per_day["model"].to_numpy(), per_day["base"].to_numpy())
    out["diebold_mariano"] = {
        "baseline": baseline,
        "statistic": None if math.isnan(statistic) else statistic,
        "p_value": None if math.isnan(p_value) else p_value,
        "h1": "the model is more accurate than the baseline (multivariate, L1 norm per day)",
    }
    return out
