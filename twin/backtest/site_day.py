"""What a site reports after delivering one day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from twin.types import FloatArray


@dataclass(frozen=True)
class SiteDay:
    """Delivery and settlement of one site for one delivery day (n steps).

    Attributes
    ----------
    site_id : str
    delivery_date : datetime.date
    schedule_kw : np.ndarray, shape (n,)
        Schedule the plant follows: day-ahead award plus intraday trades;
        positive discharges. [kW]
    power_kw : np.ndarray, shape (n,)
        Mean power the battery delivered at the PCC in each step. [kW]
    energy_kwh : np.ndarray, shape (n,)
        Stored energy at the end of each step. [kWh]
    soc : np.ndarray, shape (n,)
        SoC reported by the battery at the end of each step. [fraction]
    revenue_eur : np.ndarray, shape (n,)
        Market revenue of each step: day-ahead plus intraday trade cash minus
        fees plus imbalance settlement. [EUR]
    day_ahead_revenue_eur : np.ndarray, shape (n,)
        ``price * day_ahead_kw * dt_h / 1000``. [EUR]
    imbalance_kwh : np.ndarray, shape (n,)
        Delivered minus scheduled energy (positive: long). [kWh]
    imbalance_price_eur_per_mwh : np.ndarray, shape (n,)
        Price the deviation settled at. [EUR/MWh]
    imbalance_eur : np.ndarray, shape (n,)
        Imbalance cash flow (positive: paid to the site). [EUR]
    temperature_c : np.ndarray, shape (n,)
        Cell temperature at the end of each step. [°C]
    soh : np.ndarray, shape (n,)
        State of health at the end of each step. [fraction]
    forecast_eur_per_mwh : np.ndarray, shape (n,)
        Price forecast the plan was made with. [EUR/MWh]
    used_milp : bool
        The plan needed the negative-price MILP fallback.
    day_ahead_kw : np.ndarray, shape (n,)
        Power awarded in the day-ahead auction. [kW]
    intraday_kw : np.ndarray, shape (n,)
        Net intraday trades (positive: sold). [kW]
    intraday_revenue_eur : np.ndarray, shape (n,)
        Intraday trade cash: sells minus buys. [EUR]
    fees_eur : np.ndarray, shape (n,)
        Exchange fees paid. [EUR]
    load_kw, pv_kw : np.ndarray, shape (n,), optional
        Measured load and PV fed in (after curtailment); None: the site has none. [kW]
    pv_curtailed_kw : np.ndarray, shape (n,), optional
        PV curtailed to hold the feed-in limit. [kW]
    grid_kw : np.ndarray, shape (n,), optional
        PCC flow ``load_kw - pv_kw - power_kw``, positive importing; None: ``-power_kw``. [kW]
    fcr_band_kw : np.ndarray, shape (n,), optional
        FCR band held. [kW]
    fcr_revenue_eur : np.ndarray, shape (n,), optional
    fcr_activation_kwh : np.ndarray, shape (n,), optional
        Droop energy the frequency asked of the FCR band in each step, discharge
        positive (a replay of recorded frequency). [kWh]
    fcr_shortfall_kwh : np.ndarray, shape (n,), optional
        The part of that energy the plant did not deliver (held at its SoC or
        power limits), in the droop's direction: FCR not provided. [kWh]
        FCR capacity revenue (also in ``revenue_eur``). [EUR]
    energy_bill_eur, energy_bill_without_battery_eur : np.ndarray, shape (n,), optional
        Tariff energy bill of the PCC flow with the battery and without it (same
        tariff, same curtailment rule). [EUR]
    strategy : str
        The strategy that planned the day.
    """

    site_id: str
    delivery_date: dt.date
    schedule_kw: FloatArray
    power_kw: FloatArray
    energy_kwh: FloatArray
    soc: FloatArray
    revenue_eur: FloatArray
    day_ahead_revenue_eur: FloatArray
    imbalance_kwh: FloatArray
    imbalance_price_eur_per_mwh: FloatArray
    imbalance_eur: FloatArray
    temperature_c: FloatArray
    soh: FloatArray
    forecast_eur_per_mwh: FloatArray
    used_milp: bool
    day_ahead_kw: FloatArray
    intraday_kw: FloatArray
    intraday_revenue_eur: FloatArray
    fees_eur: FloatArray
    load_kw: FloatArray | None = None
    pv_kw: FloatArray | None = None
    pv_curtailed_kw: FloatArray | None = None
    grid_kw: FloatArray | None = None
    fcr_band_kw: FloatArray | None = None
    fcr_revenue_eur: FloatArray | None = None
    fcr_activation_kwh: FloatArray | None = None
    fcr_shortfall_kwh: FloatArray | None = None
    energy_bill_eur: FloatArray | None = None
    energy_bill_without_battery_eur: FloatArray | None = None
    strategy: str = "arbitrage"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the per-step arrays as one block of bytes.

        A day of a fleet crosses process boundaries (Ray actors to the driver,
        spill files) once per site; pickling some 20 small arrays one by one
        costs about three times as much as one block. Arrays come back
        writable, float64, one row of the block each.
        """
        values = self.__dict__
        arrays = tuple(name for name in _FIELDS if type(values[name]) is np.ndarray)
        n = len(self.power_kw)
        if not all(values[name].shape == (n,) and values[name].dtype == np.float64 for name in arrays):
            return (_site_day, ({name: values[name] for name in _FIELDS}, (), 0, b""))
        rest = {name: values[name] for name in _FIELDS if name not in arrays}
        return (_site_day, (rest, arrays, n, np.concatenate([values[name] for name in arrays]).tobytes()))


_FIELDS = tuple(f.name for f in fields(SiteDay))


def _site_day(rest: dict[str, Any], arrays: tuple[str, ...], n: int, raw: bytes) -> SiteDay:
    """Rebuild a :class:`SiteDay` pickled by ``SiteDay.__reduce__``."""
    block = np.frombuffer(bytearray(raw), dtype=np.float64).reshape(len(arrays), n)
    values: dict[str, Any] = {**rest, **dict(zip(arrays, block, strict=True))}
    return SiteDay(**values)
