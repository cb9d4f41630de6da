"""Live market actor: the price feed on the market clock, and the price window the sites plan on.

Every ``poll_interval_s`` of market time (the seed's 5 minutes) the market
polls its price feed (:class:`~actors.live.market_feed.MarketFeedService`): a
replay of historical prices, published when the publication calendar says
(:mod:`twin.markets.calendar`: D+1 at D's gate closure plus the publication
delay, local time), or a live API. What the feed has published is kept in a
SQLite price history. The sites see the published prices of the horizon and
the scenario's day-ahead forecast beyond them (persistence: the same local
time one day earlier; or a fitted model: lear, prophet, lightgbm, ensemble).
A forecast is re-made only when the published history or the first unknown
MTU changes; each is kept as a vintage (:meth:`LiveMarketService.vintages`,
written to ``forecasts.parquet`` beside the live history).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import ray

from actors.client import ServiceClient, remote_async
from actors.live.market_feed import MarketFeedService
from twin.forecast.naive import Forecaster, Persistence
from twin.io.feeds import PriceFeed


class LiveMarketService:
    """Price feed and price window of one bidding zone in a live run.

    Parameters
    ----------
    market : str
        Bidding zone, e.g. ``DE-LU``.
    feed : PriceFeed
        Where prices come from (``twin.io.feeds.ReplayFeed`` for a replay).
    step : pd.Timedelta
        Market time unit of the window.
    timezone : str
        Local market time zone (for the persistence forecast).
    history_path : str or Path
        SQLite file of the price history.
    poll_interval_s : float
        Market time between polls of the feed. [s]
    end_utc : pd.Timestamp, optional
        End of the feed's data (a replay); from there on the window reports
        ``end_of_data``.
    forecaster : Forecaster, optional
        Forecasts the MTUs not yet published; default persistence.
    price_history : pd.Series, optional
        Prices published before the run started (a fitted forecaster needs
        weeks to years of them; the feed only holds what it has polled).
    """

    def __init__(
        self,
        market: str,
        feed: PriceFeed,
        step: pd.Timedelta,
        timezone: str,
        history_path: str | Path,
        poll_interval_s: float = 300.0,
        end_utc: pd.Timestamp | None = None,
        forecaster: Forecaster | None = None,
        price_history: pd.Series | None = None,
    ) -> None:
        self.feed = MarketFeedService(market, feed, history_path, poll_interval_s)
        self.step = step
        self.tz = timezone
        self.end_utc = end_utc
        self._poll_every = pd.Timedelta(seconds=poll_interval_s)
        self._next_poll: pd.Timestamp | None = None
        self._forecaster: Forecaster = forecaster or Persistence()
        self._price_history = price_history
        self._memo: tuple[tuple[pd.Timestamp, pd.Timestamp, int], np.ndarray] | None = None
        self._vintages: list[pd.DataFrame] = []

    def _forecast(self, history: pd.Series, rest: pd.DatetimeIndex, t_utc: pd.Timestamp) -> np.ndarray:
        """The forecast of ``rest``, re-made only when the history or the first unknown MTU changed."""
        key = (rest[0], history.index[-1] if len(history) else rest[0], len(rest))
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        if self._price_history is not None and len(history):
            earlier = self._price_history.loc[self._price_history.index < history.index[0]]
            history = pd.concat([earlier, history])
        values = np.asarray(self._forecaster.forecast(history, rest, self.tz), dtype=float)
        self._memo = (key, values)
        self._vintages.append(pd.DataFrame({
            "forecaster": self._forecaster.name, "made_utc": t_utc, "timestamp_utc": rest,
            "forecast_eur_per_mwh": values,
        }))  # fmt: skip
        return values

    def vintages(self) -> pd.DataFrame:
        """Every forecast made: ``forecaster, made_utc, timestamp_utc, forecast_eur_per_mwh``."""
        if not self._vintages:
            return pd.DataFrame(columns=["forecaster", "made_utc", "timestamp_utc", "forecast_eur_per_mwh"])
        return pd.concat(self._vintages, ignore_index=True)

    def _poll_if_due(self, t_utc: pd.Timestamp) -> None:
        if self._next_poll is None or t_utc >= self._next_poll:
            self.feed.poll(t_utc)
            self._next_poll = t_utc + self._poll_every

    def window(self, t_utc: pd.Timestamp, n_steps: int) -> dict[str, Any]:
        """Prices of the ``n_steps`` MTUs from the one that contains ``t_utc``.

        Returns
        -------
        dict
            ``mtu_start_utc`` (pd.Timestamp), ``price_eur_per_mwh`` (np.ndarray, shape
            (n_steps,), published prices then forecasts), ``known_steps`` (int), and
            ``end_of_data`` (bool: ``t_utc`` is past the feed's last price).
        """
        start = t_utc.floor(self.step)
        if self.end_utc is not None and start >= self.end_utc:
            return {"mtu_start_utc": start, "price_eur_per_mwh": np.full(n_steps, np.nan),
                    "known_steps": 0, "end_of_data": True}
        self._poll_if_due(t_utc)
        history = self.feed.published()
        index = pd.date_range(start, periods=n_steps, freq=self.step)
        present = index.isin(history.index)
        n_known = int(np.argmin(present)) if not present.all() else n_steps
        known = index[:n_known]
        values = history.reindex(known).to_numpy(dtype=float, copy=True)
        rest = index[n_known:]
        forecast = self._forecast(history, rest, pd.Timestamp(t_utc)) if len(rest) else np.empty(0)
        prices = np.concatenate([values, np.asarray(forecast, dtype=float)])
        return {"mtu_start_utc": start, "price_eur_per_mwh": prices,
                "known_steps": int(np.isfinite(values).sum()), "end_of_data": False}


LiveMarketActor = ray.remote(LiveMarketService)


class LiveMarketClient(ServiceClient):
    """Typed client of the :class:`LiveMarketService`."""

    service = LiveMarketService
    actor = LiveMarketActor
    window = remote_async(LiveMarketService.window)
    vintages = remote_async(LiveMarketService.vintages)
