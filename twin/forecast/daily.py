"""Day-ahead price models on a :class:`~twin.forecast.table.DailyTable`: the protocol, the naive ones, ensembles.

Every model answers one question: the S prices of day ``day`` from what is
public at that day's gate. The caller hands it
:meth:`DailyTable.public_at_gate`, so it cannot read D's prices or anything
later (tests perturb those and check the forecast does not move).

References
----------
.. [1] J. Lago, G. Marcjasz, B. De Schutter, R. Weron, Applied Energy 293, 116983,
   2021 (naive benchmarks; ensembles of calibration windows and models).
.. [2] J. M. Bates, C. W. J. Granger, "The combination of forecasts", Operational
   Research Quarterly 20(4), 1969 (inverse-error weights).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from twin.errors import ForecastError
from twin.forecast.table import DailyTable
from twin.types import FloatArray


class DailyModel(Protocol):
    """Forecasts one delivery day's S prices from a table of what is public at its gate."""

    @property
    def name(self) -> str:
        """Model name, as the CLI and scenarios spell it."""

    @property
    def history_days(self) -> int:
        """Days of published prices needed before the first forecast. [d]"""

    @property
    def lookback_days(self) -> int:
        """Days of prices before the target any forecast may read (keys the vintage cache). [d]"""

    def predict(self, table: DailyTable, day: int) -> FloatArray:
        """The S prices of day index ``day``. [EUR/MWh]

        ``table`` holds prices up to ``day - 1`` and exogenous forecasts up to
        ``day``; rows after ``day`` may be absent.

        Raises
        ------
        ForecastError
            If the history is too short.
        """
        ...


@dataclass(frozen=True)
class SameSlotEarlier:
    """Naive: the same slot ``lag_days`` earlier (1: persistence, 7: seasonal naive)."""

    name: str
    lag_days: int

    @property
    def history_days(self) -> int:
        """[d]"""
        return self.lag_days

    @property
    def lookback_days(self) -> int:
        """[d]"""
        return self.lag_days

    def predict(self, table: DailyTable, day: int) -> FloatArray:
        """The prices of ``day - lag_days``. [EUR/MWh]"""
        if day < self.lag_days:
            raise ForecastError(f"{self.name} needs {self.lag_days} day(s) of prices before {table.dates[day]}")
        out: FloatArray = table.prices[day - self.lag_days].astype(float)
        return out


@dataclass
class Ensemble:
    """Combination of member forecasts: their mean, or weights inverse to recent MAE.

    With ``inverse_mae`` the weight of member m on day D is proportional to
    ``1 / MAE_m`` over the last ``window_days`` days before D for which the
    ensemble has both m's forecast and the realised prices (both public at D's
    gate); before any such day the weights are equal.
    """

    members: list[DailyModel]
    weighting: Literal["mean", "inverse_mae"] = "inverse_mae"
    window_days: int = 28
    name: str = "ensemble"
    _past: dict[dt.date, FloatArray] = field(default_factory=dict, repr=False)
    """Member forecasts (n_members, S) per day already forecast."""

    @property
    def history_days(self) -> int:
        """[d]"""
        return max(m.history_days for m in self.members)

    @property
    def lookback_days(self) -> int:
        """[d]"""
        return max(max(m.lookback_days for m in self.members), self.window_days + 1)

    def weights(self, table: DailyTable, day: int) -> FloatArray:
        """Member weights for ``day``, summing to 1, from days before it only."""
        n = len(self.members)
        if self.weighting == "mean":
            return np.full(n, 1.0 / n)
        errors = []
        for back in range(1, self.window_days + 1):
            d = day - back
            if d < 0:
                break
            past = self._past.get(table.dates[d])
            actual = table.prices[d]
            if past is not None and np.isfinite(actual).all():
                errors.append(np.mean(np.abs(past - actual[None, :]), axis=1))
        if not errors:
            return np.full(n, 1.0 / n)
        inverse = 1.0 / np.maximum(np.mean(errors, axis=0), 1e-6)
        out: FloatArray = inverse / inverse.sum()
        return out

    def predict(self, table: DailyTable, day: int) -> FloatArray:
        """The weighted member forecasts of ``day``. [EUR/MWh]"""
        runs = np.vstack([m.predict(table, day) for m in self.members])
        self._past[table.dates[day]] = runs
        out: FloatArray = self.weights(table, day) @ runs
        return out

    def member_forecasts(self, date: dt.date) -> FloatArray | None:
        """Members' forecasts (n_members, S) of ``date``, if made."""
        return self._past.get(date)
