"""Market-data indicators per market: mark price, EMA and VWAP.

Windows (all configurable in :class:`IndicatorConfig`):

* **mark**: the last trade price if a trade happened within ``mark_window_s``
  (default 15 min, one intraday MTU); otherwise the latest reference price
  from the feed (the day-ahead price of the current delivery period).
* **EMA**: time-weighted exponential moving average of every price update
  (feed prices and trades) with half-life ``ema_half_life_s`` (default 1 h):
  ``ema += (1 - 2**(-dt / half_life)) * (price - ema)``, so irregular updates
  weigh by the time between them (Eckner 2012 [1]_).
* **VWAP**: volume-weighted average price of the trades of the last
  ``vwap_window_s`` (default 1 h, as EPEX SPOT's ID1 index uses the last hour
  of trading before delivery [2]_); NaN with no trade in the window.

References
----------
.. [1] A. Eckner, "Algorithms for Unevenly Spaced Time Series: Moving Averages
   and Other Rolling Operators", 2012.
.. [2] EPEX SPOT, "Intraday indices" (ID1, ID3), methodology, 2023.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class IndicatorConfig:
    """Windows of the indicators. [s]"""

    mark_window_s: float = 900.0
    ema_half_life_s: float = 3600.0
    vwap_window_s: float = 3600.0


class MarketIndicators:
    """Mark, EMA and VWAP of one market, updated from feed prices and trades.

    Parameters
    ----------
    config : IndicatorConfig, optional
    """

    def __init__(self, config: IndicatorConfig | None = None) -> None:
        self.config = config or IndicatorConfig()
        self.reference_eur_per_mwh = math.nan
        self.last_trade_eur_per_mwh = math.nan
        self.last_trade_s = -math.inf
        self.ema_eur_per_mwh = math.nan
        self._ema_s: float | None = None
        self._trades: deque[tuple[float, float, float]] = deque()
        self._pv = 0.0
        self._v = 0.0
        self.price_updates = 0
        self.now_s = -math.inf

    def on_price(self, ts_s: float, price_eur_per_mwh: float) -> None:
        """A reference price from the feed (e.g. the day-ahead price). [s, EUR/MWh]"""
        self.reference_eur_per_mwh = float(price_eur_per_mwh)
        self._update_ema(ts_s, price_eur_per_mwh)

    def on_trade(self, ts_s: float, price_eur_per_mwh: float, quantity_mwh: float) -> None:
        """A trade of ``quantity_mwh`` at ``price_eur_per_mwh``. [s, EUR/MWh, MWh]"""
        self.last_trade_eur_per_mwh = float(price_eur_per_mwh)
        self.last_trade_s = ts_s
        self._trades.append((ts_s, price_eur_per_mwh, quantity_mwh))
        self._pv += price_eur_per_mwh * quantity_mwh
        self._v += quantity_mwh
        self._update_ema(ts_s, price_eur_per_mwh)

    def _update_ema(self, ts_s: float, price: float) -> None:
        self.price_updates += 1
        self.now_s = max(self.now_s, ts_s)
        if self._ema_s is None or math.isnan(self.ema_eur_per_mwh):
            self.ema_eur_per_mwh = float(price)
        else:
            dt_s = max(0.0, ts_s - self._ema_s)
            alpha = 1.0 - 2.0 ** (-dt_s / self.config.ema_half_life_s)
            self.ema_eur_per_mwh += alpha * (price - self.ema_eur_per_mwh)
        self._ema_s = ts_s if self._ema_s is None else max(self._ema_s, ts_s)

    def mark(self, now_s: float | None = None) -> float:
        """Mark price at ``now_s`` (default: the latest update). [EUR/MWh]"""
        now = self.now_s if now_s is None else now_s
        if now - self.last_trade_s <= self.config.mark_window_s:
            return self.last_trade_eur_per_mwh
        return self.reference_eur_per_mwh

    def vwap(self, now_s: float | None = None) -> float:
        """VWAP of the trades in the window ending at ``now_s``; NaN without trades. [EUR/MWh]"""
        now = self.now_s if now_s is None else now_s
        cutoff = now - self.config.vwap_window_s
        while self._trades and self._trades[0][0] < cutoff:
            _, p, q = self._trades.popleft()
            self._pv -= p * q
            self._v -= q
        if self._v <= 1e-12:
            self._pv = self._v = 0.0
            return math.nan
        return self._pv / self._v
