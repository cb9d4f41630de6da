"""Market actor: clears the day-ahead auction against historical prices."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import ray

from twin.backtest.clock import DeliveryDay
from twin.market.day_ahead import Bid, Clearing, clear_price_taker


class MarketService:
    """Day-ahead market of one bidding zone, replaying historical clearing prices.

    Parameters
    ----------
    price_eur_per_mwh : np.ndarray, shape (T,)
        Realised prices of the whole series, by step position. [EUR/MWh]
    """

    def __init__(self, price_eur_per_mwh: npt.NDArray[np.float64]) -> None:
        self._price = np.asarray(price_eur_per_mwh, dtype=float)

    def auction_result(self, day: DeliveryDay) -> npt.NDArray[np.float64]:
        """Publish the clearing prices of ``day`` (the public auction result, D-1 ~12:45).

        A price-taker's bids do not move the price, so the result does not wait for
        them; the forecast service can take it in as soon as the auction is over.

        Returns
        -------
        np.ndarray, shape (day.n_steps,)
            Clearing prices. [EUR/MWh]
        """
        return self._price[day.first_step : day.first_step + day.n_steps].copy()

    def clear(self, day: DeliveryDay, *bids: Bid) -> Clearing:
        """Clear the auction of ``day``: every bid is awarded at the historical price.

        Parameters
        ----------
        day : DeliveryDay
        *bids : Bid
            One bid per site.

        Returns
        -------
        Clearing
        """
        prices = self._price[day.first_step : day.first_step + day.n_steps]
        return clear_price_taker(day.date, prices, list(bids))


MarketActor = ray.remote(MarketService)
