"""``bess-twin invoices RUN_DIR``: settle a finished run into invoices (PDF) and append them to the run's ledger.

Exit codes: 0 done, 2 not a run folder or a bad option.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from api.cli.output import EXIT_BAD_INPUT, console, fail


def invoices(
    run_dir: Annotated[Path, typer.Argument(help="A backtest run folder (with sites.parquet and summary.json)")],
    vat: Annotated[str, typer.Option(help="VAT rate as a fraction, e.g. 0.19")] = "0.19",
    issued: Annotated[str | None, typer.Option(help="Issue date YYYY-MM-DD; default: the day after the run's last delivery day")] = None,
    timezone: Annotated[str, typer.Option(help="Local time zone of the billing months")] = "Europe/Berlin",
) -> None:
    """One invoice per site, counterparty and month: PDFs in RUN_DIR/invoices, a table in invoices.csv, each in ledger.sqlite."""
    from twin.etrm.billing import InvoiceBook
    from twin.etrm.invoice_pdf import render_invoice
    from twin.etrm.ledger import Ledger
    from twin.etrm.settlement import settle

    sites_file = run_dir / "sites.parquet"
    if not sites_file.is_file():
        raise fail(f"{run_dir}: no sites.parquet; pass a backtest run folder", EXIT_BAD_INPUT)
    if (run_dir / "invoices.csv").exists():
        raise fail(f"{run_dir} is invoiced already (invoices.csv); issued invoices are immutable, "
                   "correct them with credit notes", EXIT_BAD_INPUT)  # fmt: skip
    try:
        book = InvoiceBook(vat_rate=Decimal(vat))
    except (InvalidOperation, ValueError) as err:
        raise fail(f"--vat {vat!r}: {err}", EXIT_BAD_INPUT) from None
    settlements = settle(pd.read_parquet(sites_file), timezone)
    if issued is None:
        day = max(s.period_end for s in settlements) + dt.timedelta(days=1) if settlements else dt.date.today()
    else:
        try:
            day = dt.date.fromisoformat(issued)
        except ValueError:
            raise fail(f"--issued {issued!r} is not a date YYYY-MM-DD", EXIT_BAD_INPUT) from None
    folder = run_dir / "invoices"
    folder.mkdir(exist_ok=True)
    ledger = Ledger(run_dir / "ledger.sqlite")
    rows = []
    for s in settlements:
        inv = book.issue(f"{s.counterparty} / site {s.site_id}", s.period_start, s.period_end, s.lines, day)
        render_invoice(inv, folder / f"{inv.number}.pdf")
        record = {"number": inv.number, "site_id": s.site_id, "counterparty": s.counterparty,
                  "period_start": str(inv.period_start), "period_end": str(inv.period_end),
                  "net_eur": str(inv.net_eur), "vat_eur": str(inv.vat_eur), "gross_eur": str(inv.gross_eur)}  # fmt: skip
        ledger.append("invoice", record)
        rows.append(record)
    head = ledger.head
    ledger.close()
    pd.DataFrame(rows).to_csv(run_dir / "invoices.csv", index=False)
    table = Table(title=f"{len(rows)} invoice(s), issued {day}")
    for column in ("number", "site", "counterparty", "period", "net EUR", "gross EUR"):
        table.add_column(column, justify="right" if "EUR" in column else "left")
    for r in rows[:20]:
        table.add_row(r["number"], r["site_id"], r["counterparty"], f"{r['period_start']}..{r['period_end']}", r["net_eur"], r["gross_eur"])
    console.print(table)
    console.print(f"PDFs in {folder}; invoices.csv; ledger head {head}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``invoices`` command to ``app``."""
    app.command("invoices")(invoices)
