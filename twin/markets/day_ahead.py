"""Day-ahead auction, cleared as a price-taker against historical prices.

A site submits its schedule as price-independent volume bids for each market
time unit of delivery day D (sell where it discharges, buy where it charges).
A price-taker does not move the price, so the auction awards every volume at
the historical clearing price of its MTU. This is the standard assumption for
a battery that is small against the bidding zone (tens of MW against ~60 GW).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from twin.errors import SimulationError
from twin.markets.imbalance import ImbalancePrices
from twin.types import FloatArray


@dataclass(frozen=True)
class Bid:
    """Volume bids of one site for every MTU of one delivery day.

    Attributes
    ----------
    site_id : str
    delivery_date : datetime.date
        Local delivery day.
    power_kw : np.ndarray, shape (n_steps,)
        Scheduled power per MTU at the PCC; positive sells (discharge), negative buys. [kW]
    """

    site_id: str
    delivery_date: dt.date
    power_kw: FloatArray


@dataclass(frozen=True)
class Clearing:
    """Result of the day-ahead auction for one delivery day.

    Attributes
    ----------
    delivery_date : datetime.date
    price_eur_per_mwh : np.ndarray, shape (n_steps,)
        Clearing price per MTU. [EUR/MWh]
    awards_kw : dict of str to np.ndarray, shape (n_steps,)
        Awarded power per site; positive sells. [kW]
    imbalance : ImbalancePrices or None
        Prices at which deviations from the awards settle; ``None``: at the
        day-ahead price (no penalty).
    """

    delivery_date: dt.date
    price_eur_per_mwh: FloatArray
    awards_kw: dict[str, FloatArray] = field(default_factory=dict)
    imbalance: ImbalancePrices | None = None


def clear_price_taker(
    delivery_date: dt.date,
    price_eur_per_mwh: FloatArray,
    bids: list[Bid],
    imbalance: ImbalancePrices | None = None,
) -> Clearing:
    """Award every volume bid at the historical clearing price.

    Parameters
    ----------
    delivery_date : datetime.date
    price_eur_per_mwh : np.ndarray, shape (n_steps,)
        Historical clearing prices of the day. [EUR/MWh]
    bids : list of Bid
        One bid per site, each with ``n_steps`` volumes.
    imbalance : ImbalancePrices, optional
        Imbalance prices of the day, passed through to the sites.

    Returns
    -------
    Clearing

    Raises
    ------
    SimulationError
        If a bid is for another day, has the wrong length, holds NaN, or a site
        bids twice.
    """
    awards: dict[str, FloatArray] = {}
    n = len(price_eur_per_mwh)
    for bid in bids:
        if bid.delivery_date != delivery_date:
            raise SimulationError(
                f"bid of {bid.site_id} is for {bid.delivery_date}, auction is for {delivery_date}"
            )
        if bid.power_kw.shape != (n,) or not np.isfinite(bid.power_kw).all():
            raise SimulationError(
                f"bid of {bid.site_id} for {delivery_date} must hold {n} finite volumes, "
                f"got shape {bid.power_kw.shape}"
            )
        if bid.site_id in awards:
            raise SimulationError(f"site {bid.site_id} bid twice for {delivery_date}")
        awards[bid.site_id] = bid.power_kw.copy()
    prices = np.asarray(price_eur_per_mwh, dtype=float).copy()
    return Clearing(delivery_date, prices, awards, imbalance)
