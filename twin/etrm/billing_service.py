"""The billing service: collects each delivered day's settlement columns and issues invoices when a period closes.

A period is a local calendar day or month. When the first day of a new
period arrives (or the run ends) the closed period is settled per site and
counterparty (:func:`twin.etrm.settlement.settle`, the same function
``bess-twin invoices`` applies to ``sites.parquet``, so the two agree to the
cent) and one invoice is issued per settlement, dated the day after the
period ends, numbered in sequence by an :class:`~twin.etrm.billing.InvoiceBook`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from twin.etrm.billing import Invoice, InvoiceBook
from twin.etrm.settlement import Settlement, settle

SETTLEMENT_COLUMNS = (
    "timestamp_utc", "site_id", "day_ahead_kw", "day_ahead_revenue_eur", "intraday_kw",
    "intraday_revenue_eur", "fees_eur", "imbalance_kwh", "imbalance_eur", "fcr_band_kw",
    "fcr_revenue_eur", "energy_bill_eur", "grid_kw",
)  # fmt: skip
"""Columns of ``sites.parquet`` that settlement reads."""


@dataclass(frozen=True)
class IssuedInvoice:
    """An invoice with the settlement it bills."""

    invoice: Invoice
    settlement: Settlement


@dataclass
class BillingService:
    """Invoices per site, counterparty and period (see the module docstring).

    Parameters
    ----------
    book : InvoiceBook
    period : {'month', 'day'}
    timezone : str
        Local time zone of the billing calendar.
    """

    book: InvoiceBook
    period: str = "month"
    timezone: str = "Europe/Berlin"
    _frames: list[pd.DataFrame] = field(default_factory=list)
    _key: str | None = None
    _issued: list[IssuedInvoice] = field(default_factory=list)

    def _period_of(self, date: dt.date) -> str:
        return date.isoformat() if self.period == "day" else date.strftime("%Y-%m")

    def on_day(self, date: dt.date, rows: pd.DataFrame) -> list[IssuedInvoice]:
        """Add a delivered day's rows (:data:`SETTLEMENT_COLUMNS`, every site); issue the period it closes.

        Returns
        -------
        list of IssuedInvoice
            The invoices issued now (empty unless a period closed).
        """
        key = self._period_of(date)
        issued = self._close() if self._key is not None and key != self._key else []
        self._key = key
        self._frames.append(rows)
        return issued

    def close(self) -> list[IssuedInvoice]:
        """Issue the open period (at the end of a run)."""
        return self._close()

    def _close(self) -> list[IssuedInvoice]:
        if not self._frames:
            return []
        frame = pd.concat(self._frames, ignore_index=True)
        self._frames = []
        out = []
        for s in settle(frame, self.timezone, self.period):
            inv = self.book.issue(f"{s.counterparty} / site {s.site_id}", s.period_start, s.period_end,
                                  s.lines, s.period_end + dt.timedelta(days=1))  # fmt: skip
            out.append(IssuedInvoice(inv, s))
        self._issued += out
        return out

    def issued(self) -> list[IssuedInvoice]:
        """Every invoice issued so far, in number order."""
        return list(self._issued)
