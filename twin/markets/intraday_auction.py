"""The intraday auction (EPEX IDA, 15-min products, D-1 15:00) for a price-taker.

The auction is a uniform-price auction: every accepted order clears at the one
auction price of its product. A site is small against the German market, so its
orders do not move the price; the historical auction price is the clearing
price. An order clears in full where its limit allows and not at all otherwise:

* a sell order of q MWh at limit L clears when ``price >= L``;
* a buy order of q MWh at limit L clears when ``price <= L``;
* an order without a limit (price-independent) always clears.

Cash flows follow the exchange's: the seller receives ``q * price``, the buyer
pays it, and the site pays ``fee_eur_per_mwh`` per MWh. The auction itself is the
counterparty (participant ``venue``), so the cash of a session sums to zero.

References
----------
.. [1] EPEX SPOT, "Intraday auctions: IDA1 (15:00 D-1, 15-min products, uniform
   pricing)", since 2024 the SIDC IDAs; until 2024 the German 15:00 intraday
   call auction (Energy-Charts "Intraday Auction 15 minute call").
"""

from __future__ import annotations

import numpy as np

from twin.markets.exchange.orders import Side, Trade
from twin.markets.exchange.session import IntradayIntent, ParticipantResult, SessionResult
from twin.markets.products import Product
from twin.types import FloatArray

VENUE = "intraday_auction"
"""Participant name of the auction in trades and session results."""


def clear_intraday_auction(
    products: list[Product],
    price_eur_per_mwh: FloatArray,
    intents: list[IntradayIntent],
    fee_eur_per_mwh: float,
    lot_mwh: float,
    ts_ns: int,
    first_trade_id: int = 1,
) -> SessionResult:
    """Clear price-taking orders at the historical auction prices.

    Parameters
    ----------
    products : list of Product
        The day's products in delivery order (n).
    price_eur_per_mwh : np.ndarray, shape (n,)
        Auction clearing price per product; a NaN product does not clear. [EUR/MWh]
    intents : list of IntradayIntent
        One per site: the net sell per product (rounded to ``lot_mwh``) and its limits.
    fee_eur_per_mwh : float
        Fee per MWh the site pays. [EUR/MWh]
    lot_mwh : float
        Quantity grid. [MWh]
    ts_ns : int
        The auction's time. [ns since the epoch, UTC]
    first_trade_id : int
        Id of the first trade (ids count up).

    Returns
    -------
    SessionResult
        Per site and for the venue: sold MWh, cash and fees per product; one
        trade per cleared order, at the auction price.

    Raises
    ------
    ValueError
        If the price vector and the products differ in length.
    """
    prices = np.asarray(price_eur_per_mwh, dtype=float)
    n = len(products)
    if prices.shape != (n,):
        raise ValueError(f"price_eur_per_mwh has shape {prices.shape}, expected ({n},)")
    venue = ParticipantResult(np.zeros(n), np.zeros(n), np.zeros(n))
    results: dict[str, ParticipantResult] = {}
    trades: list[Trade] = []
    trade_id = first_trade_id
    for intent in intents:
        site = intent.state.site_id
        mine = results[site] = ParticipantResult(np.zeros(n), np.zeros(n), np.zeros(n))
        lots = np.round(np.asarray(intent.sell_mwh, dtype=float) / lot_mwh).astype(np.int64)
        for k in np.flatnonzero(lots):
            price = float(prices[k])
            if not np.isfinite(price) or not intent.accepts(int(k), price):
                continue
            lots_k = int(abs(lots[k]))
            q = lots_k * lot_mwh
            sign = 1.0 if lots[k] > 0 else -1.0
            mine.sell_mwh[k] += sign * q
            mine.cash_eur[k] += sign * q * price
            mine.fees_eur[k] += q * fee_eur_per_mwh
            venue.sell_mwh[k] -= sign * q
            venue.cash_eur[k] -= sign * q * price
            seller, buyer = (site, VENUE) if sign > 0 else (VENUE, site)
            trades.append(
                Trade(
                    trade_id=trade_id,
                    product=products[k].product_id,
                    buy_order_id=0,
                    sell_order_id=0,
                    buyer=buyer,
                    seller=seller,
                    quantity_lots=lots_k,
                    price_eur_per_mwh=price,
                    aggressor=Side.SELL if sign > 0 else Side.BUY,
                    ts_ns=ts_ns,
                )
            )
            trade_id += 1
    results[VENUE] = venue
    return SessionResult(products, results, trades, lot_mwh, ts_ns)
