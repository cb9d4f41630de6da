"""The venue adapter interface and the router that picks an adapter by venue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from twin.markets.exchange.orders import OrderRequest, Rejection, RejectReason, Side, Venue


@dataclass(frozen=True)
class VenueFill:
    """Quantity a venue has executed for a participant. [MWh, EUR/MWh]"""

    venue: Venue
    participant: str
    product: str
    side: Side
    quantity_mwh: float
    price_eur_per_mwh: float
    ts_ns: int


@dataclass(frozen=True)
class VenueAck:
    """A venue's answer to an order: accepted (with any immediate fills) or rejected."""

    accepted: bool
    venue: Venue
    reference: str | None = None
    rejection: Rejection | None = None
    fills: tuple[VenueFill, ...] = ()


class VenueAdapter(Protocol):
    """What every venue adapter offers; a real exchange client implements the same."""

    venue: Venue

    def submit(self, request: OrderRequest, ts_ns: int) -> VenueAck:
        """Send ``request`` at ``ts_ns`` [ns, UTC]; the ack says whether the venue took it."""
        ...


class TradingBridge:
    """Routes each order to the adapter of its ``venue``.

    Parameters
    ----------
    adapters : iterable of VenueAdapter
    """

    def __init__(self, adapters: list[VenueAdapter]) -> None:
        self.adapters: dict[Venue, VenueAdapter] = {a.venue: a for a in adapters}

    def route(self, request: OrderRequest, ts_ns: int) -> VenueAck:
        """Send ``request`` to its venue; an unknown venue is rejected (VENUE_CLOSED)."""
        try:
            adapter = self.adapters[Venue(request.venue)]
        except (KeyError, ValueError):
            return VenueAck(
                False,
                Venue.INTERNAL,
                rejection=Rejection(
                    RejectReason.VENUE_CLOSED,
                    f"venue {request.venue!r} has no adapter here; "
                    f"configured: {', '.join(sorted(self.adapters))}",
                    request.participant,
                    request.client_order_id,
                ),
            )
        return adapter.submit(request, ts_ns)
