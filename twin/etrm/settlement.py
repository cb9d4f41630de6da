"""Settlement of a backtest run into invoice lines per site, counterparty and month.

From ``sites.parquet`` (one row per site and step; ``power_kw > 0`` discharges):

* ``day-ahead exchange``: energy sold and bought at the auction
  (``day_ahead_kw``, ``day_ahead_revenue_eur``), one line each way;
* ``intraday exchange``: intraday energy each way (``intraday_kw``,
  ``intraday_revenue_eur``) and the trading fees (``fees_eur``);
* ``TSO (imbalance)``: imbalance energy each way (``imbalance_kwh``, ``imbalance_eur``);
* ``TSO (FCR)``: FCR capacity (``fcr_band_kw`` x hours, ``fcr_revenue_eur``);
* ``supplier (energy bill)``: a behind-the-meter site's energy bill (``energy_bill_eur``, negative: the site pays).

Amounts are positive when the site receives money. Each line's amount is the
sum of the steps' amounts, rounded to the cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.etrm.billing import InvoiceLine
from twin.etrm.slots import step_hours


@dataclass(frozen=True)
class Settlement:
    """The lines one site settles with one counterparty in one period."""

    site_id: str
    counterparty: str
    period_start: dt.date
    period_end: dt.date
    lines: tuple[InvoiceLine, ...]


def _split(frame: pd.DataFrame, kw: str, eur: str, dt_h: float, what: str) -> list[InvoiceLine]:
    """Two lines: energy sold (``kw > 0``) and bought (``kw < 0``), MWh and EUR each."""
    if kw not in frame or eur not in frame:
        return []
    power, money = frame[kw].to_numpy(dtype=float), frame[eur].to_numpy(dtype=float)
    out = []
    for label, mask in ((f"{what} sold", power > 1e-9), (f"{what} bought", power < -1e-9)):
        if mask.any():
            out.append(InvoiceLine.settled(label, float(np.abs(power[mask]).sum() * dt_h / 1000.0), "MWh", float(money[mask].sum())))
    return out


def settle(sites: pd.DataFrame, tz: str = "Europe/Berlin", period: str = "month") -> list[Settlement]:
    """Invoice lines per site, counterparty and local calendar month (or ``period="day"``) of a run's ``sites.parquet``.

    Returns
    -------
    list of Settlement
        Counterparties without any line are left out.
    """
    frame = sites.copy()
    stamps = pd.DatetimeIndex(pd.to_datetime(frame["timestamp_utc"], utc=True))
    dt_h = step_hours(stamps)
    local = stamps.tz_convert(tz)
    if period not in ("month", "day"):
        raise ValueError(f"period {period!r}: choose month or day")
    frame["month"] = local.strftime("%Y-%m" if period == "month" else "%Y-%m-%d")
    frame["date"] = local.date
    out = []
    for (site_id, _), part in frame.groupby(["site_id", "month"], sort=True):
        first, last = min(part["date"]), max(part["date"])
        lines: dict[str, list[InvoiceLine]] = {
            "day-ahead exchange": _split(part, "day_ahead_kw", "day_ahead_revenue_eur", dt_h, "Day-ahead energy"),
            "intraday exchange": _split(part, "intraday_kw", "intraday_revenue_eur", dt_h, "Intraday energy"),
            "TSO (imbalance)": [],
            "TSO (FCR)": [],
            "supplier (energy bill)": [],
        }
        fees = float(part.get("fees_eur", pd.Series(0.0)).sum())
        if abs(fees) > 0.004:
            lines["intraday exchange"].append(InvoiceLine.settled("Intraday trading fees", 1.0, "period", -fees))
        if "imbalance_kwh" in part:
            imb = part.assign(imbalance_kw=part["imbalance_kwh"] / dt_h)
            lines["TSO (imbalance)"] = _split(imb, "imbalance_kw", "imbalance_eur", dt_h, "Imbalance energy")
        if "fcr_band_kw" in part and (part["fcr_band_kw"] > 0).any():
            mw_h = float(part["fcr_band_kw"].sum() * dt_h / 1000.0)
            lines["TSO (FCR)"] = [InvoiceLine.settled("FCR capacity", mw_h, "MW h", float(part["fcr_revenue_eur"].sum()))]
        if "energy_bill_eur" in part and (part["energy_bill_eur"].abs() > 0).any():
            kwh = float(part["grid_kw"].clip(lower=0).sum() * dt_h / 1000.0)
            lines["supplier (energy bill)"] = [InvoiceLine.settled("Energy bill (import, fees, taxes, export credit)", kwh, "MWh imported", -float(part["energy_bill_eur"].sum()))]
        for counterparty, items in lines.items():
            if items:
                out.append(Settlement(str(site_id), counterparty, first, last, tuple(items)))
    return out
