"""Market-feed actor: polls a price feed on a clock, keeps the history, derives indicators.

The seed polls every 5 minutes; so does :class:`MarketFeedService` by default.
Each poll asks the feed for what is published at that moment (a replay of
historical prices, or a live API), upserts it into the SQLite price history,
and moves the market's indicators (mark, EMA) to the price of the delivery
period under way. Metrics are the exchange's (``actors.metrics``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import ray

from actors.client import ServiceClient, remote
from actors.metrics import ExchangeMetrics
from twin.io.feeds import PriceFeed
from twin.io.price_history import PriceHistory
from twin.markets.indicators import MarketIndicators


class MarketFeedService:
    """Price feed of one market.

    Parameters
    ----------
    market : str
        Bidding zone, e.g. ``DE-LU``.
    feed : PriceFeed
    history_path : str or Path
        SQLite file of the price history.
    poll_interval_s : float
        Clock step between polls. [s] (seed: 300)
    lookahead_h : float
        How far beyond ``now`` each poll asks for prices. [h]
    """

    def __init__(
        self,
        market: str,
        feed: PriceFeed,
        history_path: str | Path,
        poll_interval_s: float = 300.0,
        lookahead_h: float = 48.0,
    ) -> None:
        self.market, self.feed = market, feed
        self.history = PriceHistory(history_path)
        self.poll_interval_s = poll_interval_s
        self.lookahead = pd.Timedelta(hours=lookahead_h)
        self.indicators = {market: MarketIndicators()}
        self.metrics = ExchangeMetrics()
        self._known: dict[pd.Timestamp, float] = {}
        self._published: pd.Series = pd.Series(dtype=float)

    def poll(self, now: pd.Timestamp) -> int:
        """Fetch what is published at ``now``; returns the number of new or revised prices."""
        now = pd.Timestamp(now).tz_convert("UTC")
        start = now.floor("D") - pd.Timedelta(days=1)
        prices = self.feed.fetch(start, now + self.lookahead, now)
        stamps = pd.DatetimeIndex(prices.index)
        fresh = prices[[self._known.get(ts) != p for ts, p in zip(stamps, prices, strict=True)]]
        if len(fresh):
            self.history.upsert(self.market, self.feed.name, fresh, now)
            self._known.update(zip(pd.DatetimeIndex(fresh.index), fresh.to_numpy(dtype=float), strict=True))
            self._published = pd.Series(self._known, dtype=float).sort_index()
            self.metrics.count_price_update(self.market, len(fresh))
        current = prices[prices.index <= now]
        if len(current):
            self.indicators[self.market].on_price(now.timestamp(), float(current.iloc[-1]))
        self.metrics.set_indicators(self.indicators)
        return len(fresh)

    def published(self) -> pd.Series:
        """Every price the feed has published so far, latest revision, on a sorted UTC index. [EUR/MWh]"""
        return self._published

    def run_clock(self, start: pd.Timestamp, end: pd.Timestamp) -> int:
        """Poll every ``poll_interval_s`` from ``start`` to ``end``; total new prices."""
        step = pd.Timedelta(seconds=self.poll_interval_s)
        total, now = 0, pd.Timestamp(start)
        while now <= end:
            total += self.poll(now)
            now += step
        return total

    def mark(self) -> float:
        """Current mark price. [EUR/MWh]"""
        return self.indicators[self.market].mark()

    def metrics_text(self) -> bytes:
        """Prometheus exposition of the feed's metrics."""
        return self.metrics.text()


MarketFeedActor = ray.remote(MarketFeedService)


class MarketFeedClient(ServiceClient):
    """Typed client of the :class:`MarketFeedService`."""

    service = MarketFeedService
    actor = MarketFeedActor
    poll = remote(MarketFeedService.poll)
    run_clock = remote(MarketFeedService.run_clock)
    mark = remote(MarketFeedService.mark)
    metrics_text = remote(MarketFeedService.metrics_text)

