"""Typed dependencies: the settings, the user store, the current user, role checks and per-site access.

Every route depends on :func:`current_user` (or a device key) and, where it
names a site, on :func:`visible_site`: a user never learns that a site they
are not given exists (404, as for a site that does not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from api.auth.store import User, UserStore
from api.auth.tokens import subject

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def store(request: Request) -> UserStore:
    """The app's user store."""
    return request.app.state.store


def current_user(
    request: Request, token: Annotated[str | None, Depends(oauth2)], users: Annotated[UserStore, Depends(store)]
) -> User:
    """The user of a valid bearer token (401 otherwise); their role and sites as stored now."""
    unauthorized = HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated: send a valid bearer token",
                                 headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    if not token:
        raise unauthorized
    name = subject(token, request.app.state.settings.jwt_secret.get_secret_value())
    user = users.get(name) if name else None
    if user is None:
        raise unauthorized
    request.state.user = user.username
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: str) -> Callable[[User], User]:
    """A dependency that lets only ``roles`` (and admin) through: 403 for the others."""

    def check(user: CurrentUser) -> User:
        if user.role != "admin" and user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not do this; it needs {' or '.join(roles) or 'admin'}")
        return user

    return check


def not_found(what: str) -> HTTPException:
    """The 404 a user gets for anything they may not see, and for what does not exist."""
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


def visible_site(site_id: str, user: CurrentUser) -> str:
    """``site_id`` if the user may see it; 404 otherwise (the same answer as for an unknown site)."""
    if not user.sees(site_id):
        raise not_found(f"site {site_id}")
    return site_id


class ErrorBody(BaseModel):
    """Every error answers ``{"detail": "..."}`` naming what is wrong."""

    detail: Any


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no, a bad or an expired token"},
    403: {"model": ErrorBody, "description": "the user's role may not do this"},
    404: {"model": ErrorBody, "description": "not found, or not one of the user's sites"},
    413: {"model": ErrorBody, "description": "request body too large"},
}
"""Error responses every authenticated route documents (the OpenAPI schema says what a client may get)."""
