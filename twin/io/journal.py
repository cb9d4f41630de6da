"""The exchange's journal in SQLite (WAL): the durable :class:`JournalStore`.

``synchronous=FULL`` (default) makes a commit survive power loss; ``NORMAL``
survives a crash of the process (kill -9) but may lose the last commits on
power loss, and is faster. See https://www.sqlite.org/wal.html.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from twin.markets.exchange.journal import CommandRow, RejectionRow, Synchronous, trade_row
from twin.markets.exchange.orders import Trade

_SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    seq INTEGER PRIMARY KEY,
    ts_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trades (
    trade_id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL REFERENCES commands(seq),
    product TEXT NOT NULL,
    buy_order_id INTEGER NOT NULL,
    sell_order_id INTEGER NOT NULL,
    buyer TEXT NOT NULL,
    seller TEXT NOT NULL,
    quantity_lots INTEGER NOT NULL,
    price_eur_per_mwh REAL NOT NULL,
    aggressor TEXT NOT NULL,
    ts_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ns INTEGER NOT NULL,
    participant TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL
);
"""

class SqliteJournal:
    """The exchange's SQLite journal (implements ``JournalStore``).

    Parameters
    ----------
    path : str or Path
        Database file; created with its tables if missing.
    synchronous : {"FULL", "NORMAL"}
    """

    def __init__(self, path: str | Path, synchronous: Synchronous = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous {synchronous!r}: choose FULL or NORMAL")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM commands").fetchone()
        self.last_seq: int = int(row[0])

    def write(
        self,
        commands: list[CommandRow],
        trades: list[tuple[int, Trade]],
        rejections: Iterable[RejectionRow] = (),
    ) -> None:
        """Write one batch in one transaction and commit it.

        Parameters
        ----------
        commands : list of (seq, ts_ns, kind, body)
        trades : list of (seq, Trade)
        rejections : iterable of (ts_ns, participant, reason, message)

        Raises
        ------
        sqlite3.Error
            If the transaction fails; nothing of the batch is then stored.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO commands VALUES (?, ?, ?, ?)",
                [(s, ts, k, json.dumps(b, separators=(",", ":"))) for s, ts, k, b in commands],
            )
            db.executemany(
                "INSERT INTO trades VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [trade_row(seq, t) for seq, t in trades],
            )
            db.executemany(
                "INSERT INTO rejections (ts_ns, participant, reason, message) VALUES (?, ?, ?, ?)",
                list(rejections),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if commands:
            self.last_seq = commands[-1][0]

    def commands(self) -> Iterator[CommandRow]:
        """Every journaled command in ``seq`` order."""
        for seq, ts, kind, body in self._db.execute(
            "SELECT seq, ts_ns, kind, body FROM commands ORDER BY seq"
        ):
            yield int(seq), int(ts), str(kind), json.loads(body)

    def trades(self) -> list[tuple[Any, ...]]:
        """Every journaled trade as a row tuple, in ``trade_id`` order."""
        return self._db.execute("SELECT * FROM trades ORDER BY trade_id").fetchall()

    def count(self, table: Literal["commands", "trades", "rejections"]) -> int:
        """Rows in ``table``."""
        return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: ``"ok"`` for a sound database."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close it."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()
