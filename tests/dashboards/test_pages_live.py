"""Every page against a live API (real uvicorn on loopback, the live demo's simulated sites), as operator, viewer and admin."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_rest_live import PASSWORD, _login, _until, server  # noqa: F401 - the fixture
from tests.dashboards.conftest import metrics, page

pytestmark = pytest.mark.data
PAGES = ("fleet", "site", "analytics", "forecasts", "trading", "risk", "billing", "grid")


def _logged_in(app_test, runs, base, user):
    at = app_test(runs, base)
    assert at.button[0].label == "Log in" and not at.sidebar.selectbox  # nothing before the login
    at.text_input[0].input(user)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _number(text: str) -> float:
    return float(text.split()[0].replace(",", ""))


def test_operator_sees_their_sites_live_and_steers_one(server, app_test, tmp_path):  # noqa: F811
    app, base = server
    runs = tmp_path / "runs"
    runs.mkdir()
    wrong = app_test(runs, base)
    wrong.text_input[0].input("op")
    wrong.text_input[1].input("not the password")
    wrong.button[0].click().run()
    assert "Wrong user or password." in [e.value for e in wrong.error] and "ctx" not in wrong.session_state
    at = _logged_in(app_test, runs, base, "op")
    assert at.sidebar.selectbox[0].options == ["Live"]
    assert sorted(at.sidebar.multiselect[0].options) == ["graz", "salzburg"]
    h = _login(base, "op")
    fleet = httpx.get(f"{base}/api/v1/fleet", headers=h).json()
    m = metrics(at)
    assert _number(m["Fleet SoC (capacity-weighted)"]) == pytest.approx(fleet["soc_percent"], abs=1.0)  # it moves a little per tick
    assert m["Sites safe"] == "0 of 2"
    page(at, "site")
    site = at.selectbox(key="site_pick").value
    state = httpx.get(f"{base}/api/v1/sites/{site}/state", headers=h).json()
    strategy = httpx.get(f"{base}/api/v1/sites/{site}/strategy", headers=h).json()
    m = metrics(at)
    assert m["Active strategy"] == strategy["strategy"]
    assert _number(m["SoC"]) == pytest.approx(state["soc_percent"], abs=1.0)
    assert len(at.get("plotly_chart")) == 2
    at.number_input[0].set_value(12.0)
    next(b for b in at.button if b.label == "Send setpoint").click().run()
    assert any("lapses" in s.value for s in at.success)
    assert _until(lambda: httpx.get(f"{base}/api/v1/sites/{site}/state", headers=h).json()["external"])
    for name in PAGES[2:]:
        page(at, name)


def test_viewer_sees_one_site_and_no_controls(server, app_test, tmp_path):  # noqa: F811
    app, base = server
    runs = tmp_path / "runs"
    runs.mkdir()
    at = _logged_in(app_test, runs, base, "view")
    assert at.sidebar.multiselect[0].options == ["graz"]
    page(at, "site")
    assert not at.number_input and "Your role may look, not steer." in [c.value for c in at.caption]
    page(at, "trading")
    assert not [b for b in at.button if b.label.startswith("Place for")]
    for name in PAGES:
        page(at, name)
    assert all("salzburg" not in str(t.value) for t in at.dataframe)


def test_admin_pages_credit_and_settings(server, app_test, tmp_path):  # noqa: F811
    app, base = server
    app.state.store.add("dash_admin", PASSWORD, "admin", ["*"])
    runs = tmp_path / "runs"
    runs.mkdir()
    at = _logged_in(app_test, runs, base, "dash_admin")
    page(at, "settings")
    assert len(at.get("json")) == 4  # each live site's device configuration (the fixture adds a REST site)
    next(b for b in at.button if b.label == "Test the connection").click().run()
    assert not at.exception
    page(at, "credit")
    assert not at.exception
    app.state.store.remove("dash_admin")  # a removed user's session ends at the next rerun
    at.run()
    assert "ctx" not in at.session_state and any("expired" in i.value for i in at.info) and at.button[0].label == "Log in"


def test_trader_places_and_cancels_an_order_on_the_trading_page(server, app_test, tmp_path):  # noqa: F811
    app, base = server
    app.state.store.add("dash_trader", PASSWORD, "trader", ["graz"])
    runs = tmp_path / "runs"
    runs.mkdir()
    at = _logged_in(app_test, runs, base, "dash_trader")
    page(at, "trading")
    products = at.selectbox[0].options
    placed = None
    for product in products[2:8]:  # the first ones close soon; the battery's plan may leave no room in some hours
        at.selectbox[0].set_value(product).run()
        at.selectbox(key="side_graz").set_value("SELL")
        at.number_input(key="q_graz").set_value(0.01)
        at.number_input(key="p_graz").set_value(3000.0)  # far above any bid: it rests
        next(b for b in at.button if b.label == "Place for graz").click().run()
        assert not at.exception
        if at.success:
            placed = product
            break
        assert any("Rejected, book unchanged" in e.value for e in at.error)
    assert placed is not None
    h = _login(base, "dash_trader")
    orders = httpx.get(f"{base}/api/v1/sites/graz/orders", headers=h).json()
    assert [(o["product"], o["price_eur_per_mwh"], o["side"]) for o in orders] == [(placed, 3000.0, "SELL")]
    at.run()
    next(b for b in at.button if b.label == "Cancel order").click().run()
    assert any("cancelled" in s.value for s in at.success)
    assert httpx.get(f"{base}/api/v1/sites/graz/orders", headers=h).json() == []
