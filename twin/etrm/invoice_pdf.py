"""One-page PDF of an invoice or credit note (fpdf2): parties, period, a line table and the totals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fpdf import FPDF

from twin.etrm.billing import Invoice


def _eur(value: object) -> str:
    return f"{value:,.2f} EUR"


def render_invoice(invoice: Invoice, path: Path, issuer: str = "bess-twin operator") -> Path:
    """Write ``invoice`` as a one-page A4 PDF at ``path``; returns the path.

    The PDF's creation date is the issue date, so the same invoice always gives
    the same bytes (its SHA-256 in the ledger is reproducible).
    """
    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime.combine(invoice.issued, dt.time(), tzinfo=dt.UTC))
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    title = "Credit note" if invoice.kind == "credit_note" else "Invoice"
    pdf.cell(0, 10, f"{title} {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"Issuer: {issuer}",
        f"Counterparty: {invoice.counterparty}",
        f"Issued: {invoice.issued.isoformat()}",
        f"Delivery period: {invoice.period_start.isoformat()} to {invoice.period_end.isoformat()}",
        *([f"Corrects invoice: {invoice.corrects}"] if invoice.corrects else []),
    ):
        pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(col_widths=(70, 30, 15, 35, 35), text_align=("LEFT", "RIGHT", "LEFT", "RIGHT", "RIGHT")) as table:
        table.row(["Description", "Quantity", "Unit", "Unit price", "Amount"])
        for line in invoice.lines[:30]:
            table.row([line.description, f"{line.quantity:,.3f}", line.unit, _eur(line.unit_price_eur), _eur(line.amount_eur)])
    if len(invoice.lines) > 30:
        pdf.cell(0, 6, f"... and {len(invoice.lines) - 30} more lines (totals include them)", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    for label, value in (
        ("Net", invoice.net_eur),
        (f"VAT {invoice.vat_rate * 100:.1f} %", invoice.vat_eur),
        ("Total", invoice.gross_eur),
    ):
        pdf.cell(150, 6, label, align="R")
        pdf.cell(35, 6, _eur(value), align="R", new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path
