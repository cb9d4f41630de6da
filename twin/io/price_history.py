"""Price history of the market feed: one SQLite table (WAL), upserted per poll.

``prices(market, delivery_start_utc, price_eur_per_mwh, source, fetched_utc)``
with the key (market, delivery_start_utc, source): a price that a later poll
revises replaces the earlier one, and the time it was fetched is kept.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

_SCHEMA = """
CREATE TABLE IF NOT EXISTS prices (
    market TEXT NOT NULL,
    delivery_start_utc TEXT NOT NULL,
    price_eur_per_mwh REAL NOT NULL,
    source TEXT NOT NULL,
    fetched_utc TEXT NOT NULL,
    PRIMARY KEY (market, delivery_start_utc, source)
)
"""


class PriceHistory:
    """Day-ahead prices as the feed saw them.

    Parameters
    ----------
    path : str or Path
        SQLite file (``:memory:`` for a throwaway store).
    """

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def upsert(self, market: str, source: str, prices: pd.Series, fetched: pd.Timestamp) -> int:
        """Store ``prices`` (UTC index, EUR/MWh) in one transaction; returns the rows written."""
        rows = [
            (market, ts.tz_convert("UTC").isoformat(), float(p), source, fetched.isoformat())
            for ts, p in zip(pd.DatetimeIndex(prices.index), prices.to_numpy(), strict=True)
        ]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO prices VALUES (?, ?, ?, ?, ?) ON CONFLICT(market, delivery_start_utc, "
                "source) DO UPDATE SET price_eur_per_mwh=excluded.price_eur_per_mwh, "
                "fetched_utc=excluded.fetched_utc",
                rows,
            )
        return len(rows)

    def read(self, market: str, source: str | None = None) -> pd.Series:
        """Stored prices of ``market`` on a UTC index, oldest first. [EUR/MWh]"""
        query = "SELECT delivery_start_utc, price_eur_per_mwh FROM prices WHERE market = ?"
        args: tuple[str, ...] = (market,)
        if source is not None:
            query += " AND source = ?"
            args += (source,)
        rows = self._db.execute(query + " ORDER BY delivery_start_utc", args).fetchall()
        index = pd.DatetimeIndex(pd.to_datetime([r[0] for r in rows], utc=True))
        return pd.Series([r[1] for r in rows], index=index, name="price_eur_per_mwh", dtype=float)

    def close(self) -> None:
        """Close the database."""
        self._db.close()
