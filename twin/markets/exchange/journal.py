"""The exchange's journal: what is written, in which row layout, behind which interface.

Every accepted command (order, cancel, modify, product open/close, participant
registration) is one journaled row; the trades it caused are rows with the
command's ``seq``; refused requests are kept for audit. A batch of commands is
written in **one** transaction (group commit): its rows, both orders of every
match and the trades land together or not at all, and the exchange
acknowledges the batch only after the store commits.

The store is injected (:class:`JournalStore`); ``twin.io.journal.SqliteJournal``
is the durable one. Without a store the exchange runs in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, Protocol

from twin.markets.exchange.orders import Trade

Synchronous = Literal["FULL", "NORMAL"]
"""Durability of a commit: ``FULL`` survives power loss, ``NORMAL`` a crash of the process."""

CommandRow = tuple[int, int, str, dict[str, Any]]
"""(seq, ts_ns, kind, body) of one journaled command."""

RejectionRow = tuple[int, str, str, str]
"""(ts_ns, participant, reason, message) of one refused request."""


def trade_row(seq: int, t: Trade) -> tuple[Any, ...]:
    """The ``trades`` row of trade ``t`` caused by command ``seq`` (column order)."""
    return (
        t.trade_id, seq, t.product, t.buy_order_id, t.sell_order_id, t.buyer,
        t.seller, t.quantity_lots, t.price_eur_per_mwh, str(t.aggressor), t.ts_ns,
    )


class JournalStore(Protocol):
    """Where the exchange's journal lives (``twin.io.journal.SqliteJournal``)."""

    path: Path
    last_seq: int

    def write(
        self,
        commands: list[CommandRow],
        trades: list[tuple[int, Trade]],
        rejections: Iterable[RejectionRow] = (),
    ) -> None:
        """Store one batch atomically; raise (storing nothing) if that fails."""

    def commands(self) -> Iterator[CommandRow]:
        """Every journaled command in ``seq`` order."""

    def trades(self) -> list[tuple[Any, ...]]:
        """Every journaled trade as a :func:`trade_row` tuple, in ``trade_id`` order."""

    def close(self) -> None:
        """Release the store."""
