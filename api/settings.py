"""Settings of the REST API, from the environment only (pydantic-settings; never YAML).

======================================  ==========================================================
variable                                meaning
======================================  ==========================================================
``BESS_TWIN_API_JWT_SECRET``            key that signs access tokens (>= 32 characters); unset:
                                        a random key per process, tokens die with the server
``BESS_TWIN_API_TOKEN_MINUTES``         access token lifetime (default 15)
``BESS_TWIN_API_STATE_DIR``             users, device keys and the audit ledger (default runs/api)
``BESS_TWIN_API_ADMIN_USER``            first start only: create this admin when no user exists,
``BESS_TWIN_API_ADMIN_PASSWORD``        with this password (>= 12 characters)
``BESS_TWIN_API_MAX_BODY_BYTES``        largest request body (default 1 MB)
``BESS_TWIN_API_LOGIN_PER_MINUTE``      login attempts per user name and client (default 10)
``BESS_TWIN_API_CORS_ORIGINS``          JSON list of allowed origins (default none: CORS off)
======================================  ==========================================================
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Validated API settings (see the module docstring)."""

    model_config = SettingsConfigDict(env_prefix="BESS_TWIN_API_", extra="ignore")

    jwt_secret: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(48)))
    token_minutes: int = Field(15, ge=1, le=24 * 60)
    state_dir: Path = Path("runs/api")
    admin_user: str | None = None
    admin_password: SecretStr | None = None
    max_body_bytes: int = Field(1_000_000, ge=1024)
    login_per_minute: int = Field(10, ge=1)
    cors_origins: list[str] = Field(default_factory=list)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("BESS_TWIN_API_JWT_SECRET must be at least 32 characters; use e.g. `openssl rand -base64 48`")
        return value

    @property
    def users_db(self) -> Path:
        """SQLite file of users and device keys."""
        return self.state_dir / "users.sqlite"

    @property
    def audit_ledger(self) -> Path:
        """Hash-chained ledger of every state-changing request."""
        return self.state_dir / "audit.sqlite"
