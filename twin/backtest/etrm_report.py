"""The ETRM section of ``report.html``: VaR backtest (Kupiec), credit, invoices, grid events, ledger."""

from __future__ import annotations

import html
from typing import Any


def _row(cells: list[str]) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def etrm_section_html(summary: dict[str, Any]) -> str:
    """HTML of the run's ETRM results (empty when the services were off)."""
    etrm = summary.get("etrm")
    if not etrm:
        return ""
    parts = ["<h2>Risk, credit, billing and grid</h2>"]
    risk = etrm.get("risk")
    if risk:
        tests = sorted(risk.get("var_backtest", []), key=lambda t: (t["participant"] != "fleet", t["participant"], t["method"], t["confidence"]))
        rows = "".join(
            _row([html.escape(t["participant"]), html.escape(t["method"]), f"{t['confidence']:.1%}", str(t["observations"]),
                  str(t["exceedances"]), f"{t['expected_exceedances']:.1f}", f"{t['lr_statistic']:.2f}", f"{t['p_value']:.3f}",
                  "rejected" if t["p_value"] < 0.05 else "not rejected"])  # fmt: skip
            for t in tests
        )
        parts.append(
            "<h3>VaR backtest (Kupiec proportion of failures)</h3>"
            f"<p>Position: {html.escape(risk.get('position', ''))}. Days assessed: {risk.get('days_assessed', 0)}; "
            f"limit alerts: {risk.get('alerts', 0)}. A p-value below 0.05 rejects that losses exceed the VaR as often as its level says.</p>"
            "<table><tr><th>participant</th><th>method</th><th>level</th><th>days</th><th>exceedances</th><th>expected</th>"
            f"<th>LR</th><th>p-value</th><th>at 5 %</th></tr>{rows}</table>"
        )
    credit = etrm.get("credit")
    if credit:
        rows = "".join(_row([html.escape(k), f"{v:,.2f}"]) for k, v in credit.get("peak_exposure_eur", {}).items())
        parts.append(f"<h3>Credit</h3><p>Limit breaches: {credit.get('breaches', 0)}.</p>"
                     f"<table><tr><th>counterparty</th><th>peak exposure EUR</th></tr>{rows}</table>")  # fmt: skip
    billing = etrm.get("billing")
    if billing:
        parts.append(f"<h3>Billing</h3><p>{billing['invoices']} invoice(s), {html.escape(billing['gross_eur'])} EUR gross "
                     "(invoices.csv, PDFs in invoices/).</p>")  # fmt: skip
    grid = etrm.get("grid")
    if grid:
        events = ", ".join(f"{html.escape(k)}: {v}" for k, v in grid.get("events", {}).items()) or "none"
        parts.append(f"<h3>Grid</h3><p>Events: {events}. Frequency: {html.escape(grid.get('frequency', ''))}.</p>")
    ledger = etrm.get("ledger")
    if ledger:
        parts.append(f"<h3>Ledger</h3><p>{ledger['entries']} entries in {html.escape(ledger['file'])}, head "
                     f"<code>{html.escape(ledger['head'])}</code>: <code>bess-twin ledger verify {html.escape(ledger['file'])} "
                     f"--head {html.escape(ledger['head'])}</code>.</p>")  # fmt: skip
    return "\n".join(parts)
