"""Unit conversions used across the domain.

Power is in kW and energy in kWh inside the code; market prices are in EUR/MWh.
"""

from __future__ import annotations

KWH_PER_MWH: float = 1000.0
"""kWh in one MWh. [kWh/MWh]"""

SECONDS_PER_HOUR: float = 3600.0
"""Seconds in one hour. [s/h]"""


def revenue_eur(power_kw: float, price_eur_per_mwh: float, dt_h: float) -> float:
    """Market revenue of one interval at the point of common coupling.

    Parameters
    ----------
    power_kw : float
        Power at the PCC; positive discharges (sells), negative charges (buys). [kW]
    price_eur_per_mwh : float
        Price of the interval. [EUR/MWh]
    dt_h : float
        Interval length. [h]

    Returns
    -------
    float
        ``power_kw * dt_h / 1000 * price_eur_per_mwh``; negative when buying at a
        positive price. [EUR]
    """
    return power_kw * dt_h / KWH_PER_MWH * price_eur_per_mwh
