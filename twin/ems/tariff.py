"""A site's tariff as price vectors, its energy bill, and monthly demand charges.

Import price per MWh: the fixed energy price, or the day-ahead price plus the
supplier's markup, plus grid fee and taxes. Export price: the feed-in tariff,
the day-ahead price, or nothing. The meter nets a step: a step either imports
``max(grid_kw, 0)`` or exports ``max(-grid_kw, 0)``. Demand charges: one
billing period per calendar month of the market's time zone, charged on the
period's highest step-mean import.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.config.ems import TariffConfig
from twin.types import FloatArray
from twin.units import KWH_PER_MWH


def import_price_eur_per_mwh(tariff: TariffConfig, day_ahead_eur_per_mwh: FloatArray) -> FloatArray:
    """Price of each imported MWh, shape of ``day_ahead_eur_per_mwh``. [EUR/MWh]"""
    da = np.asarray(day_ahead_eur_per_mwh, dtype=float)
    adders = (tariff.grid_fee_eur_per_kwh + tariff.taxes_eur_per_kwh) * KWH_PER_MWH
    if tariff.import_kind == "fixed":
        return np.full(da.shape, tariff.import_fixed_eur_per_kwh * KWH_PER_MWH + adders)
    return da + tariff.import_markup_eur_per_kwh * KWH_PER_MWH + adders


def export_price_eur_per_mwh(tariff: TariffConfig, day_ahead_eur_per_mwh: FloatArray) -> FloatArray:
    """Remuneration of each exported MWh, shape of ``day_ahead_eur_per_mwh``. [EUR/MWh]"""
    da = np.asarray(day_ahead_eur_per_mwh, dtype=float)
    if tariff.export_kind == "day_ahead":
        return da.copy()
    if tariff.export_kind == "feed_in_tariff":
        return np.full(da.shape, tariff.feed_in_tariff_eur_per_kwh * KWH_PER_MWH)
    return np.zeros(da.shape)


def energy_bill_eur(
    grid_kw: FloatArray, import_eur_per_mwh: FloatArray, export_eur_per_mwh: FloatArray, dt_h: float
) -> FloatArray:
    """Energy bill of each step: imports paid minus exports remunerated.

    Parameters
    ----------
    grid_kw : np.ndarray, shape (T,)
        PCC flow, positive importing. [kW]
    import_eur_per_mwh, export_eur_per_mwh : np.ndarray, shape (T,)
        Tariff prices. [EUR/MWh]
    dt_h : float
        Step length. [h]

    Returns
    -------
    np.ndarray, shape (T,)
        Cost per step (negative: the site is paid). [EUR]
    """
    grid = np.asarray(grid_kw, dtype=float)
    imp, exp = np.clip(grid, 0.0, None), np.clip(-grid, 0.0, None)
    bill = (import_eur_per_mwh * imp - export_eur_per_mwh * exp) * dt_h / KWH_PER_MWH
    return np.asarray(bill, dtype=float)


def billing_period_of_step(index_utc: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """Billing period (calendar month in ``timezone``) of each step as ``year * 12 + month - 1``."""
    local = index_utc.tz_convert(timezone)
    return np.asarray(local.year * 12 + local.month - 1, dtype=int)


def monthly_peaks_kw(grid_kw: FloatArray, period: np.ndarray) -> dict[int, float]:
    """Highest import of each billing period (0 when a period only exports). [kW]"""
    grid = np.clip(np.asarray(grid_kw, dtype=float), 0.0, None)
    out: dict[int, float] = {}
    for p in np.unique(period):
        out[int(p)] = float(grid[period == p].max())
    return out


def period_label(period: int) -> str:
    """``YYYY-MM`` of a billing period number from :func:`billing_period_of_step`."""
    return f"{period // 12:04d}-{period % 12 + 1:02d}"
