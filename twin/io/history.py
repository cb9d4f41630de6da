"""State history of a live run: one SQLite table, WAL mode, one transaction per tick.

Each control tick appends one row per site in a single transaction, so a crash
or Ctrl-C loses at most the tick in progress, never a committed one. WAL lets
the dashboards read while the run writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

COLUMNS: dict[str, str] = {
    "wall_utc": "TEXT NOT NULL",
    "market_utc": "TEXT NOT NULL",
    "site_id": "TEXT NOT NULL",
    "soc": "REAL",
    "power_kw": "REAL",
    "temperature_c": "REAL",
    "source": "TEXT",
    "quality": "TEXT",
    "reason": "TEXT",
    "schedule_kw": "REAL",
    "setpoint_kw": "REAL",
    "commanded_kw": "REAL",
    "setpoint_confirmed": "INTEGER",
    "external": "INTEGER",
    "safe": "INTEGER",
    "safe_reason": "TEXT",
    "price_eur_per_mwh": "REAL",
    "replans": "INTEGER",
    "rejected": "INTEGER",
    "strategy": "TEXT",
    "traded_kw": "REAL",
    "event": "TEXT",
}
"""Columns of ``site_state`` (units in the names; ``soc`` a fraction).

``commanded_kw`` is what the guard commanded in the tick (0 while the site is
safe), ``setpoint_confirmed`` whether the device took the write, and
``setpoint_kw`` the last setpoint the device did take. ``strategy`` is the one
the site planned with, ``traded_kw`` the power its internal-exchange trades add
to the plan in the current MTU (``schedule_kw`` includes it).
"""


class HistoryStore:
    """Append-only SQLite store of site states.

    Parameters
    ----------
    path : Path
        Database file; its folder is created.

    Raises
    ------
    sqlite3.OperationalError
        If the file cannot be opened for writing.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        self._db.execute(f"CREATE TABLE IF NOT EXISTS site_state (id INTEGER PRIMARY KEY, {columns})")
        present = {row[1] for row in self._db.execute("PRAGMA table_info(site_state)")}
        for name, kind in COLUMNS.items():  # a history from an older version gains the new columns
            if name not in present:
                self._db.execute(f"ALTER TABLE site_state ADD COLUMN {name} {kind.replace(' NOT NULL', '')}")
        self._insert = (
            f"INSERT INTO site_state ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        )
        self.rows_written = 0

    def append(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write ``rows`` in one transaction; missing keys are NULL. Returns the count."""
        values = [tuple(row.get(name) for name in COLUMNS) for row in rows]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(self._insert, values)
        self.rows_written += len(values)
        return len(values)

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()


def read_history(path: Path, site_id: str, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    """Rows of one site after row ``after_id``, oldest first (read-only; a live run may be writing).

    Parameters
    ----------
    path : Path
        A history file written by :class:`HistoryStore`.
    site_id : str
    after_id : int
        Return rows with a larger id (page on with the last row's ``id``).
    limit : int
        At most this many rows.

    Returns
    -------
    list of dict
        ``id`` and :data:`COLUMNS`; empty when the file does not exist yet.
    """
    if not path.is_file():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = db.execute(
            f"SELECT id, {', '.join(COLUMNS)} FROM site_state WHERE site_id = ? AND id > ? ORDER BY id LIMIT ?",
            (site_id, after_id, limit),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        db.close()
