"""What every page knows: who is logged in, the source (live or a run folder) and the sites picked in the sidebar."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from dashboards.client import ApiClient
from dashboards.settings import DashboardSettings

LIVE = "live"
ROLES_THAT_STEER = ("operator", "admin")
ROLES_THAT_TRADE = ("trader", "admin")


@dataclass
class Context:
    """The session's user, source and sites.

    Attributes
    ----------
    settings : DashboardSettings
    api : ApiClient or None
        With the session's token; None in local mode (run folders only, no login).
    user, role : str
    allowed : list of str
        The user's site patterns (``*`` for all), as the API stores them.
    source : str
        ``live`` or the name of a run folder.
    sites : list of str
        Sites picked in the sidebar (all visible ones by default).
    """

    settings: DashboardSettings
    api: ApiClient | None
    user: str
    role: str
    allowed: list[str]
    source: str = ""
    sites: list[str] = field(default_factory=list)

    @property
    def live(self) -> bool:
        """Whether the pages show the live run."""
        return self.source == LIVE

    @property
    def run_dir(self) -> Path | None:
        """The run folder shown, or None live."""
        return None if self.live or not self.source else self.settings.runs_dir / self.source

    def sees(self, site_id: str) -> bool:
        """Whether the user may see ``site_id`` (the API's rule)."""
        return any(fnmatch.fnmatchcase(site_id, p) for p in self.allowed)

    def may(self, *roles: str) -> bool:
        """Whether the user's role is one of ``roles`` (admins may everything)."""
        return self.role == "admin" or self.role in roles


def context() -> Context:
    """The session's context (set by ``app.py`` before a page runs)."""
    ctx = st.session_state.get("ctx")
    if ctx is None:
        st.stop()
    return ctx


def no_data(what: str) -> None:
    """Say plainly that the source has no ``what`` (instead of an empty chart)."""
    st.info(f"No {what} in this source.")
