"""Market actor: clears the day-ahead and intraday auctions against historical prices."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import ray

from actors.client import ServiceClient, remote
from twin.backtest.clock import DeliveryDay
from twin.markets.day_ahead import Bid, Clearing, clear_price_taker
from twin.markets.exchange.session import IntradayIntent, SessionResult
from twin.markets.imbalance import imbalance_prices
from twin.markets.intraday_auction import clear_intraday_auction
from twin.markets.intraday_rounds import IntradayRound
from twin.markets.products import day_products


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
    intraday_auction_eur_per_mwh : np.ndarray, shape (T,), optional
        Historical intraday auction prices on the same grid (NaN: none). [EUR/MWh]
    market : str
        Bidding zone, for product ids.
    fee_eur_per_mwh, lot_mwh : float
        Intraday auction fee per MWh [EUR/MWh] and quantity grid [MWh].
    """

    def __init__(
        self,
        price_eur_per_mwh: npt.NDArray[np.float64],
        imbalance_spread_eur_per_mwh: float = 0.0,
        imbalance_eur_per_mwh: npt.NDArray[np.float64] | None = None,
        intraday_auction_eur_per_mwh: npt.NDArray[np.float64] | None = None,
        market: str = "DE-LU",
        fee_eur_per_mwh: float = 0.0,
        lot_mwh: float = 0.001,
    ) -> None:
        self._price = np.asarray(price_eur_per_mwh, dtype=float)
        self._spread = float(imbalance_spread_eur_per_mwh)
        self._imbalance = imbalance_eur_per_mwh
        self._ida = intraday_auction_eur_per_mwh
        self.market, self.fee, self.lot = market, fee_eur_per_mwh, lot_mwh
        self._trade_id = 1

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

    def clear_intraday_auction(
        self, day: DeliveryDay, session: IntradayRound, dt_h: float, *intents: IntradayIntent
    ) -> SessionResult:
        """Clear the intraday auction of ``day`` at its historical prices (price-takers).

        Raises
        ------
        RuntimeError
            If the market holds no intraday auction prices.
        """
        if self._ida is None:
            raise RuntimeError("this market has no intraday auction prices")
        steps = slice(day.first_step, day.first_step + day.n_steps)
        products = day_products(self.market, day.start_utc, day.n_steps, dt_h)
        result = clear_intraday_auction(
            products, self._ida[steps], list(intents), self.fee, self.lot, session.at_ns,
            first_trade_id=self._trade_id,
        )
        self._trade_id += len(result.trades)
        return result


MarketActor = ray.remote(MarketService)


class MarketClient(ServiceClient):
    """Typed client of the :class:`MarketService`."""

    service = MarketService
    actor = MarketActor
    auction_result = remote(MarketService.auction_result)
    clear = remote(MarketService.clear)
    clear_intraday_auction = remote(MarketService.clear_intraday_auction)

