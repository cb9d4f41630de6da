"""Market actor: clears the day-ahead auction against historical prices."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import ray

from actors.client import ServiceClient, remote
from twin.backtest.clock import DeliveryDay
from twin.markets.day_ahead import Bid, Clearing, clear_price_taker
from twin.markets.imbalance import imbalance_prices


class MarketService:
    """Day-ahead market of one bidding zone, replaying historical clearing prices.

    Parameters
    ----------
    price_eur_per_mwh : np.ndarray, shape (T,)
        Realised prices of the whole series, by step position. [EUR/MWh]
    imbalance_spread_eur_per_mwh : float
        Penalty spread around the day-ahead price for deviations. [EUR/MWh]
    imbalance_eur_per_mwh : np.ndarray, shape (T,), optional
        Measured single imbalance prices; replace the spread where given. [EUR/MWh]
    """

    def __init__(
        self,
        price_eur_per_mwh: npt.NDArray[np.float64],
        imbalance_spread_eur_per_mwh: float = 0.0,
        imbalance_eur_per_mwh: npt.NDArray[np.float64] | None = None,
    ) -> None:
        self._price = np.asarray(price_eur_per_mwh, dtype=float)
        self._spread = float(imbalance_spread_eur_per_mwh)
        self._imbalance = imbalance_eur_per_mwh

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
        steps = slice(day.first_step, day.first_step + day.n_steps)
        prices = self._price[steps]
        measured = None if self._imbalance is None else self._imbalance[steps]
        imbalance = imbalance_prices(prices, self._spread, measured)
        return clear_price_taker(day.date, prices, list(bids), imbalance)


MarketActor = ray.remote(MarketService)


class MarketClient(ServiceClient):
    """Typed client of the :class:`MarketService`."""

    service = MarketService
    actor = MarketActor
    auction_result = remote(MarketService.auction_result)
    clear = remote(MarketService.clear)

