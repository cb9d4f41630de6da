"""Trading: the internal exchange's book and trades, the sites' positions; place and cancel orders (traders)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards.client import ApiError
from dashboards.context import ROLES_THAT_TRADE, Context, context, no_data
from dashboards.runs import table

ctx = context()
st.title("Trading")


def depth_figure(book: dict) -> go.Figure:
    """Cumulative depth: bids to the left of the spread, asks to the right. [MWh vs EUR/MWh]"""
    fig = go.Figure()
    for side, color in (("bids", "#2a9d8f"), ("asks", "#e76f51")):
        levels = book[side]
        if levels:
            prices = [lv["price_eur_per_mwh"] for lv in levels]
            cumulative = pd.Series([lv["quantity_mwh"] for lv in levels]).cumsum().tolist()
            fig.add_trace(go.Scatter(x=prices, y=cumulative, name=side, line_shape="hv", fill="tozeroy", line={"color": color}))
    fig.update_layout(title=f"Depth of {book['product']}", xaxis_title="Price (EUR/MWh)", yaxis_title="Cumulative quantity (MWh)", height=340)
    return fig


def positions(trades: list[dict], sites: list[str]) -> pd.DataFrame:
    """Net energy sold and cash per site and product from trades (a sell counts +, a buy -). [MWh, EUR]"""
    rows = [{"site_id": t[side], "product": t["product"], "net_sold_mwh": sign * t["quantity_mwh"],
             "cash_eur": sign * t["quantity_mwh"] * t["price_eur_per_mwh"]}
            for t in trades for side, sign in (("seller", 1.0), ("buyer", -1.0)) if t[side] in sites]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=["site_id", "product", "net_sold_mwh", "cash_eur"])
    return pd.DataFrame(rows).groupby(["site_id", "product"], as_index=False).sum()


def _live(ctx: Context) -> None:
    assert ctx.api is not None
    try:
        products = ctx.api.get("/exchange/products")
        trades = ctx.api.get("/exchange/trades", limit=200)
    except ApiError as err:
        st.error(f"The API answered {err.detail}")
        return
    if not products:
        no_data("open products")
        return
    product = st.selectbox("Product", [p["product"] for p in products])
    book = ctx.api.get(f"/exchange/book/{product}")
    left, right = st.columns(2)
    left.plotly_chart(depth_figure(book), key="depth")
    with right:
        st.subheader("Recent trades of your sites")
        st.dataframe(pd.DataFrame(trades), hide_index=True) if trades else st.caption("No trades yet.")
    position = positions(trades, ctx.sites)
    st.subheader("Positions from these trades (sell +)")
    st.dataframe(position, hide_index=True) if not position.empty else st.caption("No position yet.")
    for site in ctx.sites:
        orders = ctx.api.get(f"/sites/{site}/orders")
        st.subheader(f"{site}: open orders")
        st.dataframe(pd.DataFrame(orders), hide_index=True) if orders else st.caption("None.")
        if ctx.may(*ROLES_THAT_TRADE):
            _order_form(ctx, site, product, orders)


def _order_form(ctx: Context, site: str, product: str, orders: list[dict]) -> None:
    assert ctx.api is not None
    with st.form(f"order_{site}"):
        c = st.columns(4)
        side = c[0].selectbox("Side", ["BUY", "SELL"], key=f"side_{site}")
        quantity = c[1].number_input("Quantity (MWh)", min_value=0.0, value=0.1, step=0.1, format="%.3f", key=f"q_{site}")
        price = c[2].number_input("Limit price (EUR/MWh)", value=50.0, step=1.0, key=f"p_{site}")
        tif = c[3].selectbox("Time in force", ["GTC", "IOC", "FOK"], key=f"tif_{site}")
        if st.form_submit_button(f"Place for {site}"):
            try:
                ack = ctx.api.post(f"/sites/{site}/orders", {"product": product, "side": side, "quantity_mwh": quantity,
                                                            "price_eur_per_mwh": price, "time_in_force": tif})  # fmt: skip
                st.success(f"Order {ack['order']['order_id']} {ack['order']['status']}; {len(ack['trades'])} trade(s).")
            except ApiError as err:
                detail = err.detail if not isinstance(err.detail, dict) else f"{', '.join(err.detail['reasons'])}: {err.detail['message']}"
                st.error(f"Rejected, book unchanged: {detail}")
    if orders:
        with st.form(f"cancel_{site}"):
            oid = st.selectbox("Order", [o["order_id"] for o in orders], key=f"oid_{site}")
            if st.form_submit_button("Cancel order"):
                try:
                    ctx.api.delete(f"/sites/{site}/orders/{oid}")
                    st.success(f"Order {oid} cancelled.")
                except ApiError as err:
                    st.error(f"{err.detail}")


def _run(ctx: Context) -> None:
    assert ctx.run_dir is not None
    positions = table(ctx.run_dir, "positions")
    if positions is None or positions.empty:
        no_data("positions")
        return
    mine = positions[positions["participant"].isin(ctx.sites)].copy()
    mine["delivery"] = pd.to_datetime(mine["delivery_start_utc"], utc=True)
    c = st.columns(3)
    c[0].metric("Day-ahead volume", f"{mine['day_ahead_mwh'].abs().sum():,.1f} MWh")
    c[1].metric("Intraday volume", f"{mine['intraday_mwh'].abs().sum():,.1f} MWh")
    c[2].metric("Realised P&L", f"{mine['realised_pnl_eur'].sum():,.0f} EUR")
    daily = mine.assign(day=mine["delivery"].dt.date).groupby("day")[["day_ahead_mwh", "intraday_mwh", "imbalance_mwh"]].sum().reset_index()
    fig = px.bar(daily.melt(id_vars=["day"], var_name="position", value_name="mwh"), x="day", y="mwh", color="position", barmode="group",
                 title="Net position per day of the sites picked (sell +)", labels={"mwh": "Energy (MWh)", "day": "Day"})  # fmt: skip
    st.plotly_chart(fig, key="positions")
    trades = table(ctx.run_dir, "trades")
    st.subheader("Internal-exchange trades")
    if trades is None or trades.empty:
        st.caption("No intraday trades in this run (day-ahead only).")
    else:
        ours = trades[trades["buyer"].isin(ctx.sites) | trades["seller"].isin(ctx.sites)].tail(500).copy()
        for side in ("buyer", "seller"):  # the other side is named only if the user may see it (the API's rule)
            ours[side] = ours[side].map(lambda who: who if ctx.sees(who) else "other")
        st.dataframe(ours, hide_index=True)


if ctx.live:
    _live(ctx)
elif ctx.run_dir is not None:
    _run(ctx)
