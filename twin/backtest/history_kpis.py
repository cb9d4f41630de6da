"""Daily figures of a live site from its recorded control steps (the live history).

Each step holds from its market time to the next step's: energy = power x
that span, revenue = price x energy (the schedule valued at the day-ahead
price, as the live ETRM service does). Days are local calendar days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from twin.units import KWH_PER_MWH


def daily_from_history(rows: Iterable[Mapping[str, Any]], tz: str) -> pd.DataFrame:
    """Per local day: energy charged and discharged, market value, SoC range, steps, safe steps, overrides.

    Parameters
    ----------
    rows : iterable of mapping
        Control steps of one site in time order, with ``market_utc``, ``power_kw``,
        ``soc``, ``price_eur_per_mwh``, ``safe``, ``external`` (as the live history).
    tz : str

    Returns
    -------
    pd.DataFrame
        ``date, charged_kwh, discharged_kwh, revenue_eur, soc_min, soc_max,
        steps, safe_steps, override_steps``; empty without two timed steps.
    """
    frame = pd.DataFrame(list(rows))
    columns = ["date", "charged_kwh", "discharged_kwh", "revenue_eur", "soc_min", "soc_max", "steps", "safe_steps", "override_steps"]
    if len(frame) < 2 or "market_utc" not in frame:
        return pd.DataFrame(columns=columns)
    for name in ("power_kw", "soc", "price_eur_per_mwh", "safe", "external"):
        if name not in frame:
            frame[name] = np.nan
    t = pd.to_datetime(frame["market_utc"], utc=True, format="ISO8601")
    span_h = (t.shift(-1) - t).dt.total_seconds().fillna(0.0).clip(lower=0.0).to_numpy() / 3600.0
    power = pd.to_numeric(frame["power_kw"], errors="coerce").fillna(0.0).to_numpy()
    price = pd.to_numeric(frame["price_eur_per_mwh"], errors="coerce").fillna(0.0).to_numpy()
    energy = power * span_h
    out = pd.DataFrame({
        "date": t.dt.tz_convert(tz).dt.date, "charged_kwh": np.clip(-energy, 0, None), "discharged_kwh": np.clip(energy, 0, None),
        "revenue_eur": price * energy / KWH_PER_MWH, "soc": pd.to_numeric(frame["soc"], errors="coerce"),
        "safe": frame["safe"].fillna(0).astype(int), "external": frame["external"].fillna(0).astype(int),
    })  # fmt: skip
    daily = out.groupby("date", as_index=False).agg(
        charged_kwh=("charged_kwh", "sum"), discharged_kwh=("discharged_kwh", "sum"), revenue_eur=("revenue_eur", "sum"),
        soc_min=("soc", "min"), soc_max=("soc", "max"), steps=("soc", "size"), safe_steps=("safe", "sum"),
        override_steps=("external", "sum"),
    )  # fmt: skip
    return daily[columns]
