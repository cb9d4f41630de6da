"""Audit log: every state-changing request (who, when, what, result) appended to the tamper-evident ledger."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from twin.etrm.ledger import Ledger


class AuditLog:
    """Appends one ``request`` entry per POST/PUT/PATCH/DELETE to a hash-chained ledger (thread-safe)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._ledger = Ledger(path, shared=True)
        self._lock = threading.Lock()

    def record(self, user: str | None, method: str, path: str, status: int, client: str | None) -> str:
        """Append one request; returns the new head hash."""
        entry = {"at_utc": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "user": user, "method": method,
                 "path": path, "status": status, "client": client}  # fmt: skip
        with self._lock:
            return self._ledger.append("request", entry)

    @property
    def head(self) -> str:
        """Head hash of the chain."""
        return self._ledger.head

    def close(self) -> None:
        """Close the ledger file."""
        self._ledger.close()
