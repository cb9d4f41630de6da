"""Short-lived access tokens: JWT (PyJWT, HS256) with subject, role, expiry, issue time and a unique id.

A token is checked for its signature, algorithm (HS256 only: ``alg: none``
and algorithm confusion are refused), expiry and required claims. Its role is
not trusted: each request reads the user's current role and sites from the
store, so a removed user or a changed role takes effect at once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

import jwt

ALGORITHM = "HS256"


def issue(username: str, secret: str, minutes: int, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> tuple[str, int]:
    """A signed access token for ``username`` and its lifetime in seconds."""
    issued = now()
    claims = {"sub": username, "iat": issued, "exp": issued + dt.timedelta(minutes=minutes), "jti": secrets.token_hex(8)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), minutes * 60


def subject(token: str, secret: str) -> str | None:
    """The user name of a valid token, or None (bad signature, expired, malformed, other algorithm)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat", "jti"]})
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else None
