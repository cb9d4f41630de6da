"""Positions and P&L per participant and delivery product, from trades, marked to market.

A trade moves ``quantity_mwh`` from seller to buyer at ``price_eur_per_mwh``:
the buyer's position grows by the quantity and its cash falls by the value,
the seller's the other way round. A participant's P&L on a product marked at
price ``m`` is ``cash + net_mwh * m``: realised once the product is delivered
(marked at its settlement price), unrealised before.

References
----------
.. [1] J. C. Hull, "Options, Futures, and Other Derivatives", 10th ed., 2018,
   ch. 2 (marking to market).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.etrm.slots import step_hours

BOOK_COLUMNS = ["participant", "delivery_start_utc", "net_mwh", "cash_eur"]


def book(trades: pd.DataFrame) -> pd.DataFrame:
    """Net position and cash per participant and product.

    Parameters
    ----------
    trades : pd.DataFrame
        ``buyer, seller, delivery_start_utc, quantity_mwh, price_eur_per_mwh`` (as ``trades.parquet``).

    Returns
    -------
    pd.DataFrame
        :data:`BOOK_COLUMNS`, one row per participant and product; the net
        positions of each product sum to zero over its participants.
    """
    if trades.empty:
        return pd.DataFrame(columns=BOOK_COLUMNS)
    value = trades["quantity_mwh"] * trades["price_eur_per_mwh"]
    legs = pd.concat(
        [
            pd.DataFrame({"participant": trades["buyer"], "delivery_start_utc": trades["delivery_start_utc"],
                          "net_mwh": trades["quantity_mwh"], "cash_eur": -value}),  # fmt: skip
            pd.DataFrame({"participant": trades["seller"], "delivery_start_utc": trades["delivery_start_utc"],
                          "net_mwh": -trades["quantity_mwh"], "cash_eur": value}),  # fmt: skip
        ]
    )
    out = legs.groupby(["participant", "delivery_start_utc"], as_index=False)[["net_mwh", "cash_eur"]].sum()
    return out[BOOK_COLUMNS]


def mark_to_market(positions: pd.DataFrame, mark_eur_per_mwh: pd.Series, now_utc: pd.Timestamp) -> pd.DataFrame:
    """P&L per participant: realised on products delivered by ``now_utc``, unrealised on the open ones.

    Parameters
    ----------
    positions : pd.DataFrame
        From :func:`book`.
    mark_eur_per_mwh : pd.Series
        Mark (settlement or latest) price per ``delivery_start_utc``. [EUR/MWh]
    now_utc : pd.Timestamp
        Products starting before it count as delivered.

    Returns
    -------
    pd.DataFrame
        ``participant, open_mwh, realised_pnl_eur, unrealised_pnl_eur``.
    """
    marks = mark_eur_per_mwh.reindex(pd.DatetimeIndex(positions["delivery_start_utc"])).to_numpy(dtype=float)
    if np.isnan(marks).any():
        missing = positions["delivery_start_utc"][np.isnan(marks)].iloc[0]
        raise ValueError(f"no mark price for product {missing}; mark every product held")
    pnl = positions["cash_eur"].to_numpy() + positions["net_mwh"].to_numpy() * marks
    delivered = pd.DatetimeIndex(positions["delivery_start_utc"]) < now_utc
    frame = positions.assign(
        realised_pnl_eur=np.where(delivered, pnl, 0.0),
        unrealised_pnl_eur=np.where(delivered, 0.0, pnl),
        open_mwh=np.where(delivered, 0.0, positions["net_mwh"].to_numpy()),
    )
    return frame.groupby("participant", as_index=False)[["open_mwh", "realised_pnl_eur", "unrealised_pnl_eur"]].sum()


SITE_POSITION_COLUMNS = [
    "participant", "delivery_start_utc", "day_ahead_mwh", "intraday_mwh", "scheduled_mwh", "delivered_mwh",
    "imbalance_mwh", "mark_eur_per_mwh", "cash_eur", "realised_pnl_eur",
]  # fmt: skip
"""Columns of ``positions.parquet``."""


def site_positions(sites: pd.DataFrame) -> pd.DataFrame:
    """Net position and realised P&L per participant (each site, and ``fleet``) and delivery product.

    From ``sites.parquet``: the day-ahead award and the intraday trades sold
    (MWh, positive selling) make the scheduled position; what the plant
    delivered settles it, the rest is imbalance. Every product of a finished
    run is delivered, so its P&L is realised: the cash of the day-ahead and
    intraday trades, the fees and the imbalance settlement. The mark is the
    day-ahead price of the product.

    Parameters
    ----------
    sites : pd.DataFrame
        A run's ``sites.parquet``.

    Returns
    -------
    pd.DataFrame
        :data:`SITE_POSITION_COLUMNS`, one row per participant and product.
    """
    stamps = pd.DatetimeIndex(pd.to_datetime(sites["timestamp_utc"], utc=True))
    dt_h = step_hours(stamps)
    to_mwh = dt_h / 1000.0
    zeros = pd.Series(0.0, index=sites.index)

    def col(name: str) -> pd.Series:
        return sites[name] if name in sites else zeros

    cash = col("day_ahead_revenue_eur") + col("intraday_revenue_eur") - col("fees_eur") + col("imbalance_eur")
    frame = pd.DataFrame({
        "participant": sites["site_id"].astype(str), "delivery_start_utc": stamps,
        "day_ahead_mwh": col("day_ahead_kw") * to_mwh, "intraday_mwh": col("intraday_kw") * to_mwh,
        "delivered_mwh": sites["power_kw"] * to_mwh, "mark_eur_per_mwh": sites["price_eur_per_mwh"], "cash_eur": cash,
    })  # fmt: skip
    frame["scheduled_mwh"] = frame["day_ahead_mwh"] + frame["intraday_mwh"]
    frame["imbalance_mwh"] = frame["delivered_mwh"] - frame["scheduled_mwh"]
    frame["realised_pnl_eur"] = frame["cash_eur"]
    sums = ["day_ahead_mwh", "intraday_mwh", "scheduled_mwh", "delivered_mwh", "imbalance_mwh", "cash_eur", "realised_pnl_eur"]
    fleet = frame.groupby("delivery_start_utc", as_index=False).agg({**dict.fromkeys(sums, "sum"), "mark_eur_per_mwh": "first"})
    fleet["participant"] = "fleet"
    return pd.concat([frame, fleet], ignore_index=True)[SITE_POSITION_COLUMNS]
