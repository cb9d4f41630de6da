"""When a delivery day is traded intraday: the auction, or the rounds of continuous trading.

* Intraday auction (``reference: ida``): one session, the auction on D-1 at the
  intraday opening time (15:00 local); every product of D is in it.
* Continuous (``id3``, ``id1``, ``index``, or ``mark: day_ahead``): rounds from
  the opening on D-1 every ``round_interval_min`` while any product of D is still
  before its gate closure (``gate_closure_min`` before delivery); a round trades
  only the products whose gate is still ahead.

Each round is a decision time: the site forecasts and orders with what is
public at ``at_utc`` (:mod:`twin.forecast.intraday`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.config.intraday import IntradayConfig
from twin.markets.calendar import PublicationCalendar


@dataclass(frozen=True)
class IntradayRound:
    """One intraday session of a delivery day.

    Attributes
    ----------
    kind : {'auction', 'continuous'}
    at_utc : pd.Timestamp
        Decision and trading time.
    tradable : np.ndarray of bool, shape (n_steps,)
        Products of the day open in this round.
    cost_eur_per_mwh : float
        What one traded MWh costs the site on top of the price: the fee, plus
        the liquidity provider's half spread in continuous trading. [EUR/MWh]
    half_spread_eur_per_mwh : float
        The LP's half spread (0 in the auction). [EUR/MWh]
    """

    kind: str
    at_utc: pd.Timestamp
    tradable: npt.NDArray[np.bool_]
    cost_eur_per_mwh: float
    half_spread_eur_per_mwh: float

    @property
    def at_ns(self) -> int:
        """``at_utc`` in ns since the epoch."""
        return int(self.at_utc.value)


def intraday_rounds(
    start_utc: pd.Timestamp,
    n_steps: int,
    step: pd.Timedelta,
    delivery_date: dt.date,
    calendar: PublicationCalendar,
    config: IntradayConfig,
) -> list[IntradayRound]:
    """The intraday sessions of one delivery day, in time order.

    Parameters
    ----------
    start_utc : pd.Timestamp
        Start of the delivery day (local midnight, UTC).
    n_steps : int
        Products in the day.
    step : pd.Timedelta
        Product length.
    delivery_date : datetime.date
        Local date of the delivery day.
    calendar : PublicationCalendar
    config : IntradayConfig

    Returns
    -------
    list of IntradayRound
        One for the auction; one per round for continuous trading.
    """
    cost, half = config.trade_cost_eur_per_mwh, config.half_spread_eur_per_mwh
    opening = calendar.intraday_opening_utc(delivery_date)
    starts = pd.date_range(start_utc, periods=n_steps, freq=step)
    if config.is_auction:
        return [IntradayRound("auction", opening, np.ones(n_steps, dtype=bool), cost, half)]
    gates = starts - pd.Timedelta(minutes=config.gate_closure_min)
    last_gate = gates[-1]
    rounds = []
    at = opening
    interval = pd.Timedelta(minutes=config.round_interval_min)
    while at < last_gate:
        tradable = np.asarray(gates > at)
        rounds.append(IntradayRound("continuous", at, tradable, cost, half))
        at = at + interval
    return rounds
