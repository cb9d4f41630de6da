"""EPEX SPOT day-ahead auction as a price-taker, with its real gate closure.

Orders for delivery day D are collected until the gate closure, D-1 12:00
local time (Europe/Berlin for DE-LU, Europe/Vienna for AT: the SDAC gate).
:meth:`EpexDayAheadVenue.clear` then executes every order whose limit the
historical clearing price of its MTU satisfies (a BUY at or above the price,
a SELL at or below), in full, at that price. A small battery does not move
the price of a bidding zone, so the historical price is its clearing price.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from twin.markets.exchange.orders import OrderRequest, Rejection, RejectReason, Side, Venue
from twin.markets.products import NS_PER_S, parse_product_id
from twin.markets.venues.base import VenueAck, VenueFill


@dataclass(frozen=True)
class _Bid:
    request: OrderRequest
    delivery_start: pd.Timestamp
    ts_ns: int


class EpexDayAheadVenue:
    """Day-ahead auction against historical clearing prices.

    Parameters
    ----------
    price_eur_per_mwh : pd.Series
        Historical clearing prices, tz-aware UTC index of MTU starts. [EUR/MWh]
    timezone : str
        Local market time of the gate, e.g. ``Europe/Berlin``.
    gate_closure_local : datetime.time
        Gate closure on D-1 (SDAC: 12:00).
    """

    venue = Venue.EPEX_DAY_AHEAD

    def __init__(
        self,
        price_eur_per_mwh: pd.Series,
        timezone: str = "Europe/Berlin",
        gate_closure_local: dt.time = dt.time(12, 0),
    ) -> None:
        self.prices = price_eur_per_mwh
        self.timezone = timezone
        self.gate_closure_local = gate_closure_local
        self._bids: list[_Bid] = []
        self._n = 0

    def gate_closure(self, delivery_start: pd.Timestamp) -> pd.Timestamp:
        """Gate closure of the auction that delivers at ``delivery_start`` (UTC)."""
        local_day = delivery_start.tz_convert(self.timezone).normalize()
        previous = (local_day - pd.Timedelta(days=1)).date()
        gate = pd.Timestamp(dt.datetime.combine(previous, self.gate_closure_local))
        return gate.tz_localize(self.timezone).tz_convert("UTC")

    def submit(self, request: OrderRequest, ts_ns: int) -> VenueAck:
        """Collect a bid for the MTU starting at the product's delivery start."""
        try:
            _, start, _ = parse_product_id(request.product)
        except ValueError as err:
            return self._reject(request, RejectReason.UNKNOWN_PRODUCT, str(err))
        if start not in self.prices.index:
            return self._reject(request, RejectReason.UNKNOWN_PRODUCT,
                                f"no day-ahead MTU starts at {start} in the price series")
        gate = self.gate_closure(start)
        if ts_ns >= gate.value:
            return self._reject(
                request, RejectReason.VENUE_CLOSED,
                f"the day-ahead gate for {start.tz_convert(self.timezone).date()} closed at "
                f"{gate.tz_convert(self.timezone)}; trade it intraday instead",
            )
        if not (request.quantity_mwh > 0 and math.isfinite(request.quantity_mwh)):
            return self._reject(request, RejectReason.INVALID_QUANTITY,
                                f"quantity_mwh {request.quantity_mwh} must be > 0")
        if not math.isfinite(request.price_eur_per_mwh):
            return self._reject(request, RejectReason.INVALID_PRICE,
                                f"price_eur_per_mwh {request.price_eur_per_mwh} is not finite")
        self._bids.append(_Bid(request, start, ts_ns))
        self._n += 1
        return VenueAck(True, self.venue, f"DA-{self._n}")

    def clear(self, delivery_date: dt.date) -> list[VenueFill]:
        """Run the auction of local ``delivery_date``: fill the bids the price allows."""
        fills, kept = [], []
        for bid in self._bids:
            if bid.delivery_start.tz_convert(self.timezone).date() != delivery_date:
                kept.append(bid)
                continue
            price = float(self.prices.loc[bid.delivery_start])
            r = bid.request
            if (r.side is Side.BUY and r.price_eur_per_mwh >= price) or (
                r.side is Side.SELL and r.price_eur_per_mwh <= price
            ):
                gate = self.gate_closure(bid.delivery_start)
                fills.append(VenueFill(self.venue, r.participant, r.product, Side(r.side),
                                       r.quantity_mwh, price, int(gate.value) + 45 * 60 * NS_PER_S))
        self._bids = kept
        return fills

    def _reject(self, request: OrderRequest, reason: RejectReason, message: str) -> VenueAck:
        return VenueAck(False, self.venue, rejection=Rejection(
            reason, message, request.participant, request.client_order_id))
