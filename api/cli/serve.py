"""``bess-twin serve [--runs DIR] [--live SCENARIO]``: the REST API over finished runs and a live twin, uvicorn on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.output import EXIT_BAD_INPUT, console, fail


def serve(
    runs: Annotated[Path, typer.Option(help="Folder of backtest run folders to serve read-only")] = Path("runs"),
    live: Annotated[Path | None, typer.Option(help="Also run this scenario live inside the server and serve its sites")] = None,
    runtime: Annotated[str, typer.Option(help="Runtime of the live run: local or ray")] = "local",
    host: Annotated[str, typer.Option(help="Interface to bind; loopback unless you mean otherwise")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs). Settings and secrets come from BESS_TWIN_API_* variables."""
    import uvicorn
    from pydantic import ValidationError

    from api.main import create_app
    from api.settings import ApiSettings
    from twin.errors import TwinError

    if not runs.is_dir():
        raise fail(f"--runs {runs}: not a folder; pass the folder that holds your run folders", EXIT_BAD_INPUT)
    if runtime not in ("local", "ray"):
        raise fail(f"--runtime {runtime!r}: choose local or ray", EXIT_BAD_INPUT)
    try:
        settings = ApiSettings()
        app = create_app(settings, runs, live, runtime)
    except (ValidationError, ValueError, TwinError) as err:
        raise fail(f"{err}", EXIT_BAD_INPUT) from None
    if host not in ("127.0.0.1", "::1", "localhost"):
        console.print(f"[yellow]binding to {host}: the API is reachable from other machines; put TLS in front of it[/]")
    console.print(f"serving {runs} on http://{host}:{port} (docs: /docs)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command("serve")(serve)
