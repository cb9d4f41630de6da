"""The exchange's vocabulary: commands in, acknowledgements and events out.

A command (:class:`Submit`, :class:`Cancel`, :class:`Modify`) is what a
participant asks; an :class:`Ack` is the answer, sent after the journal commit;
an :class:`Event` is what everyone may see (the API forwards them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from twin.errors import SimulationError
from twin.markets.exchange.orders import OrderRequest, OrderView, Rejection, Trade

ParticipantKind = Literal["site", "trader"]


class JournalError(SimulationError):
    """The journal cannot be replayed to the state it records."""


@dataclass(frozen=True)
class Submit:
    """Command: place ``request`` at ``ts_ns``."""

    request: OrderRequest
    ts_ns: int


@dataclass(frozen=True)
class Cancel:
    """Command: cancel an order's open quantity."""

    participant: str
    order_id: int
    ts_ns: int


@dataclass(frozen=True)
class Modify:
    """Command: new limit price and/or new open quantity. [EUR/MWh, MWh]"""

    participant: str
    order_id: int
    ts_ns: int
    price_eur_per_mwh: float | None = None
    quantity_mwh: float | None = None


Command = Submit | Cancel | Modify


@dataclass(frozen=True)
class Ack:
    """The exchange's answer to one command, sent after the journal commit.

    Attributes
    ----------
    accepted : bool
    order : OrderView or None
        The order after the command (None when rejected).
    rejection : Rejection or None
    trades : tuple of Trade
    seq : int or None
        Journal sequence number of the command.
    """

    accepted: bool
    order: OrderView | None
    rejection: Rejection | None
    trades: tuple[Trade, ...] = ()
    seq: int | None = None


@dataclass(frozen=True)
class Event:
    """One entry of the exchange's event stream."""

    seq: int
    ts_ns: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
