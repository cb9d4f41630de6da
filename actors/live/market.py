"""Live market actor: the price feed on the market clock, and the price window the sites plan on.

Every ``poll_interval_s`` of market time (the seed's 5 minutes) the market
polls its price feed (:class:`~actors.live.market_feed.MarketFeedService`): a
replay of historical prices, published when the publication calendar says
(:mod:`twin.markets.calendar`: D+1 at D's gate closure plus the publication
delay, local time), or a live API. What the feed has published is kept in a
SQLite price history. The sites see the published prices of the horizon and
a persistence forecast (same local time one day earlier) beyond them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import ray

from actors.client import ServiceClient, remote_async
from actors.live.market_feed import MarketFeedService
from twin.forecast.naive import Persistence
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
    ) -> None:
        self.feed = MarketFeedService(market, feed, history_path, poll_interval_s)
        self.step = step
        self.tz = timezone
        self.end_utc = end_utc
        self._poll_every = pd.Timedelta(seconds=poll_interval_s)
        self._next_poll: pd.Timestamp | None = None
        self._forecaster = Persistence()

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
