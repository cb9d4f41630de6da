"""``POST /api/v1/auth/token`` (OAuth2 password flow), ``GET /api/v1/me`` and the audit ledger's verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from api.auth.store import User, UserStore
from api.auth.tokens import issue
from api.deps import ERRORS, CurrentUser, require, store
from api.schemas import LedgerStatus, Me, Token
from twin.etrm.ledger import verify

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/token", response_model=Token, responses={401: {"description": "wrong user or password"}, 413: ERRORS[413], 429: {"description": "too many attempts"}})
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], users: Annotated[UserStore, Depends(store)]) -> Token:
    """Exchange a user name and password for a short-lived access token."""
    request.state.user = form.username[:64]
    client = request.client.host if request.client else "?"
    if not request.app.state.login_limiter.allow(form.username[:64], client):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many login attempts; wait a minute")
    user = users.authenticate(form.username, form.password)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    settings = request.app.state.settings
    token, ttl = issue(user.username, settings.jwt_secret.get_secret_value(), settings.token_minutes)
    return Token(access_token=token, expires_in_s=ttl)


@router.get("/me", response_model=Me, responses=ERRORS)
def me(user: CurrentUser) -> Me:
    """Who the token belongs to: role and sites."""
    return Me(username=user.username, role=user.role, sites=list(user.sites))


@router.get("/audit/ledger", response_model=LedgerStatus, responses=ERRORS)
def audit_ledger(request: Request, _: Annotated[User, Depends(require())]) -> LedgerStatus:
    """Verify the API's audit ledger (admins): every state-changing request, hash-chained."""
    audit = request.app.state.audit
    result = verify(request.app.state.settings.audit_ledger, audit.head)
    return LedgerStatus(ok=result.ok, entries=result.entries, head=result.head, expected_head=audit.head, reason=result.reason)
