"""A tamper-evident ledger: trades, settlements and invoices appended to a SHA-256 hash chain in SQLite.

Entry ``i`` stores ``hash_i = SHA-256(hash_(i-1) || canonical JSON of (seq, kind, payload))``
with ``hash_0`` the genesis value of 64 zeros. Editing, removing or reordering
any stored entry breaks the chain at that entry, which :func:`verify` names.
Cutting entries off the end leaves a valid shorter chain; a head hash kept
elsewhere (the run's ``summary.json``) detects that too (``expected_head``).
No blockchain network: one writer, an append-only table, a hash per entry.

References
----------
.. [1] S. Haber, W. S. Stornetta, "How to time-stamp a digital document",
   J. Cryptology 3(2), 99-111, 1991 (linked hash chains).
.. [2] RFC 8785, JSON Canonicalization Scheme (the spirit of the canonical form:
   sorted keys, no whitespace, UTF-8).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)
"""


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, non-ASCII kept as UTF-8; NaN refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(prev_hash: str, seq: int, kind: str, payload: str) -> str:
    """``SHA-256(prev_hash || canonical([seq, kind, payload]))`` as hex."""
    return hashlib.sha256((prev_hash + canonical([seq, kind, payload])).encode("utf-8")).hexdigest()


class Ledger:
    """Append-only hash-chained log in an SQLite file.

    Parameters
    ----------
    path : str or Path
        SQLite file (created if missing).
    shared : bool
        Allow calls from several threads (the caller serialises them, e.g. with a lock).
    """

    def __init__(self, path: str | Path, shared: bool = False) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=not shared)
        self._db.execute(_SCHEMA)
        row = self._db.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
        self._seq, self._head = (int(row[0]), str(row[1])) if row else (0, GENESIS)

    @property
    def entries(self) -> int:
        """Entries in the chain."""
        return self._seq

    def begin(self) -> None:
        """Start a transaction: the appends until :meth:`commit` are written at once (or not at all)."""
        self._db.execute("BEGIN")

    def commit(self) -> None:
        """Write the appends since :meth:`begin`."""
        self._db.execute("COMMIT")

    @property
    def head(self) -> str:
        """Hash of the last entry (the genesis value when empty)."""
        return self._head

    def append(self, kind: str, payload: dict[str, Any]) -> str:
        """Append one entry; returns its hash.

        Raises
        ------
        ValueError
            If ``payload`` is not JSON (NaN, infinities and non-string keys included).
        """
        try:
            text = canonical(payload)
        except (TypeError, ValueError) as err:
            raise ValueError(f"ledger entry {kind!r}: payload is not canonical JSON: {err}") from None
        seq = self._seq + 1
        digest = entry_hash(self._head, seq, kind, text)
        self._db.execute("INSERT INTO ledger VALUES (?, ?, ?, ?, ?)", (seq, kind, text, self._head, digest))
        self._seq, self._head = seq, digest
        return digest

    def close(self) -> None:
        """Close the file."""
        self._db.close()


@dataclass(frozen=True)
class Verification:
    """Result of :func:`verify`."""

    ok: bool
    entries: int
    head: str
    bad_seq: int | None = None
    reason: str = ""


def verify(path: str | Path, expected_head: str | None = None) -> Verification:
    """Recompute the chain of a ledger file and name the first entry that breaks it.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: ledger file not found")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT rowid, seq, kind, payload, prev_hash, hash FROM ledger ORDER BY rowid").fetchall()
    finally:
        db.close()
    prev = GENESIS
    for position, (_, seq, kind, payload, prev_hash, digest) in enumerate(rows, start=1):
        if seq != position:
            return Verification(False, len(rows), prev, seq, f"entry {seq} stands at position {position}: an entry was removed or reordered")
        if prev_hash != prev:
            return Verification(False, len(rows), prev, seq, f"entry {seq} does not link to entry {seq - 1}: removed, reordered or edited links")
        if entry_hash(prev, seq, kind, payload) != digest:
            return Verification(False, len(rows), prev, seq, f"entry {seq} ({kind}) was edited: its hash does not match its content")
        prev = digest
    if expected_head is not None and prev != expected_head:
        return Verification(False, len(rows), prev, len(rows), f"the chain ends at entry {len(rows)} with head {prev[:12]}..., not the expected {expected_head[:12]}...: entries were cut off the end")
    return Verification(True, len(rows), prev)
