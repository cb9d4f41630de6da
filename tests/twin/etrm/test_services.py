"""The day-by-day ETRM services by hand: credit ageing and add-on, risk's realised P&L, billing periods, grid events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from twin.etrm.billing import InvoiceBook
from twin.etrm.billing_service import BillingService
from twin.etrm.credit_service import CreditService
from twin.etrm.risk_service import RiskLimits, RiskService
from twin.etrm.settlement import settle
from twin.etrm.slots import to_local_slots
from twin.grid.constraints import SharedLimit
from twin.grid.frequency import FrequencyReplay
from twin.grid.service import GridService

D1 = dt.date(2023, 3, 1)


def test_credit_receivables_age_out_after_the_settlement_lag_and_the_addon_scales_with_volume():
    credit = CreditService({"day-ahead exchange": 2, "TSO (imbalance)": 30}, {"day-ahead exchange": 150.0}, 0.5)
    for price in ([50.0, 60.0], [55.0, 70.0], [65.0, 60.0]):  # moves |5|,|10| then |10|,|10|: median move 10
        credit.publish(np.array(price))
    assert credit.move_eur_per_mwh == pytest.approx(10.0)
    day1 = credit.on_day(D1, {"day-ahead exchange": 100.0, "TSO (imbalance)": -20.0}, {"day-ahead exchange": 3.0}, np.array([60.0, 60.0]))
    da = next(e for e in day1 if e.counterparty == "day-ahead exchange")
    assert (da.current_eur, da.pfe_eur, da.total_eur) == (100.0, pytest.approx(30.0), pytest.approx(130.0))
    assert da.utilisation_pct == pytest.approx(130.0 / 150.0 * 100) and not da.breached
    imb = next(e for e in day1 if e.counterparty == "TSO (imbalance)")
    assert imb.current_eur == 0.0  # we owe the TSO: no exposure
    day2 = credit.on_day(D1 + dt.timedelta(days=1), {"day-ahead exchange": 40.0}, {"day-ahead exchange": 1.0}, np.array([60.0, 60.0]))
    assert next(e for e in day2 if e.counterparty == "day-ahead exchange").current_eur == pytest.approx(140.0)
    day3 = credit.on_day(D1 + dt.timedelta(days=2), {}, {}, np.array([60.0, 60.0]))  # day 1 paid on day 3
    assert credit.current_eur()["day-ahead exchange"] == pytest.approx(40.0)
    assert [e.counterparty for e in day3] == ["TSO (imbalance)", "day-ahead exchange"]
    assert len(credit.rows()) == 6  # two counterparties on each of three days


def test_risk_on_day_realises_the_position_against_yesterdays_price():
    rng = np.random.default_rng(3)
    risk = RiskService(limits={"a": RiskLimits(loss_eur=5.0)}, lookback_days=60, mc_paths=2000)
    for _ in range(40):
        risk.publish(50.0 + rng.normal(0, 5, 4))
    mark = risk._history[-1]
    prices = mark + np.array([10.0, -10.0, 0.0, 5.0])
    q = {"a": np.array([1.0, 2.0, 0.0, -1.0]), "b": np.array([0.0, 0.0, 1.0, 0.0])}
    alerts = risk.on_day(D1, q, prices)
    days = {d.participant: d for d in risk.days()}
    assert days["a"].realised_pnl_eur == pytest.approx(10.0 - 20.0 - 5.0)  # -15 EUR: over the 5 EUR loss limit
    assert days["b"].realised_pnl_eur == pytest.approx(0.0)
    assert days["fleet"].realised_pnl_eur == pytest.approx(-15.0)
    assert [a.limit for a in alerts] == ["daily loss EUR"]
    assert {(r.method, r.confidence) for r in days["a"].rows} >= {("historical", 0.99), ("parametric", 0.995), ("monte_carlo", 0.95)}
    np.testing.assert_array_equal(risk._history[-1], prices)  # the day joins the history afterwards


def test_risk_decisions_use_nothing_published_after_the_gate():
    """Perturbing the day's own prices moves the realised P&L, never the VaR made at its gate."""
    def run(shock: float):
        risk = RiskService(lookback_days=60, mc_paths=1000)
        rng = np.random.default_rng(1)
        for _ in range(40):
            risk.publish(50.0 + rng.normal(0, 5, 4))
        risk.on_day(D1, {"a": np.ones(4)}, np.full(4, 50.0 + shock))
        return risk.days()[0]
    base, shocked = run(0.0), run(500.0)
    assert [r.var_eur for r in base.rows] == [r.var_eur for r in shocked.rows]
    assert base.realised_pnl_eur != shocked.realised_pnl_eur


def _rows(day: dt.date, revenue: float) -> pd.DataFrame:
    start = pd.Timestamp(day, tz="Europe/Berlin").tz_convert("UTC")
    n = 24
    return pd.DataFrame({
        "timestamp_utc": pd.date_range(start, periods=n, freq="h"), "site_id": "s1",
        "day_ahead_kw": np.r_[np.full(12, -100.0), np.full(12, 100.0)],
        "day_ahead_revenue_eur": np.r_[np.full(12, -revenue / 2), np.full(12, revenue)],
        "intraday_kw": 0.0, "intraday_revenue_eur": 0.0, "fees_eur": 0.0,
        "imbalance_kwh": 0.0, "imbalance_eur": 0.0, "fcr_band_kw": 0.0, "fcr_revenue_eur": 0.0,
        "energy_bill_eur": 0.0, "grid_kw": 0.0,
    })  # fmt: skip


def test_billing_issues_when_a_month_closes_and_matches_settling_the_whole_run():
    billing = BillingService(InvoiceBook("INV", Decimal("0.19")), "month", "Europe/Berlin")
    days = [dt.date(2023, 1, 30), dt.date(2023, 1, 31), dt.date(2023, 2, 1), dt.date(2023, 2, 2)]
    frames = [_rows(d, 1.005 + k) for k, d in enumerate(days)]
    issued = [billing.on_day(d, f) for d, f in zip(days, frames, strict=True)]
    assert [len(i) for i in issued] == [0, 0, 1, 0]
    first = issued[2][0].invoice
    assert first.number == "INV-2023-000001" and first.issued == dt.date(2023, 2, 1)
    assert (first.period_start, first.period_end) == (days[0], days[1])
    last = billing.close()
    assert [i.invoice.number for i in last] == ["INV-2023-000002"]
    whole = settle(pd.concat(frames, ignore_index=True), "Europe/Berlin")
    assert [s.lines for s in whole] == [i.settlement.lines for i in billing.issued()]
    sold = sum(12 * (1.005 + k) for k in range(2))
    assert first.lines[0].amount_eur == Decimal(str(round(sold + 1e-9, 2)))


def test_grid_service_names_constraint_breaks_and_frequency_events_in_utc():
    start = pd.Timestamp("2023-03-01T00:00Z")
    hz = np.full(1080, 50.0)  # the three hours of the day, no wrap-around
    hz[6:9] = 49.93  # 60 s to 90 s: -70 mHz, a watch event
    grid = GridService({"a": (100.0, None)}, [SharedLimit("trafo", ("a", "b"), export_max_kw=150.0)],
                       FrequencyReplay(hz, 10.0), start)  # fmt: skip
    step = pd.Timedelta(hours=1)
    events = grid.on_day(D1, start, step, {"a": np.array([120.0, 0.0, -100.0]), "b": np.array([0.0, 0.0, -60.0])})
    kinds = [(e.kind, e.level, e.subject) for e in events]
    assert ("constraint", "import", "site a connection") in kinds
    assert ("constraint", "export", "shared trafo") in kinds
    freq = [e for e in events if e.kind == "frequency"]
    assert [e.level for e in freq] == ["watch"]
    assert freq[0].start_utc == start + pd.Timedelta(seconds=60) and freq[0].end_utc == start + pd.Timedelta(seconds=90)
    assert freq[0].value == pytest.approx(70.0)


def test_local_slots_make_dst_days_regular():
    spring = pd.Timestamp("2023-03-26", tz="Europe/Berlin").tz_convert("UTC")
    values = np.arange(23, dtype=float)
    summed = to_local_slots(values, spring, pd.Timedelta(hours=1), "Europe/Berlin")
    assert summed.shape == (24,) and summed[2] == 0.0 and summed[3] == 2.0
    autumn = pd.Timestamp("2023-10-29", tz="Europe/Berlin").tz_convert("UTC")
    mean = to_local_slots(np.arange(25, dtype=float), autumn, pd.Timedelta(hours=1), "Europe/Berlin", "mean")
    assert mean[2] == pytest.approx(2.5) and mean[3] == 4.0


def test_live_grid_readings_merge_into_events_that_end_when_the_condition_does():
    grid = GridService({"a": (None, 50.0)}, [SharedLimit("trafo", ("a", "b"), import_max_kw=100.0)])
    t = [pd.Timestamp("2023-03-01T00:00Z") + pd.Timedelta(seconds=10 * k) for k in range(6)]
    assert grid.observe(t[0], 50.00, {"a": 0.0, "b": 0.0}) == []
    assert grid.observe(t[1], 49.93, {"a": -60.0, "b": 0.0}) == []  # watch starts, export over 50 kW starts
    assert grid.observe(t[2], 49.90, {"a": -70.0, "b": 180.0}) == []  # worse; trafo import 110 kW starts
    ended = grid.observe(t[3], 50.00, {"a": -40.0, "b": 0.0})
    assert {(e.kind, e.subject) for e in ended} == {("frequency", "frequency"), ("constraint", "site a connection"), ("constraint", "shared trafo")}
    freq = next(e for e in ended if e.kind == "frequency")
    assert (freq.start_utc, freq.end_utc, freq.value) == (t[1], t[2], pytest.approx(100.0))
    export = next(e for e in ended if e.subject == "site a connection")
    assert export.level == "export" and export.value == pytest.approx(20.0)
    assert grid.observe(t[4], 49.7, {}) == []
    assert [e.level for e in grid.flush()] == ["fcr_full"]
    assert len(grid.events()) == 4


def test_published_days_equal_the_tail_of_the_whole_series_arranged():
    from twin.etrm.slots import published_days
    from twin.forecast.table import to_local_days

    index = pd.date_range("2022-10-01", "2023-04-10", freq="h", tz="UTC", inclusive="left")  # both DST changes
    series = pd.Series(np.random.default_rng(0).normal(80, 30, len(index)), index=index)
    whole = to_local_days(series.to_frame("price"), "Europe/Berlin", pd.Timedelta(hours=1))[1][:, :, 0]
    for days in (10, 160, 1000):
        np.testing.assert_array_equal(published_days(series, "Europe/Berlin", pd.Timedelta(hours=1), days), whole[-days:])


def test_credit_addon_uses_nothing_published_after_the_day():
    """The day's own prices join the move history only after its exposure is measured."""
    def pfe(shock: float) -> float:
        credit = CreditService({"day-ahead exchange": 2}, {}, 0.9)
        rng = np.random.default_rng(2)
        for _ in range(30):
            credit.publish(50.0 + rng.normal(0, 5, 4))
        return credit.on_day(D1, {"day-ahead exchange": 10.0}, {"day-ahead exchange": 1.0}, np.full(4, 50.0 + shock))[0].pfe_eur
    assert pfe(0.0) == pfe(900.0)
