"""A fitted day-ahead model (LEAR, Prophet, LightGBM, ensemble) as a backtest forecaster.

The backtest hands a forecaster the prices published before day D's gate (a
UTC series) and asks for the horizon from D's start. This adapter arranges
that history and the exogenous forecasts public at the gate by local day
(:func:`~twin.forecast.table.to_local_days`), asks the model for D's S slots
and maps them to the horizon's UTC intervals; the horizon's hours on D+1
repeat D's forecast of the same wall-clock time (D+1's auction is forecast at
its own gate, a day later).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.errors import ForecastError
from twin.forecast.daily import DailyModel
from twin.forecast.table import (
    DailyTable,
    fill_exogenous_gaps,
    from_local_days,
    to_local_days,
    weekdays,
)


@dataclass
class TableForecaster:
    """Adapts a :class:`~twin.forecast.daily.DailyModel` to the backtest's ``Forecaster`` protocol.

    Parameters
    ----------
    model : DailyModel
    exogenous : pd.DataFrame
        Exogenous forecasts on a UTC index, already arranged so that a row
        stamped in day D is public at D's gate
        (:func:`twin.io.forecast_data.read_exogenous`); may have no columns.
    holidays_country : str or None
    """

    model: DailyModel
    exogenous: pd.DataFrame
    holidays_country: str | None = "DE"

    @property
    def name(self) -> str:
        """The model's name."""
        return self.model.name

    @property
    def history_days(self) -> int:
        """[d]"""
        return self.model.history_days

    @property
    def lookback_days(self) -> int:
        """[d]"""
        return self.model.lookback_days

    def table(self, history: pd.Series, day_start_utc: pd.Timestamp, tz: str, step: pd.Timedelta) -> DailyTable:
        """The table a forecast of the day starting at ``day_start_utc`` may read (prices of that day NaN)."""
        keep_from = day_start_utc - pd.Timedelta(days=self.lookback_days + 2)
        prices = history.loc[(history.index >= keep_from) & (history.index < day_start_utc)]
        target = pd.date_range(day_start_utc, periods=int(pd.Timedelta(days=1) / step) + 4, freq=step)
        index = prices.index.union(target[:-4]) if len(prices) else target[:-4]
        frame = pd.DataFrame({"price": prices.reindex(index)})
        if not self.exogenous.empty:
            exo = self.exogenous.loc[(self.exogenous.index >= index[0]) & (self.exogenous.index <= index[-1])]
            exo = exo.resample(step).mean() if len(exo) and step > _step_of(exo) else exo
            frame = frame.join(exo.reindex(index, method="ffill", limit=int(pd.Timedelta(hours=1) / step)))
        dates, values, utc = to_local_days(frame, tz, step)
        day_local = day_start_utc.tz_convert(tz).date()
        last = dates.index(day_local)
        values, dates, utc = values[: last + 1], dates[: last + 1], utc[: last + 1]
        values[last, :, 0] = np.nan
        fill_exogenous_gaps(values[:, :, 1:])
        return DailyTable(
            dates=dates,
            prices=values[:, :, 0],
            exogenous=values[:, :, 1:],
            exogenous_names=list(frame.columns[1:]),
            weekday=weekdays(dates),
            timestamp_utc=utc,
            holidays_country=self.holidays_country,
        )

    def forecast(self, history: pd.Series, target_index: pd.DatetimeIndex, tz: str) -> npt.NDArray[np.float64]:
        """Forecast ``target_index`` from ``history`` (see :class:`twin.forecast.naive.Forecaster`). [EUR/MWh]

        Raises
        ------
        ForecastError
            If the history is too short for the model, or has gaps in the days it reads.
        """
        step = pd.Timedelta(target_index[1] - target_index[0]) if len(target_index) > 1 else pd.Timedelta(hours=1)
        table = self.table(history, target_index[0], tz, step)
        day = len(table.dates) - 1
        if day < self.model.history_days:
            raise ForecastError(
                f"{self.name} needs {self.model.history_days} days of published prices before "
                f"{table.dates[day]}; it has {day}; add earlier years (market.prices.history_paths) "
                "or start the backtest later"
            )
        forecast = self.model.predict(table, day)
        if not np.isfinite(forecast).all():
            raise ForecastError(f"{self.name} gave a non-finite forecast for {table.dates[day]}; check the price history for gaps")
        return from_local_days(table.dates[day:], forecast[None, :], target_index, tz)


def _step_of(frame: pd.DataFrame) -> pd.Timedelta:
    diffs = frame.index.to_series().diff().dropna()
    return pd.Timedelta(diffs.mode().iloc[0]) if len(diffs) else pd.Timedelta(hours=1)
