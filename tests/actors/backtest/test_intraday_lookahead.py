"""Intraday decisions use only what is public at the decision time (perturbation test on real days).

For a real delivery day, the intraday prices published at or after a session's
time are replaced by wild values; the site's orders (quantities and limits) at
that session must not move. The same perturbation does move the orders of the
perfect forecaster, so the test can fail.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from actors.backtest.driver import make_intraday_forecaster
from actors.backtest.site import SiteService
from api.cli.prepare import prepare
from twin.markets.calendar import PublicationCalendar
from twin.markets.day_ahead import Bid, clear_price_taker
from twin.markets.intraday_rounds import intraday_rounds

pytestmark = pytest.mark.data


def _decide(plan, forecaster: str, day_index: int, round_index: int, previous=()):
    """Plan, clear and decide session ``round_index`` of one day; return the intent."""
    scenario = plan.scenario
    calendar = PublicationCalendar.of_market(scenario.market)
    day = plan.days[day_index]
    intraday = scenario.market.intraday
    site = SiteService(scenario.sites[0], scenario.strategy, plan.prices.dt_h, plan.n_horizon,
                       intraday, scenario.market.zone, calendar, plan.block_steps)
    da = plan.prices.price_eur_per_mwh.to_numpy()
    horizon = da[day.first_step : day.first_step + plan.n_horizon]
    bid = site.plan_day(day, horizon)
    prices = da[day.first_step : day.first_step + day.n_steps]
    clearing = clear_price_taker(day.date, prices, [Bid(bid.site_id, day.date, bid.power_kw)])
    rounds = intraday_rounds(day.start_utc, day.n_steps, plan.prices.step, day.date, calendar, intraday)
    rnd = rounds[round_index]
    expected = make_intraday_forecaster(forecaster, plan, calendar)
    positions = np.arange(day.first_step, day.first_step + day.n_steps)
    return rnd, site.intraday_intent(day, clearing, rnd, expected.forecast(positions, rnd.at_utc), *previous)


def _perturbed(plan, at_utc):
    """The plan with every intraday price published at or after ``at_utc`` replaced."""
    calendar = PublicationCalendar.of_market(plan.scenario.market)
    intraday = plan.scenario.market.intraday
    published = calendar.intraday_publication_utc(plan.prices.index, plan.prices.step, intraday.is_auction)
    late = np.asarray(published >= at_utc)
    values = plan.intraday_eur_per_mwh.copy()
    rng = np.random.default_rng(7)
    values[late] = rng.uniform(-500, 3000, int(late.sum()))
    return dataclasses.replace(plan, intraday_eur_per_mwh=values), int(late.sum())


@pytest.mark.parametrize(("scenario", "start", "round_index"), [
    ("scenarios/de_lu_2021_da_ida.yaml", "2021-06-15", 0),   # the auction, D-1 15:00
    ("scenarios/de_lu_2022_da_id3.yaml", "2022-06-15", 0),   # first continuous round
    ("scenarios/de_lu_2022_da_id3.yaml", "2022-06-15", 20),  # D 11:00, products already delivered
])
def test_intraday_orders_do_not_move_when_later_prices_do(data_dir, scenario, start, round_index):
    plan = prepare(Path(scenario), start=start, end=start).plan
    rnd, before = _decide(plan, "persistence", 0, round_index)
    changed, n_late = _perturbed(plan, rnd.at_utc)
    assert n_late > 1000
    _, after = _decide(changed, "persistence", 0, round_index)
    assert np.abs(before.sell_mwh).sum() > 0  # the site does trade
    np.testing.assert_array_equal(before.sell_mwh, after.sell_mwh)
    np.testing.assert_array_equal(before.limit_eur_per_mwh, after.limit_eur_per_mwh)
    assert before.state == after.state
    # the perfect forecaster sees the realised prices, so the same perturbation moves it
    _, oracle_before = _decide(plan, "perfect", 0, round_index)
    _, oracle_after = _decide(changed, "perfect", 0, round_index)
    assert not np.array_equal(oracle_before.sell_mwh, oracle_after.sell_mwh)
