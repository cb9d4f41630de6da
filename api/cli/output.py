"""What every command prints through: the consoles, the exit codes and the one way to fail.

Exit codes: 0 done, 1 failure during the run, 2 bad input (reported before any
work starts).
"""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2


def fail(message: str, code: int) -> typer.Exit:
    """Print ``error: message`` on stderr and return the ``typer.Exit`` to raise with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)
