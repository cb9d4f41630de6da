"""When a day is traded intraday: the auction once, continuous trading in rounds until the gate."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from twin.config.intraday import IntradayConfig
from twin.markets.calendar import PublicationCalendar, local_midnight_utc
from twin.markets.intraday_rounds import intraday_rounds

TZ = "Europe/Berlin"
DAY = dt.date(2022, 6, 15)
PRICES = {"path": "/nonexistent.csv"}


def _rounds(**intraday):
    config = IntradayConfig(enabled=True, prices=PRICES, **intraday)
    start = local_midnight_utc(DAY, TZ)
    return intraday_rounds(start, 96, pd.Timedelta("15min"), DAY, PublicationCalendar(TZ), config)


def test_the_auction_is_one_session_on_d_minus_1_at_15_00_with_every_product():
    (auction,) = _rounds(reference="ida")
    assert auction.kind == "auction" and auction.tradable.all()
    assert auction.at_utc == pd.Timestamp("2022-06-14 15:00", tz=TZ)
    assert auction.half_spread_eur_per_mwh == 0.0


def test_continuous_rounds_run_hourly_until_the_last_gate():
    rounds = _rounds(reference="id3", round_interval_min=60, gate_closure_min=60)
    assert rounds[0].at_utc == pd.Timestamp("2022-06-14 15:00", tz=TZ)
    # the last product (23:45) closes at 22:45: the last round is 22:00, 32 rounds in all
    assert rounds[-1].at_utc == pd.Timestamp("2022-06-15 22:00", tz=TZ)
    assert len(rounds) == 32
    # at 08:00 the products up to 09:00 are closed (their gate has passed or is now)
    at_eight = next(r for r in rounds if r.at_utc == pd.Timestamp("2022-06-15 08:00", tz=TZ))
    assert not at_eight.tradable[: 9 * 4 + 1].any() and at_eight.tradable[9 * 4 + 1 :].all()
    assert all(r.cost_eur_per_mwh == r.half_spread_eur_per_mwh + 0.0 for r in rounds)
