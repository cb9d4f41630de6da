"""A hand-solved day: an hourly day-ahead auction, a 15-min intraday auction, a lossless battery.

The day-ahead price is flat, so the day-ahead plan does nothing. The intraday
auction's quarter hours trade at 40, 45, 55 and 60 EUR/MWh in every hour, so the
battery buys 100 kW in the first two quarter hours and sells them in the last
two: 25 kWh at each price, 0.025 MWh x (55 + 60 - 40 - 45) = 0.75 EUR per hour,
18 EUR a day, minus the fee of 0.10 EUR/MWh on 0.1 MWh an hour (0.24 EUR).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from actors.backtest.site import SiteService
from tests.actors.test_runtime import IDEAL_PLANT
from twin.backtest.clock import DeliveryDay
from twin.config import SiteConfig, StrategyConfig
from twin.config.intraday import IntradayConfig, TradingPolicy
from twin.markets.calendar import PublicationCalendar, local_midnight_utc
from twin.markets.day_ahead import Bid, clear_price_taker
from twin.markets.intraday_auction import clear_intraday_auction
from twin.markets.intraday_rounds import intraday_rounds
from twin.markets.products import day_products

TZ = "Europe/Berlin"
DAY = dt.date(2021, 6, 15)


def test_hourly_award_and_quarter_hour_auction_on_a_hand_solved_day():
    site = SiteConfig.model_validate({
        "site_id": "s",
        "battery": {"energy_kwh": 200, "p_charge_max_kw": 100, "p_discharge_max_kw": 100, "eta_charge": 1.0,
                    "eta_discharge": 1.0, "soc_min": 0.0, "soc_max": 1.0, "soc_initial": 0.5,
                    "standing_loss_per_h": 0.0, "degradation_cost_eur_per_mwh": 0.001},
        "dynamics": IDEAL_PLANT,
    })
    policy = TradingPolicy(soc_min=0.0, soc_max=1.0, fee_eur_per_mwh=0.1)
    intraday = IntradayConfig(enabled=True, reference="ida", prices={"path": "/unused.csv"}, policy=policy)
    calendar = PublicationCalendar(TZ)
    start = local_midnight_utc(DAY, TZ)
    n = 96
    day = DeliveryDay(DAY, start, local_midnight_utc(DAY + dt.timedelta(days=1), TZ),
                      calendar.gate_closure_utc(DAY), 0, n, 48)
    service = SiteService(site, StrategyConfig(horizon_h=24), 0.25, n, intraday, "DE-LU", calendar,
                          block_steps=4)
    day_ahead = np.full(n, 50.0)
    bid = service.plan_day(day, day_ahead)
    np.testing.assert_allclose(bid.power_kw, 0.0, atol=1e-6)  # a flat price: nothing to earn
    clearing = clear_price_taker(DAY, day_ahead, [Bid("s", DAY, bid.power_kw)])
    (auction,) = intraday_rounds(start, n, pd.Timedelta("15min"), DAY, calendar, intraday)
    quarter_prices = np.tile([40.0, 45.0, 55.0, 60.0], 24)
    intent = service.intraday_intent(day, clearing, auction, quarter_prices)  # a perfect forecast
    np.testing.assert_allclose(intent.sell_mwh, np.tile([-0.025, -0.025, 0.025, 0.025], 24), atol=1e-9)
    products = day_products("DE-LU", start, n, 0.25)
    result = clear_intraday_auction(products, quarter_prices, [intent], 0.1, 0.001, auction.at_ns)
    delivered = service.deliver_day(day, clearing, result)
    assert delivered.intraday_revenue_eur.sum() == pytest.approx(18.0)
    assert delivered.fees_eur.sum() == pytest.approx(0.24)
    assert delivered.day_ahead_revenue_eur.sum() == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(delivered.power_kw, np.tile([-100, -100, 100, 100], 24), atol=1e-6)
    assert np.abs(delivered.imbalance_kwh).sum() < 1e-6  # the ideal plant follows the schedule
    assert delivered.revenue_eur.sum() == pytest.approx(18.0 - 0.24, abs=1e-6)
