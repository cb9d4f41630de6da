"""Dashboard settings from the environment (``BESS_TWIN_DASHBOARD_*``), set by ``bess-twin dashboard``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    """Where the dashboard reads from.

    Attributes
    ----------
    api_url : str, optional
        Base URL of a ``bess-twin serve`` (live pages, login); none: local mode over run folders only.
    runs_dir : Path
        Folder of backtest run folders.
    refresh_s : float
        Auto-refresh interval of the live pages. [s]
    max_points : int
        Largest number of points a time-series trace is drawn with (longer series are downsampled).
    """

    model_config = SettingsConfigDict(env_prefix="BESS_TWIN_DASHBOARD_", extra="ignore")

    api_url: str | None = Field(None, pattern=r"^https?://[^\s/?#]+(:\d+)?/?$")
    runs_dir: Path = Path("runs")
    refresh_s: float = Field(5.0, ge=0.5, le=3600)
    max_points: int = Field(4000, ge=100, le=200_000)
