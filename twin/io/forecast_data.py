"""Read prices and exogenous forecasts into a :class:`~twin.forecast.table.DailyTable`.

Two layouts:

* the epftoolbox layout (``timestamp_local`` with S rows per local day,
  ``price_eur_per_mwh``, exogenous columns), as in ``epftoolbox_de_2012_2015_train``;
* a tidy price file (``timestamp_utc`` + a price column, as every day-ahead data
  set here) plus tidy exogenous files (``timestamp_utc`` + forecast columns),
  arranged by local day (:func:`~twin.forecast.table.to_local_days`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.config.forecasting import ExogenousConfig
from twin.errors import DataError
from twin.forecast.table import DailyTable, fill_exogenous_gaps, to_local_days, weekdays
from twin.io.readers import read_tidy_csv

_NOT_EXOGENOUS = {"timestamp_local", "timestamp_utc", "price_eur_per_mwh", "dst_note"}


def read_epftoolbox(path: Path, holidays_country: str | None = "DE") -> DailyTable:
    """Read the epftoolbox layout: ``timestamp_local`` (S per day), ``price_eur_per_mwh``, exogenous columns.

    Every numeric column other than the timestamps, the price and ``dst_note``
    is an exogenous day-ahead forecast. Runs unchanged on a longer file of the
    same layout.

    Raises
    ------
    DataError
        If the file or the price column is missing, a value is missing, or a day
        does not have the same number of slots as the others.
    """
    if not path.is_file():
        raise DataError(f"{path}: forecast data file not found; check --data and BESS_TWIN_DATA")
    frame = pd.read_csv(path)
    for column in ("timestamp_local", "price_eur_per_mwh"):
        if column not in frame.columns:
            raise DataError(f"{path}: needs column {column}; it has {', '.join(frame.columns)}")
    names = [c for c in frame.columns if c not in _NOT_EXOGENOUS and pd.api.types.is_numeric_dtype(frame[c])]
    values = frame[["price_eur_per_mwh", *names]]
    if values.isna().any().any():
        bad = values.columns[values.isna().any()].tolist()
        raise DataError(f"{path}: missing values in {', '.join(bad)}; the forecasters need complete days")
    local = pd.to_datetime(frame["timestamp_local"])
    dates = local.dt.date
    counts = dates.value_counts()
    slots = int(counts.mode().iloc[0])
    if (counts != slots).any():
        odd = counts[counts != slots].index[:3]
        raise DataError(f"{path}: every day needs {slots} slots; {', '.join(map(str, odd))} differ")
    n = len(frame) // slots
    utc = frame["timestamp_utc"].fillna("").astype(str).to_numpy() if "timestamp_utc" in frame else np.full(len(frame), "")
    day_list = list(dates.iloc[::slots])
    return DailyTable(
        dates=day_list,
        prices=frame["price_eur_per_mwh"].to_numpy(dtype=float).reshape(n, slots),
        exogenous=np.stack([frame[c].to_numpy(dtype=float).reshape(n, slots) for c in names], axis=2)
        if names
        else np.zeros((n, slots, 0)),
        exogenous_names=names,
        weekday=weekdays(day_list),
        timestamp_utc=utc.reshape(n, slots),
        holidays_country=holidays_country,
    )


@dataclass(frozen=True)
class TidyTable:
    """A :class:`DailyTable` from tidy files, with the real UTC price series and what was filled."""

    table: DailyTable
    prices_utc: pd.Series
    """The realised prices on their UTC index. [EUR/MWh]"""
    filled_exogenous_slots: int
    """Exogenous (day, slot, column) values filled (see :func:`read_exogenous`)."""


def read_exogenous(sources: list[ExogenousConfig]) -> pd.DataFrame:
    """Read the exogenous forecast files into one UTC-indexed frame.

    A source with ``public_before_gate: false`` is shifted by one day (D's row
    holds the forecast made for D-1), so no model reads a forecast that may not
    have been public at D's gate.

    Raises
    ------
    DataError
        If a file lacks ``timestamp_utc`` or a named column.
    """
    frames = []
    for source in sources:
        if not source.path.is_file():
            raise DataError(f"{source.path}: exogenous forecast file not found; check the path and BESS_TWIN_DATA")
        frame = pd.read_csv(source.path)
        if "timestamp_utc" not in frame.columns:
            raise DataError(f"{source.path}: needs a timestamp_utc column; it has {', '.join(frame.columns)}")
        columns = source.columns or [c for c in frame.columns if "forecast_day_ahead" in c]
        missing = [c for c in columns if c not in frame.columns]
        if missing or not columns:
            raise DataError(
                f"{source.path}: column(s) {', '.join(missing) or '(none matching forecast_day_ahead)'} "
                f"not found; it has {', '.join(frame.columns)}; set columns"
            )
        index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp_utc"], utc=True, format="ISO8601"))
        part = frame[columns].astype(float).set_axis(index)
        if not source.public_before_gate:
            part.index = part.index + pd.Timedelta(days=1)
        frames.append(part)
    return pd.concat(frames, axis=1) if frames else pd.DataFrame()


def read_tidy(
    price_paths: list[Path],
    exogenous: list[ExogenousConfig],
    tz: str,
    zone: str | None = None,
    column: str | None = None,
    holidays_country: str | None = "DE",
) -> TidyTable:
    """Arrange a tidy price file and exogenous files by local day (hourly or 15-min).

    Exogenous gaps (whole days are missing in the ENTSO-E load forecast of
    2022) are filled by the same slot one week earlier, or the day before, and
    counted; prices are not filled (a day with a missing price has NaN there
    and is neither trained on nor scored).

    ``price_paths`` are read in order and joined (earlier years as the models'
    calibration history, then the test file); where they overlap the first wins.

    Raises
    ------
    DataError
        If a file cannot be read, or the price and exogenous steps differ.
    """
    parts = []
    for path in price_paths:
        if not path.is_file():
            raise DataError(f"{path}: price file not found; check --data, --history and BESS_TWIN_DATA")
        parts.append(read_tidy_csv(path, zone, column, key="--data").rename("price"))
    prices = pd.concat(parts)
    prices = prices[~prices.index.duplicated(keep="first")].sort_index()
    steps = prices.index.to_series().diff().dropna()
    step = pd.Timedelta(steps.mode().iloc[0])
    frame = prices.rename("price").to_frame()
    names: list[str] = []
    if exogenous:
        exo = read_exogenous(exogenous)
        exo = exo[~exo.index.duplicated(keep="first")].sort_index()
        exo_step = pd.Timedelta(exo.index.to_series().diff().dropna().mode().iloc[0])
        if exo_step != step:
            if exo_step < step and step % exo_step == pd.Timedelta(0):
                exo = exo.resample(step).mean()  # e.g. 15-min forecasts for an hourly auction
            else:
                raise DataError(f"exogenous step {exo_step} does not divide the price step {step}")
        names = list(exo.columns)
        frame = frame.join(exo, how="left")
    dates, values, utc = to_local_days(frame, tz, step)
    exo_values = values[:, :, 1:].copy()
    filled = fill_exogenous_gaps(exo_values) if names else 0
    table = DailyTable(
        dates=dates,
        prices=values[:, :, 0],
        exogenous=exo_values,
        exogenous_names=names,
        weekday=weekdays(dates),
        timestamp_utc=utc,
        holidays_country=holidays_country,
    )
    return TidyTable(table, prices, filled)
