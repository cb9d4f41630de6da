"""Billing: invoices per counterparty and period, sequential numbers, immutable once issued, credit notes.

Money is kept in ``Decimal`` and rounded to the cent half-up per line; the net
is the sum of the rounded lines, VAT is the net times the rate rounded to the
cent, gross = net + VAT. An issued invoice is never changed: a correction is a
credit note that reverses it (negative lines, its own number, a reference to
the invoice), and a corrected invoice is issued anew.

References
----------
.. [1] Council Directive 2006/112/EC (VAT Directive), Art. 226 (what an invoice
   states: sequential number, date, parties, quantities, taxable amount, rate,
   VAT) and Art. 219 (a credit note amending an invoice counts as an invoice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value: float | Decimal | str) -> Decimal:
    """``value`` in EUR rounded half-up to the cent (floats pass through ``repr`` to avoid binary noise)."""
    number = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class InvoiceLine:
    """One line: what, how much, at which unit price, and its net amount in EUR (rounded)."""

    description: str
    quantity: Decimal
    unit: str
    unit_price_eur: Decimal
    amount_eur: Decimal

    @classmethod
    def of(cls, description: str, quantity: float, unit: str, unit_price_eur: float) -> InvoiceLine:
        """A line whose amount is ``quantity * unit_price`` rounded to the cent."""
        q = Decimal(repr(float(quantity)))
        p = Decimal(repr(float(unit_price_eur)))
        return cls(description, q, unit, p, cents(q * p))

    @classmethod
    def settled(cls, description: str, quantity: float, unit: str, amount_eur: float) -> InvoiceLine:
        """A line whose amount is a settled sum (rounded to the cent); the unit price shown is amount / quantity."""
        q = Decimal(repr(float(quantity))).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        amount = cents(float(amount_eur))
        price = (amount / q).quantize(CENT, rounding=ROUND_HALF_UP) if q != 0 else Decimal("0.00")
        return cls(description, q, unit, price, amount)

    def reversed(self) -> InvoiceLine:
        """The same line with the opposite quantity and amount (for a credit note)."""
        return InvoiceLine(f"{self.description} (reversed)", -self.quantity, self.unit, self.unit_price_eur, -self.amount_eur)


@dataclass(frozen=True)
class Invoice:
    """An issued invoice or credit note (immutable)."""

    number: str
    kind: str
    counterparty: str
    period_start: dt.date
    period_end: dt.date
    issued: dt.date
    lines: tuple[InvoiceLine, ...]
    vat_rate: Decimal
    corrects: str | None = None

    @property
    def net_eur(self) -> Decimal:
        """Sum of the (rounded) line amounts."""
        return sum((line.amount_eur for line in self.lines), Decimal("0.00"))

    @property
    def vat_eur(self) -> Decimal:
        """VAT on the net, rounded to the cent."""
        return cents(self.net_eur * self.vat_rate)

    @property
    def gross_eur(self) -> Decimal:
        """Net plus VAT."""
        return self.net_eur + self.vat_eur


@dataclass
class InvoiceBook:
    """Issues invoices and credit notes with gap-free sequential numbers per year.

    Parameters
    ----------
    prefix : str
        Number prefix, e.g. ``INV``: numbers read ``INV-2023-000001``.
    vat_rate : str or Decimal
        VAT rate as a fraction (``"0.19"``).
    """

    prefix: str = "INV"
    vat_rate: Decimal = Decimal("0.19")
    _issued: dict[str, Invoice] = field(default_factory=dict)
    _counters: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vat_rate = Decimal(str(self.vat_rate))
        if not Decimal(0) <= self.vat_rate < Decimal(1):
            raise ValueError(f"vat_rate {self.vat_rate} must be a fraction in [0, 1), e.g. 0.19")

    def _next_number(self, issued: dt.date) -> str:
        n = self._counters.get(issued.year, 0) + 1
        self._counters[issued.year] = n
        return f"{self.prefix}-{issued.year}-{n:06d}"

    def issue(
        self, counterparty: str, period_start: dt.date, period_end: dt.date, lines: Iterable[InvoiceLine], issued: dt.date
    ) -> Invoice:
        """Issue an invoice for ``counterparty`` over the period; returns it.

        Raises
        ------
        ValueError
            Without lines, or a period that ends before it starts.
        """
        lines = tuple(lines)
        if not lines:
            raise ValueError(f"invoice for {counterparty}: no lines for {period_start} to {period_end}")
        if period_end < period_start:
            raise ValueError(f"invoice for {counterparty}: period ends {period_end} before it starts {period_start}")
        invoice = Invoice(self._next_number(issued), "invoice", counterparty, period_start, period_end, issued, lines, self.vat_rate)
        self._issued[invoice.number] = invoice
        return invoice

    def credit_note(self, number: str, issued: dt.date) -> Invoice:
        """Reverse the issued invoice ``number`` in full; returns the credit note.

        Raises
        ------
        KeyError
            If no invoice ``number`` was issued.
        ValueError
            If it is a credit note or was already credited.
        """
        original = self._issued[number]
        if original.kind != "invoice":
            raise ValueError(f"{number} is a credit note; only an invoice can be credited")
        if any(i.corrects == number for i in self._issued.values()):
            raise ValueError(f"{number} was already credited")
        note = Invoice(
            self._next_number(issued), "credit_note", original.counterparty, original.period_start,
            original.period_end, issued, tuple(line.reversed() for line in original.lines), original.vat_rate, number,
        )  # fmt: skip
        self._issued[note.number] = note
        return note

    def issued(self) -> list[Invoice]:
        """Every invoice and credit note, in number order."""
        return [self._issued[k] for k in sorted(self._issued)]
