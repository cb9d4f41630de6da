"""Adapter of the twin's own continuous exchange."""

from __future__ import annotations

from twin.markets.exchange.exchange import Exchange
from twin.markets.exchange.orders import OrderRequest, Side, Venue
from twin.markets.venues.base import VenueAck, VenueFill


class InternalVenue:
    """Routes orders to an :class:`twin.markets.exchange.exchange.Exchange`.

    Parameters
    ----------
    exchange : Exchange
    """

    venue = Venue.INTERNAL

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def submit(self, request: OrderRequest, ts_ns: int) -> VenueAck:
        """Place the order; its immediate trades come back as fills of the requester."""
        ack = self.exchange.submit(request, ts_ns)
        if not ack.accepted:
            return VenueAck(False, self.venue, rejection=ack.rejection)
        lot = self.exchange.engine.config.lot_mwh
        side = Side(request.side)
        fills = tuple(
            VenueFill(self.venue, request.participant, t.product, side,
                      t.quantity_lots * lot, t.price_eur_per_mwh, t.ts_ns)
            for t in ack.trades
        )
        assert ack.order is not None  # an accepted order has a view
        return VenueAck(True, self.venue, str(ack.order.order_id), fills=fills)
