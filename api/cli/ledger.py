"""``bess-twin ledger verify``: check a tamper-evident ledger file.

Exit codes: 0 the chain holds, 1 tampering found (the entry is named), 2 no such file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.output import EXIT_BAD_INPUT, console, err_console, fail

EXIT_TAMPERED = 1

ledger_app = typer.Typer(help="Tamper-evident ledger of trades, settlements and invoices", no_args_is_help=True)


@ledger_app.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(help="Ledger SQLite file, e.g. runs/<run>/ledger.sqlite")],
    head: Annotated[str | None, typer.Option(help="Head hash recorded elsewhere (summary.json): also detects entries cut off the end")] = None,
) -> None:
    """Recompute the hash chain; name the first edited, removed or reordered entry."""
    from twin.etrm.ledger import verify

    try:
        result = verify(file, head)
    except FileNotFoundError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    if not result.ok:
        err_console.print(f"[bold red]tampered:[/] {result.reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=EXIT_TAMPERED)
    console.print(f"ok: {result.entries} entries, head {result.head}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``ledger`` command group to ``app``."""
    app.add_typer(ledger_app, name="ledger")
