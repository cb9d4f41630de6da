"""Billing: the invoices issued to and by the sites, with their PDFs."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards.client import ApiError
from dashboards.context import context, no_data
from dashboards.runs import invoices

ctx = context()
st.title("Billing")


def _table(frame: pd.DataFrame) -> None:
    gross = sum((Decimal(str(v)) for v in frame["gross_eur"]), Decimal("0"))
    c = st.columns(2)
    c[0].metric("Invoices", f"{len(frame)}")
    c[1].metric("Gross total", f"{gross:,.2f} EUR")
    st.dataframe(frame, hide_index=True)


if ctx.live:
    assert ctx.api is not None
    rows = []
    for site in ctx.sites:
        try:
            rows += ctx.api.get(f"/sites/{site}/invoices")
        except ApiError as err:
            st.warning(f"{site}: {err.detail}")
    if not rows:
        no_data("invoices yet (a day's or a month's close issues them)")
    else:
        frame = pd.DataFrame(rows)
        _table(frame)
        pick = st.selectbox("Invoice", list(frame["number"]))
        site = frame.loc[frame["number"] == pick, "site_id"].iloc[0]
        try:
            pdf = ctx.api.get(f"/sites/{site}/invoices/{pick}.pdf")
            st.download_button("Download PDF", pdf, file_name=f"{pick}.pdf", mime="application/pdf")
        except ApiError as err:
            st.error(f"{err.detail}")
elif ctx.run_dir is not None:
    table = invoices(ctx.run_dir)
    if table is None or table.empty:
        no_data("invoices (etrm or billing off)")
    else:
        mine = table[table["site_id"].isin(ctx.sites)]
        _table(mine)
        pick = st.selectbox("Invoice", list(mine["number"]))
        path = ctx.run_dir / "invoices" / f"{pick}.pdf"
        if path.is_file():
            st.download_button("Download PDF", path.read_bytes(), file_name=path.name, mime="application/pdf")
        else:
            st.caption("This run wrote no PDFs (etrm.billing.pdf: false).")
