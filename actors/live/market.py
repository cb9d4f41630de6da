"""Live market actor: replays historical day-ahead prices on the market clock.

At market time ``t`` the sites see the prices published by then (the auction
result for day D+1 appears at D's gate closure plus the publication delay) and
a persistence forecast (same local time one day earlier) beyond them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import ray

from actors.client import ServiceClient, remote_async
from twin.forecast.naive import Persistence
from twin.markets.calendar import PublicationCalendar


class LiveMarketService:
    """Price replay for live runs.

    Parameters
    ----------
    prices : pd.Series
        Realised day-ahead prices on a regular UTC index. [EUR/MWh]
    calendar : PublicationCalendar
        When each day's auction result becomes public (local gate + delay, DST-safe).
    """

    def __init__(self, prices: pd.Series, calendar: PublicationCalendar) -> None:
        self.prices = prices
        self.calendar = calendar
        self.tz = calendar.timezone
        self.step = prices.index[1] - prices.index[0]
        self._forecaster = Persistence()

    def published_until(self, t_utc: pd.Timestamp) -> pd.Timestamp:
        """End (exclusive, UTC) of the delivery period whose prices are public at ``t_utc``."""
        return self.calendar.day_ahead_published_until(t_utc)

    def window(self, t_utc: pd.Timestamp, n_steps: int) -> dict:
        """Prices of the ``n_steps`` MTUs from the one that contains ``t_utc``.

        Returns
        -------
        dict
            ``mtu_start_utc`` (pd.Timestamp), ``price_eur_per_mwh`` (np.ndarray, shape
            (n_steps,), published prices then forecasts), ``known_steps`` (int), and
            ``end_of_data`` (bool: ``t_utc`` is past the last price).
        """
        start = t_utc.floor(self.step)
        index = pd.date_range(start, periods=n_steps, freq=self.step)
        if start > self.prices.index[-1]:
            return {"mtu_start_utc": start, "price_eur_per_mwh": np.full(n_steps, np.nan),
                    "known_steps": 0, "end_of_data": True}
        until = self.published_until(t_utc)
        history = self.prices.loc[self.prices.index < until]
        known = index[index < until]
        values = history.reindex(known).to_numpy(dtype=float, copy=True)
        rest = index[len(known):]
        forecast = self._forecaster.forecast(history, rest, self.tz) if len(rest) else np.empty(0)
        prices = np.concatenate([values, np.asarray(forecast, dtype=float)])
        return {"mtu_start_utc": start, "price_eur_per_mwh": prices,
                "known_steps": int(np.isfinite(values).sum()), "end_of_data": False}


LiveMarketActor = ray.remote(LiveMarketService)


class LiveMarketClient(ServiceClient):
    """Typed client of the :class:`LiveMarketService`."""

    service = LiveMarketService
    actor = LiveMarketActor
    window = remote_async(LiveMarketService.window)

