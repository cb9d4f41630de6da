"""Positions and P&L from trades by hand; credit exposure and utilisation by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.etrm.credit import exposure, price_move_quantile
from twin.etrm.positions import book, mark_to_market

H1, H2 = pd.Timestamp("2023-03-01T10:00Z"), pd.Timestamp("2023-03-01T11:00Z")


def _trades():
    return pd.DataFrame({
        "buyer": ["vienna", "linz", "vienna"], "seller": ["linz", "lp", "lp"],
        "delivery_start_utc": [H1, H1, H2], "quantity_mwh": [1.0, 2.0, 0.5], "price_eur_per_mwh": [100.0, 90.0, 120.0],
    })  # fmt: skip


def test_book_by_hand_and_positions_net_to_zero():
    b = book(_trades()).set_index(["participant", "delivery_start_utc"])
    assert b.loc[("vienna", H1), "net_mwh"] == 1.0 and b.loc[("vienna", H1), "cash_eur"] == -100.0
    assert b.loc[("linz", H1), "net_mwh"] == 1.0 and b.loc[("linz", H1), "cash_eur"] == 100.0 - 180.0
    assert b.loc[("lp", H1), "net_mwh"] == -2.0
    assert np.allclose(b.groupby(level=1)["net_mwh"].sum(), 0.0)
    assert np.isclose(b["cash_eur"].sum(), 0.0)


def test_realised_and_unrealised_pnl_by_hand():
    marks = pd.Series([95.0, 110.0], index=[H1, H2])
    pnl = mark_to_market(book(_trades()), marks, now_utc=H2).set_index("participant")
    # vienna: H1 delivered: -100 + 1*95 = -5 realised; H2 open: -60 + 0.5*110 = -5 unrealised
    assert pnl.loc["vienna", "realised_pnl_eur"] == pytest.approx(-5.0)
    assert pnl.loc["vienna", "unrealised_pnl_eur"] == pytest.approx(-5.0)
    assert pnl.loc["vienna", "open_mwh"] == pytest.approx(0.5)
    assert pnl[["realised_pnl_eur", "unrealised_pnl_eur"]].to_numpy().sum() == pytest.approx(0.0)  # zero-sum
    with pytest.raises(ValueError, match="no mark price for product"):
        mark_to_market(book(_trades()), marks.iloc[:1], now_utc=H2)


def test_exposure_and_utilisation_by_hand():
    e = exposure("lp", receivables_eur=1000.0, mark_to_market_eur=-300.0, open_mwh=-4.0, move_eur_per_mwh=50.0, limit_eur=2000.0)
    assert e.current_eur == 1000.0  # negative MtM does not reduce exposure
    assert e.pfe_eur == 200.0 and e.utilisation_pct == pytest.approx(60.0) and not e.breached
    assert exposure("x", -50.0, 20.0, 0.0, 10.0).current_eur == 0.0
    moves = price_move_quantile(np.array([0.0, 10.0, 0.0, 30.0, 0.0]), 1, confidence=1.0)
    assert moves == 30.0


def test_site_positions_by_hand_and_the_fleet_sums_the_sites():
    from twin.etrm.positions import site_positions

    t = pd.date_range("2023-03-01", periods=2, freq="h", tz="UTC")
    sites = pd.DataFrame({
        "timestamp_utc": list(t) * 2, "site_id": ["a", "a", "b", "b"], "price_eur_per_mwh": [50.0, 80.0] * 2,
        "power_kw": [-100.0, 95.0, 0.0, 50.0], "day_ahead_kw": [-100.0, 100.0, 0.0, 0.0],
        "intraday_kw": [0.0, 0.0, 0.0, 50.0], "day_ahead_revenue_eur": [-5.0, 8.0, 0.0, 0.0],
        "intraday_revenue_eur": [0.0, 0.0, 0.0, 4.5], "fees_eur": [0.0, 0.0, 0.0, 0.01],
        "imbalance_eur": [0.0, -0.45, 0.0, 0.0],
    })  # fmt: skip
    p = site_positions(sites).set_index(["participant", "delivery_start_utc"])
    assert p.loc[("a", t[1]), "scheduled_mwh"] == pytest.approx(0.1)
    assert p.loc[("a", t[1]), "imbalance_mwh"] == pytest.approx(-0.005)
    assert p.loc[("a", t[1]), "realised_pnl_eur"] == pytest.approx(7.55)
    assert p.loc[("b", t[1]), "realised_pnl_eur"] == pytest.approx(4.49)
    assert p.loc[("fleet", t[1]), "delivered_mwh"] == pytest.approx(0.145)
    assert p.loc[("fleet", t[1]), "realised_pnl_eur"] == pytest.approx(12.04)
