"""Invoices by hand to the cent, sequential numbers, credit notes, and the PDF read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pypdf import PdfReader

from twin.etrm.billing import InvoiceBook, InvoiceLine, cents
from twin.etrm.invoice_pdf import render_invoice

D1, D2 = dt.date(2023, 3, 1), dt.date(2023, 3, 31)


def _lines():
    return [
        InvoiceLine.of("Day-ahead sales", 12.345, "MWh", 98.765),  # 1219.254... -> 1219.25
        InvoiceLine.of("Imbalance", -0.5, "MWh", 201.01),  # -100.505 -> -100.51 (half-up away from zero)
        InvoiceLine.of("FCR capacity", 96.0, "MW h", 10.125),  # 972.00
    ]


def test_totals_by_hand_to_the_cent() -> None:
    book = InvoiceBook(vat_rate=Decimal("0.19"))
    inv = book.issue("linz", D1, D2, _lines(), dt.date(2023, 4, 3))
    assert [line.amount_eur for line in inv.lines] == [Decimal("1219.25"), Decimal("-100.51"), Decimal("972.00")]
    assert inv.net_eur == Decimal("2090.74")
    assert inv.vat_eur == Decimal("397.24")  # 397.2406
    assert inv.gross_eur == Decimal("2487.98")
    assert cents(0.125) == Decimal("0.13") and cents(2.675) == Decimal("2.68")  # half-up, no binary noise


def test_numbers_are_sequential_and_credit_notes_reverse() -> None:
    book = InvoiceBook(prefix="BT")
    a = book.issue("linz", D1, D2, _lines(), dt.date(2023, 4, 3))
    b = book.issue("vienna", D1, D2, _lines()[:1], dt.date(2023, 4, 3))
    note = book.credit_note(a.number, dt.date(2023, 4, 10))
    assert [i.number for i in book.issued()] == ["BT-2023-000001", "BT-2023-000002", "BT-2023-000003"]
    assert b.number == "BT-2023-000002" and note.corrects == a.number and note.kind == "credit_note"
    assert note.gross_eur == -a.gross_eur
    with pytest.raises(ValueError, match="already credited"):
        book.credit_note(a.number, dt.date(2023, 4, 11))
    with pytest.raises(ValueError, match="only an invoice can be credited"):
        book.credit_note(note.number, dt.date(2023, 4, 11))
    with pytest.raises(AttributeError):
        a.lines = ()  # type: ignore[misc]  # issued invoices are frozen


def test_bad_input_names_the_value() -> None:
    with pytest.raises(ValueError, match="vat_rate 1.5"):
        InvoiceBook(vat_rate=Decimal("1.5"))
    with pytest.raises(ValueError, match="no lines"):
        InvoiceBook().issue("linz", D1, D2, [], D2)


def test_pdf_reads_back_with_number_lines_and_totals(tmp_path) -> None:
    inv = InvoiceBook().issue("linz", D1, D2, _lines(), dt.date(2023, 4, 3))
    path = render_invoice(inv, tmp_path / f"{inv.number}.pdf")
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (inv.number, "linz", "Day-ahead sales", "1,219.25 EUR", "-100.51 EUR", "2,090.74 EUR",
                     "397.24 EUR", "2,487.98 EUR", "2023-03-01 to 2023-03-31"):  # fmt: skip
        assert expected in text, expected


def test_the_same_invoice_renders_to_the_same_bytes(tmp_path) -> None:
    inv = InvoiceBook().issue("linz", D1, D2, _lines(), dt.date(2023, 4, 3))
    first = render_invoice(inv, tmp_path / "a.pdf").read_bytes()
    assert render_invoice(inv, tmp_path / "b.pdf").read_bytes() == first
