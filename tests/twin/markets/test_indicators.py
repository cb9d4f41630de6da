"""Indicators: hand-solved EMA, VWAP window and mark fallback."""

from __future__ import annotations

import math

import pytest

from twin.markets.indicators import IndicatorConfig, MarketIndicators


def test_ema_half_life_vwap_window_and_mark() -> None:
    ind = MarketIndicators(IndicatorConfig(mark_window_s=900, ema_half_life_s=3600, vwap_window_s=3600))
    ind.on_price(0, 100.0)
    assert ind.ema_eur_per_mwh == 100.0 and ind.mark() == 100.0 and math.isnan(ind.vwap())
    ind.on_price(3600, 50.0)  # one half-life later: halfway from 100 to 50
    assert ind.ema_eur_per_mwh == pytest.approx(75.0)
    ind.on_trade(3700, 60.0, 2.0)
    ind.on_trade(3800, 90.0, 1.0)
    assert ind.vwap() == pytest.approx((120 + 90) / 3)
    assert ind.mark() == 90.0  # last trade within 15 min
    assert ind.mark(3800 + 901) == 50.0  # stale trade: back to the reference price
    assert ind.vwap(3700 + 3600 + 1) == pytest.approx(90.0)  # first trade left the window
    assert math.isnan(ind.vwap(3800 + 3600 + 1))
    assert ind.price_updates == 4
