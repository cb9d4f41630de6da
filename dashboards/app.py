"""bess-twin dashboards: ``streamlit run dashboards/app.py`` (``bess-twin dashboard`` sets it up).

Login against the API (the token stays in the session state, never in a URL),
pick live or a backtest run and the sites in the sidebar, then a page. Without
an API (``--api`` not given) the dashboard runs in local mode over the run
folders on this disk, with no login and nothing to write.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # `streamlit run dashboards/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboards.client import ApiClient, ApiError  # noqa: E402
from dashboards.context import LIVE, Context  # noqa: E402
from dashboards.runs import list_runs, site_ids  # noqa: E402
from dashboards.settings import DashboardSettings  # noqa: E402


def _login(settings: DashboardSettings) -> Context | None:
    if settings.api_url is None:
        return Context(settings, None, "local", "admin", ["*"])
    st.title("bess-twin")
    if st.session_state.pop("expired", False):
        st.info("Your session has expired: log in again.")
    with st.form("login"):
        username = st.text_input("User")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        api = ApiClient(settings.api_url)
        try:
            api.login(username, password)
            me = api.get("/me")
        except ApiError as err:
            st.error("Wrong user or password." if err.status == 401 else f"Login failed: {err.detail}")
            return None
        return Context(settings, api, me["username"], me["role"], list(me["sites"]))
    return None


def _sidebar(ctx: Context) -> None:
    sb = st.sidebar
    sb.caption(f"{ctx.user} · {ctx.role}" + (" · local mode" if ctx.api is None else ""))
    if ctx.api is not None and sb.button("Log out"):
        st.session_state.clear()
        st.rerun()
    runs = [r for r in list_runs(ctx.settings.runs_dir) if any(ctx.sees(s) for s in site_ids(ctx.settings.runs_dir / r))]
    sources = ([LIVE] if ctx.api is not None else []) + runs
    if not sources:
        sb.warning(f"No run folders under {ctx.settings.runs_dir} and no live API.")
        return
    wanted = st.query_params.get("run")
    index = sources.index(wanted) if wanted in sources else 0
    ctx.source = sb.selectbox("Source", sources, index=index, format_func=lambda s: "Live" if s == LIVE else f"Run: {s}")
    if ctx.live:
        assert ctx.api is not None
        try:
            visible = [s["site_id"] for s in ctx.api.get("/sites")]
        except ApiError as err:
            sb.error(f"The live API: {err.detail}")
            visible = []
    else:
        visible = [s for s in site_ids(ctx.settings.runs_dir / ctx.source) if ctx.sees(s)]
    pick = [s for s in st.query_params.get_all("site") if s in visible] or visible
    ctx.sites = sb.multiselect("Sites", visible, default=pick)


def main() -> None:
    """Log in, set up the sidebar, run the chosen page."""
    st.set_page_config(page_title="bess-twin", page_icon=":battery:", layout="wide")
    settings = DashboardSettings()
    if "ctx" not in st.session_state:
        ctx = _login(settings)
        if ctx is None:
            return
        st.session_state["ctx"] = ctx
    ctx = st.session_state["ctx"]
    if ctx.api is not None:
        try:
            ctx.api.get("/me")  # the token still holds (and the user still exists)
        except ApiError as err:
            if err.status == 401:
                st.session_state.clear()
                st.session_state["expired"] = True
                st.rerun()
    _sidebar(ctx)
    pages = [
        st.Page("app_pages/fleet.py", title="Fleet", icon=":material/dashboard:", default=True),  # served at /
        st.Page("app_pages/site.py", title="Site", icon=":material/battery_charging_full:", url_path="site"),
        st.Page("app_pages/analytics.py", title="Analytics", icon=":material/insights:", url_path="analytics"),
        st.Page("app_pages/forecasts.py", title="Forecasts", icon=":material/online_prediction:", url_path="forecasts"),
        st.Page("app_pages/trading.py", title="Trading", icon=":material/swap_horiz:", url_path="trading"),
        st.Page("app_pages/risk.py", title="Risk", icon=":material/warning:", url_path="risk"),
        st.Page("app_pages/billing.py", title="Billing", icon=":material/receipt_long:", url_path="billing"),
        st.Page("app_pages/grid.py", title="Grid", icon=":material/electric_bolt:", url_path="grid"),
    ]
    if ctx.may("trader"):
        pages.insert(6, st.Page("app_pages/credit.py", title="Credit", icon=":material/account_balance:", url_path="credit"))
    pages.append(st.Page("app_pages/backtest.py", title="Backtest explorer", icon=":material/compare:", url_path="backtest"))
    if ctx.api is not None and ctx.role == "admin":
        pages.append(st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"))
    st.navigation(pages).run()


main()
