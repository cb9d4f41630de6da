"""Intraday products: one delivery period of one market, with its gate closure.

A product id is readable and sorts by delivery time within a market::

    DE-LU:2023-06-14T10:00Z:60      market : delivery start (UTC) : minutes

Gate closure of continuous intraday trading is ``gate_closure_min`` minutes
before delivery starts (EPEX SPOT cross-border SIDC: 60 min; within a German
control area: 5 min).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

_FORMAT = "%Y-%m-%dT%H:%MZ"
NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Product:
    """One tradable delivery period.

    Attributes
    ----------
    product_id : str
    market : str
        Bidding zone, e.g. ``DE-LU``.
    delivery_start_ns : int
        Start of delivery. [ns since the epoch, UTC]
    duration_min : int
        Length of the delivery period. [min]
    gate_closure_ns : int
        Last moment orders are accepted. [ns since the epoch, UTC]
    """

    product_id: str
    market: str
    delivery_start_ns: int
    duration_min: int
    gate_closure_ns: int

    @property
    def dt_h(self) -> float:
        """Length of the delivery period. [h]"""
        return self.duration_min / 60.0

    @property
    def delivery_start(self) -> pd.Timestamp:
        """Start of delivery (UTC)."""
        return pd.Timestamp(self.delivery_start_ns, tz="UTC")


def product_id(market: str, delivery_start: pd.Timestamp, duration_min: int) -> str:
    """Id of the product of ``market`` delivering from ``delivery_start`` for ``duration_min``."""
    start = pd.Timestamp(delivery_start).tz_convert("UTC")
    return f"{market}:{start.strftime(_FORMAT)}:{int(duration_min)}"


def make_product(
    market: str, delivery_start: pd.Timestamp, duration_min: int, gate_closure_min: float = 60.0
) -> Product:
    """Build a product; gate closure ``gate_closure_min`` before delivery. [min]

    Raises
    ------
    ValueError
        If ``delivery_start`` is naive (no time zone) or the duration is not positive.
    """
    start = pd.Timestamp(delivery_start)
    if start.tzinfo is None:
        raise ValueError(f"delivery_start {start} has no time zone; give it in UTC")
    if duration_min <= 0:
        raise ValueError(f"duration_min {duration_min} must be > 0")
    start_ns = int(start.tz_convert("UTC").value)
    return Product(
        product_id(market, start, duration_min),
        market,
        start_ns,
        int(duration_min),
        start_ns - int(gate_closure_min * 60 * NS_PER_S),
    )


def day_products(
    market: str,
    start_utc: pd.Timestamp,
    n_steps: int,
    dt_h: float,
    gate_closure_min: float = 60.0,
) -> list[Product]:
    """The ``n_steps`` consecutive products of ``dt_h`` hours from ``start_utc``. [h]"""
    index = pd.date_range(start_utc, periods=n_steps, freq=pd.Timedelta(hours=dt_h))
    return [make_product(market, ts, round(dt_h * 60), gate_closure_min) for ts in index]


def market_of(pid: str) -> str:
    """Market part of a product id (``DE-LU`` of ``DE-LU:2023-06-14T10:00Z:60``)."""
    return str(pid).split(":", 1)[0]


def parse_product_id(pid: str) -> tuple[str, pd.Timestamp, int]:
    """Split ``MARKET:START:MINUTES`` into market, UTC delivery start and minutes.

    Raises
    ------
    ValueError
        If ``pid`` does not have that form.
    """
    try:
        market, rest = pid.split(":", 1)
        start_text, minutes = rest.rsplit(":", 1)
        start = pd.Timestamp(start_text)
        if start.tzinfo is None:
            raise ValueError("naive start")
        return market, start.tz_convert("UTC"), int(minutes)
    except ValueError:
        raise ValueError(f"product {pid!r} is not MARKET:START:MINUTES") from None
