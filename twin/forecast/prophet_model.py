"""Prophet for day-ahead prices: daily, weekly and yearly seasonality, public holidays, exogenous regressors.

Prophet (Taylor & Letham 2018) is the forecaster of the EMS this twin grew
from. Fitted on the ``window_days`` days before its training day, on local
wall-clock time, with the exogenous day-ahead forecasts of each slot as extra
linear regressors (standardised by Prophet) and the country's public holidays
(Prophet's built-in ``add_country_holidays``). Re-fitted every ``refit_days`` on
a calendar schedule; MAP fit (no MCMC), no uncertainty sampling.

References
----------
.. [1] S. J. Taylor, B. Letham, "Forecasting at scale", The American Statistician
   72(1), 37-45, 2018, doi:10.1080/00031305.2017.1380080.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from twin.errors import ForecastError
from twin.forecast.calendar_features import training_anchor
from twin.forecast.table import DailyTable
from twin.types import FloatArray


def _frame(table: DailyTable, days: np.ndarray) -> pd.DataFrame:
    """Prophet's input: ``ds`` (local wall clock), ``y`` and one column per exogenous series."""
    offsets = pd.to_timedelta(np.arange(table.slots) * (86_400 // table.slots), unit="s").to_numpy()
    starts = pd.to_datetime([table.dates[d] for d in days]).to_numpy()
    ds = (starts[:, None] + offsets[None, :]).ravel()
    frame = pd.DataFrame({"ds": ds, "y": table.prices[days].ravel()})
    for k, name in enumerate(table.exogenous_names):
        frame[name] = table.exogenous[days, :, k].ravel()
    return frame


@dataclass
class ProphetModel:
    """Prophet day-ahead price model (see the module docstring)."""

    window_days: int = 365
    refit_days: int = 1
    name: str = "prophet"
    _fitted: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def history_days(self) -> int:
        """Days before the first forecast: four weeks. [d]"""
        return 28

    @property
    def lookback_days(self) -> int:
        """[d]"""
        return self.window_days + self.refit_days

    def _model(self, table: DailyTable, anchor: int) -> Any:
        key = table.dates[anchor]
        if key in self._fitted:
            return self._fitted[key]
        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        logging.getLogger("prophet").setLevel(logging.WARNING)
        from prophet import Prophet

        train = np.arange(max(0, anchor - self.window_days), anchor)
        train = train[np.isfinite(table.prices[train]).all(axis=1)]
        if len(train) < 28:
            raise ForecastError(f"prophet needs 28 days of prices before {table.dates[anchor]}; it has {len(train)}")
        model = Prophet(
            daily_seasonality=True,
            weekly_seasonality=True,
            yearly_seasonality=len(train) >= 730,
            uncertainty_samples=0,
        )
        if table.holidays_country:
            model.add_country_holidays(country_name=table.holidays_country)
        for name in table.exogenous_names:
            model.add_regressor(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # Prophet's own use of deprecated pandas API
            warnings.simplefilter("ignore", DeprecationWarning)
            model.fit(_frame(table, train))
        self._fitted = {key: model}
        return model

    def predict(self, table: DailyTable, day: int) -> FloatArray:
        """The S prices of day index ``day``. [EUR/MWh]"""
        anchor = training_anchor(self.name, table.dates, day, self.history_days, self.refit_days)
        model = self._model(table, anchor)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # Prophet's own use of deprecated pandas API
            warnings.simplefilter("ignore", DeprecationWarning)
            predicted = model.predict(_frame(table, np.array([day])))
        out: FloatArray = predicted["yhat"].to_numpy(dtype=float)
        return out
