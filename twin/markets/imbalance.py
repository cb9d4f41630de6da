"""Imbalance settlement: deviations from the traded schedule, priced per MTU.

A site that delivers more than it sold (or buys less than it bought) is *long*
and sells the surplus to the transmission system operator; one that delivers
less is *short* and buys the gap. Where measured imbalance prices exist (a single
price per MTU, as Germany's reBAP), both directions settle at that price. Where
they do not, the model uses a penalty spread around the day-ahead price: long
energy earns ``DA - spread``, short energy costs ``DA + spread``, so every
deviation costs money whichever way the system was.

References
----------
.. [1] ENTSO-E, *Electricity Balancing Guideline* (Commission Regulation (EU)
   2017/2195), Art. 52-55: imbalance settlement, single imbalance pricing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.types import FloatArray
from twin.units import KWH_PER_MWH


@dataclass(frozen=True)
class ImbalancePrices:
    """Imbalance prices of one delivery day (n MTUs).

    Attributes
    ----------
    short_eur_per_mwh : np.ndarray, shape (n,)
        Price a short site pays per MWh it failed to deliver. [EUR/MWh]
    long_eur_per_mwh : np.ndarray, shape (n,)
        Price a long site earns per MWh of surplus. [EUR/MWh]
    """

    short_eur_per_mwh: FloatArray
    long_eur_per_mwh: FloatArray


def imbalance_prices(
    day_ahead_eur_per_mwh: npt.ArrayLike,
    spread_eur_per_mwh: float,
    measured_eur_per_mwh: npt.ArrayLike | None = None,
) -> ImbalancePrices:
    """Imbalance prices from measured data or from a spread around the day-ahead price.

    Parameters
    ----------
    day_ahead_eur_per_mwh : array-like, shape (n,)
        Day-ahead clearing prices. [EUR/MWh]
    spread_eur_per_mwh : float
        Penalty spread (>= 0), used when ``measured_eur_per_mwh`` is None. [EUR/MWh]
    measured_eur_per_mwh : array-like, shape (n,), optional
        Single imbalance price per MTU. [EUR/MWh]

    Returns
    -------
    ImbalancePrices

    Raises
    ------
    ValueError
        If the spread is negative or the two price arrays differ in shape.
    """
    if spread_eur_per_mwh < 0:
        raise ValueError(f"spread_eur_per_mwh must be >= 0, got {spread_eur_per_mwh}")
    da = np.asarray(day_ahead_eur_per_mwh, dtype=float)
    if measured_eur_per_mwh is not None:
        measured = np.asarray(measured_eur_per_mwh, dtype=float)
        if measured.shape != da.shape:
            raise ValueError(
                f"measured imbalance prices have shape {measured.shape}, day-ahead {da.shape}"
            )
        return ImbalancePrices(measured.copy(), measured.copy())
    return ImbalancePrices(da + spread_eur_per_mwh, da - spread_eur_per_mwh)


def settle_imbalance(
    imbalance_kwh: npt.ArrayLike, prices: ImbalancePrices
) -> tuple[FloatArray, FloatArray]:
    """Cash flow of each MTU's deviation.

    Parameters
    ----------
    imbalance_kwh : array-like, shape (n,)
        Delivered minus scheduled energy at the PCC (positive: long, the site
        exported more or imported less than traded). [kWh]
    prices : ImbalancePrices

    Returns
    -------
    price_eur_per_mwh : np.ndarray, shape (n,)
        The price each deviation settled at. [EUR/MWh]
    cash_eur : np.ndarray, shape (n,)
        ``imbalance_kwh / 1000 * price``: positive when the site is paid. [EUR]
    """
    deviation = np.asarray(imbalance_kwh, dtype=float)
    price = np.where(deviation >= 0, prices.long_eur_per_mwh, prices.short_eur_per_mwh)
    return price, deviation / KWH_PER_MWH * price
