"""Forecast actor: day-ahead and intraday price forecasts, each from what is public at its decision time."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import ray

from actors.client import ServiceClient, remote
from twin.backtest.clock import DeliveryDay, horizon_index
from twin.config.forecasting import ForecastingConfig
from twin.forecast.intraday import IntradayForecaster
from twin.forecast.registry import make_forecaster
from twin.markets.calendar import PublicationCalendar
from twin.markets.intraday_rounds import IntradayRound


class ForecastService:
    """Day-ahead price forecasts for one bidding zone.

    The service holds only *published* prices: those before the first delivery
    day at start, then each day's clearing as the market publishes it. The
    ``perfect`` forecaster is the one exception: it is handed the realised
    prices on purpose, as the benchmark.

    Parameters
    ----------
    forecaster : str
        ``perfect``, ``persistence`` or ``seasonal_naive``.
    published : pd.Series
        Prices published before the first delivery day (UTC index). [EUR/MWh]
    calendar : PublicationCalendar
        When the zone's prices become public (and its local time zone).
    step : pd.Timedelta
        Market time unit.
    n_horizon : int
        Horizon length in steps.
    realised : pd.Series, optional
        All realised prices; used by ``perfect`` only. [EUR/MWh]
    intraday : IntradayForecaster, optional
        Forecasts intraday prices at each intraday session's time.
    settings : ForecastingConfig, optional
        Settings of the fitted forecasters (lear, prophet, lightgbm, ensemble).
    exogenous : pd.DataFrame, optional
        Exogenous forecasts for the fitted forecasters, arranged by when they
        are public (:func:`twin.io.forecast_data.read_exogenous`).

    Every forecast is kept as a *vintage* (gate closure, interval, forecast);
    :meth:`vintages` hands them to the run folder (``forecasts.parquet``). On
    Ray the service is its own process and the driver queues ``forecast(D+1)``
    right after ``publish(D)``, so models fit while the sites deliver day D.
    """

    def __init__(
        self,
        forecaster: str,
        published: pd.Series,
        calendar: PublicationCalendar,
        step: pd.Timedelta,
        n_horizon: int,
        realised: pd.Series | None = None,
        intraday: IntradayForecaster | None = None,
        settings: ForecastingConfig | None = None,
        exogenous: pd.DataFrame | None = None,
    ) -> None:
        self.forecaster = make_forecaster(forecaster, realised, settings, exogenous)
        self._vintages: list[tuple[pd.Timestamp, pd.DatetimeIndex, npt.NDArray[np.float64]]] = []
        self.intraday_forecaster = intraday
        self._published = [published]
        self.calendar = calendar
        self.step = step
        self.n_horizon = n_horizon
        self._keep = pd.Timedelta(days=max(self.forecaster.history_days, self.forecaster.lookback_days, 1) + 8)

    def forecast(self, day: DeliveryDay) -> npt.NDArray[np.float64]:
        """Forecast the horizon starting at ``day``, at its gate closure.

        Returns
        -------
        np.ndarray, shape (n_horizon,)
            Forecast prices. [EUR/MWh]
        """
        if len(self._published) > 1:
            published = pd.concat(self._published)
            self._published = [published.loc[published.index >= day.start_utc - self._keep]]
        history = self.calendar.published_day_ahead(self._published[0], day.gate_closure_utc)
        target = horizon_index(day, self.n_horizon, self.step)
        values = self.forecaster.forecast(history, target, self.calendar.timezone)
        self._vintages.append((day.gate_closure_utc, target, values))
        return values

    def vintages(self) -> pd.DataFrame:
        """Every forecast made: ``forecaster, gate_closure_utc, timestamp_utc, forecast_eur_per_mwh``."""
        if not self._vintages:
            return pd.DataFrame(columns=["forecaster", "gate_closure_utc", "timestamp_utc", "forecast_eur_per_mwh"])
        return pd.DataFrame(
            {
                "forecaster": self.forecaster.name,
                "gate_closure_utc": np.concatenate([np.full(len(t), g) for g, t, _ in self._vintages]),
                "timestamp_utc": np.concatenate([t.to_numpy() for _, t, _ in self._vintages]),
                "forecast_eur_per_mwh": np.concatenate([v for _, _, v in self._vintages]),
            }
        )

    def publish(self, day: DeliveryDay, price_eur_per_mwh: npt.NDArray[np.float64]) -> None:
        """Add the auction result of ``day`` (clearing prices, EUR/MWh) to the published history."""
        index = pd.date_range(day.start_utc, periods=day.n_steps, freq=self.step)
        self._published.append(pd.Series(price_eur_per_mwh, index=index))

    def intraday(self, day: DeliveryDay, session: IntradayRound) -> npt.NDArray[np.float64]:
        """Forecast the intraday prices of ``day``'s products at ``session.at_utc``.

        Returns
        -------
        np.ndarray, shape (day.n_steps,)
            [EUR/MWh]

        Raises
        ------
        RuntimeError
            If the service has no intraday forecaster.
        """
        if self.intraday_forecaster is None:
            raise RuntimeError("this forecast service has no intraday forecaster")
        positions = np.arange(day.first_step, day.first_step + day.n_steps)
        return self.intraday_forecaster.forecast(positions, session.at_utc)


ForecastActor = ray.remote(ForecastService)


class ForecastClient(ServiceClient):
    """Typed client of the :class:`ForecastService`."""

    service = ForecastService
    actor = ForecastActor
    forecast = remote(ForecastService.forecast)
    publish = remote(ForecastService.publish)
    intraday = remote(ForecastService.intraday)
    vintages = remote(ForecastService.vintages)

