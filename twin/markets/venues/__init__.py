"""Trading bridge: one adapter interface, one adapter per venue.

``INTERNAL`` is the twin's own continuous exchange; ``EPEX_DAY_AHEAD`` the
day-ahead auction (price-taker against historical clearing prices, with the
real gate closure); ``APG`` the schedule nomination of the balance group to the
Austrian TSO, written as a file. A real EPEX or APG client is another class
with the same methods (see :class:`twin.markets.venues.base.VenueAdapter`).
"""

from twin.markets.venues.apg import ApgScheduleVenue
from twin.markets.venues.base import TradingBridge, VenueAck, VenueAdapter, VenueFill
from twin.markets.venues.epex_day_ahead import EpexDayAheadVenue
from twin.markets.venues.internal import InternalVenue

__all__ = [
    "ApgScheduleVenue",
    "EpexDayAheadVenue",
    "InternalVenue",
    "TradingBridge",
    "VenueAck",
    "VenueAdapter",
    "VenueFill",
]
