"""Users, roles, per-site access and device API keys in SQLite; passwords and keys hashed with argon2 (pwdlib).

No default user and no default password exist: the first admin comes from
``bess-twin users add`` or, at the first start, from
``BESS_TWIN_API_ADMIN_USER``/``_PASSWORD``.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from pwdlib import PasswordHash

ROLES = ("admin", "operator", "trader", "viewer")
"""Roles, most privileged first: admin everything; operator setpoints and strategy of their sites;
trader orders for their sites; viewer reads their sites."""

MIN_PASSWORD_CHARS = 12
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, sites TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS device_keys (
    key_id TEXT PRIMARY KEY, site_id TEXT NOT NULL, key_hash TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class User:
    """A user: name, role and the sites it may see (``*``: every site)."""

    username: str
    role: str
    sites: tuple[str, ...]

    def sees(self, site_id: str) -> bool:
        """Whether the user may see ``site_id``."""
        return self.role == "admin" or "*" in self.sites or site_id in self.sites


class UserStore:
    """The users and device keys of one API (see the module docstring).

    Parameters
    ----------
    path : Path
        SQLite file (created with its folder if missing).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._hasher = PasswordHash.recommended()
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    @staticmethod
    def _check(username: str, role: str, password: str | None) -> None:
        if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise ValueError(f"user name {username!r}: use 1 to 64 letters, digits, _ - .")
        if role not in ROLES:
            raise ValueError(f"role {role!r}: choose {', '.join(ROLES)}")
        if password is not None and len(password) < MIN_PASSWORD_CHARS:
            raise ValueError(f"password too short: use at least {MIN_PASSWORD_CHARS} characters")

    def add(self, username: str, password: str, role: str, sites: list[str]) -> User:
        """Create a user.

        Raises
        ------
        ValueError
            For a bad name, role or password, or a name that exists.
        """
        self._check(username, role, password)
        with self._lock:
            try:
                self._db.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                                 (username, self._hasher.hash(password), role, json.dumps(sorted(set(sites)))))  # fmt: skip
            except sqlite3.IntegrityError:
                raise ValueError(f"user {username!r} exists; remove it first or change its password") from None
        return User(username, role, tuple(sorted(set(sites))))

    def get(self, username: str) -> User | None:
        """The user named ``username``, or None."""
        row = self._db.execute("SELECT role, sites FROM users WHERE username = ?", (username,)).fetchone()
        return User(username, row[0], tuple(json.loads(row[1]))) if row else None

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches, else None (the same work either way)."""
        row = self._db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            self._hasher.verify(password, self._dummy)  # no timing difference for unknown names
            return None
        return self.get(username) if self._hasher.verify(password, row[0]) else None

    def list(self) -> list[User]:
        """Every user, by name."""
        rows = self._db.execute("SELECT username, role, sites FROM users ORDER BY username").fetchall()
        return [User(r[0], r[1], tuple(json.loads(r[2]))) for r in rows]

    def remove(self, username: str) -> bool:
        """Delete a user; False if there was none."""
        with self._lock:
            return self._db.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount > 0

    def set_password(self, username: str, password: str) -> bool:
        """Change a password; False if there is no such user.

        Raises
        ------
        ValueError
            For a password that is too short.
        """
        self._check(username, "viewer", password)
        with self._lock:
            cur = self._db.execute("UPDATE users SET password_hash = ? WHERE username = ?", (self._hasher.hash(password), username))
        return cur.rowcount > 0

    def add_device_key(self, site_id: str) -> str:
        """A new API key for a REST telemetry device of ``site_id``; only its hash is stored. Shown once."""
        key_id = secrets.token_hex(6)
        key = f"btk_{key_id}_{secrets.token_urlsafe(32)}"
        with self._lock:
            self._db.execute("INSERT INTO device_keys VALUES (?, ?, ?)", (key_id, site_id, self._hasher.hash(key)))
        return key

    def device_site(self, key: str) -> str | None:
        """The site a device key belongs to, or None for an unknown or wrong key."""
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "btk":
            return None
        row = self._db.execute("SELECT site_id, key_hash FROM device_keys WHERE key_id = ?", (parts[1],)).fetchone()
        if row is None:
            self._hasher.verify(key, self._dummy)
            return None
        return str(row[0]) if self._hasher.verify(key, row[1]) else None

    def close(self) -> None:
        """Close the file."""
        self._db.close()
