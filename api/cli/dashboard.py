"""``bess-twin dashboard [--api URL] [--runs DIR] [--port 8501]``: the Streamlit dashboards on loopback."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from api.cli.output import EXIT_BAD_INPUT, console, fail

URL = r"https?://[^\s/?#]+(:\d+)?/?"
"""The dashboards' own check of ``BESS_TWIN_DASHBOARD_API_URL`` (``dashboards.settings``), made here before Streamlit starts."""
APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


def dashboard(
    api: Annotated[str | None, typer.Option(help="URL of a running `bess-twin serve` (live pages and login); none: local mode over --runs")] = None,
    runs: Annotated[Path, typer.Option(help="Folder of backtest run folders")] = Path("runs"),
    host: Annotated[str, typer.Option(help="Interface to bind; loopback unless you mean otherwise")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8501,
    refresh_s: Annotated[float, typer.Option(help="Auto-refresh interval of the live pages [s]")] = 5.0,
) -> None:
    """Start the dashboards (Streamlit). Log in with a user of the API; without --api, no login and read-only run folders."""
    if not runs.is_dir() and api is None:
        raise fail(f"--runs {runs}: not a folder, and no --api; run a backtest first (`bess-twin backtest ...`) or pass --api", EXIT_BAD_INPUT)
    if api is not None and not re.fullmatch(URL, api):
        raise fail(f"--api {api!r}: give the server's base URL, e.g. http://127.0.0.1:8000", EXIT_BAD_INPUT)
    if not 0.5 <= refresh_s <= 3600:
        raise fail(f"--refresh-s {refresh_s}: choose 0.5 to 3600 s", EXIT_BAD_INPUT)
    env = {**os.environ, "BESS_TWIN_DASHBOARD_RUNS_DIR": str(runs.resolve()), "BESS_TWIN_DASHBOARD_REFRESH_S": str(refresh_s)}
    if api is not None:
        env["BESS_TWIN_DASHBOARD_API_URL"] = api
    else:
        env.pop("BESS_TWIN_DASHBOARD_API_URL", None)
    console.print(f"dashboards on http://{host}:{port} over {'the API at ' + api if api else 'run folders in ' + str(runs) + ' (local mode)'}",
                  highlight=False)  # fmt: skip
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", host, "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]  # fmt: skip
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)  # become Streamlit: Ctrl-C and SIGTERM reach it, no orphan is left behind


def register(app: typer.Typer) -> None:
    """Add ``dashboard`` to ``app``."""
    app.command("dashboard")(dashboard)
