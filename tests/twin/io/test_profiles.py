"""Load and PV series: re-basing onto another year, BDEW profiles, pvlib PV, FCR block prices."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from twin.config.ems import PvSystemConfig
from twin.errors import DataError
from twin.io.profiles import bdew_profile, read_weather, rebase_to_year, to_grid
from twin.io.reserve_prices import load_fcr_prices
from twin.physics.pv import pv_power_kw

TZ = "Europe/Berlin"


def _daily_marker_series(year: int) -> pd.Series:
    """Hourly series whose value encodes the local date and hour: ordinal * 100 + hour."""
    local = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="1h", tz=TZ, inclusive="left")
    values = np.array([t.toordinal() * 100 + t.hour for t in local], dtype=float)
    return pd.Series(values, index=local.tz_convert("UTC"))


def test_rebase_keeps_the_weekday_and_the_nearest_day_of_year() -> None:
    source = _daily_marker_series(2016)
    target = pd.date_range("2022-06-01", "2022-06-08", freq="1h", tz=TZ, inclusive="left").tz_convert("UTC")
    out = rebase_to_year(source, target, TZ)
    for ts, value in zip(target.tz_convert(TZ), out, strict=True):
        src_day = dt.date.fromordinal(int(value // 100))
        assert src_day.weekday() == ts.weekday()
        assert abs(src_day.timetuple().tm_yday - ts.timetuple().tm_yday) <= 3
        assert value % 100 == ts.hour  # same wall-clock hour


def test_rebase_by_day_of_year_for_weather_and_dst_days() -> None:
    source = _daily_marker_series(2010)
    # 2022-03-27 is a 23-hour day, 2022-10-30 a 25-hour day in Berlin
    for day in ("2022-03-27", "2022-10-30"):
        local = pd.date_range(day, periods=2, freq="D", tz=TZ)
        target = pd.date_range(local[0], local[1], freq="1h", inclusive="left").tz_convert("UTC")
        out = rebase_to_year(source, target, TZ, align_weekday=False)
        days = {dt.date.fromordinal(int(v // 100)) for v in out}
        assert days == {dt.date(2010, int(day[5:7]), int(day[8:10]))}
        assert [v % 100 for v in out] == [t.hour for t in target.tz_convert(TZ)]


def test_rebase_inside_the_measured_period_is_the_identity() -> None:
    source = _daily_marker_series(2016)
    target = source.index[100:200]
    assert rebase_to_year(source, target, TZ) == pytest.approx(source.to_numpy()[100:200])


def test_to_grid_repeats_or_averages_mean_power() -> None:
    hourly = pd.Series([4.0, 8.0], index=pd.date_range("2023-01-01", periods=2, freq="1h", tz="UTC"))
    fine = pd.date_range("2023-01-01", periods=8, freq="15min", tz="UTC")
    assert to_grid(hourly, fine, pd.Timedelta("15min")).to_numpy() == pytest.approx([4] * 4 + [8] * 4)
    quarter = pd.Series(np.arange(8.0), index=fine)
    assert to_grid(quarter, hourly.index, pd.Timedelta("1h")).to_numpy() == pytest.approx([1.5, 5.5])


@pytest.mark.data
def test_bdew_g25_sums_to_the_annual_energy_and_follows_holidays(data_dir) -> None:
    path = data_dir / "bdew_standard_load_profiles_demandlib" / "bdew_2025_typical_days_15min_long.csv"
    local = pd.date_range("2023-01-01", "2024-01-01", freq="15min", tz=TZ, inclusive="left")
    index = local.tz_convert("UTC")
    kw = bdew_profile(path, "G25", index, TZ, 800_000.0)
    assert kw.sum() * 0.25 == pytest.approx(800_000.0, rel=1e-9)
    day_mean = pd.Series(kw, index=local).groupby(local.date).mean()
    # a working day draws more than Sunday; Easter Monday (holiday) like a Sunday
    assert day_mean[dt.date(2023, 4, 12)] > 1.3 * day_mean[dt.date(2023, 4, 16)]
    assert day_mean[dt.date(2023, 4, 10)] == pytest.approx(day_mean[dt.date(2023, 4, 16)], rel=0.05)
    with pytest.raises(DataError, match="no profile 'X9'"):
        bdew_profile(path, "X9", index, TZ, 1.0)


@pytest.mark.data
def test_pvlib_yield_of_a_south_facing_system_is_plausible(data_dir) -> None:
    path = data_dir / "weather_dwd_try2010_demandlib" / "try2010_region12_mannheim_hourly.csv"
    system = PvSystemConfig(kwp=10, tilt_deg=30, latitude_deg=49.52, longitude_deg=8.55, weather=str(path))
    pv = pv_power_kw(read_weather(path), system)
    specific = pv.sum() / 10  # kWh/kWp over the TRY year
    assert 950 < specific < 1250  # German rooftop PV: about 1,000-1,100 kWh/kWp
    local_hour = pv.index.tz_convert(TZ).hour
    assert pv[(local_hour < 4) | (local_hour > 22)].max() == 0.0
    assert pv.max() <= 10 * 1.1


@pytest.mark.data
def test_fcr_block_prices_map_onto_steps(data_dir) -> None:
    path = data_dir / "fcr_capacity_prices_de" / "fcr_capacity_price_de_smard_2020-07_2023-03_4h_blocks.csv"
    index = pd.date_range("2022-06-01T22:00Z", periods=24 * 4, freq="15min")  # local 2022-06-02
    fcr = load_fcr_prices(path, index)
    raw = pd.read_csv(path, parse_dates=["timestamp_utc"])
    first = raw[raw.timestamp_utc == pd.Timestamp("2022-06-01T22:00Z")].iloc[0]
    assert fcr.eur_per_mw_h[0] == pytest.approx(first.fcr_capacity_price_eur_per_mw / first.block_hours)
    assert (~fcr.tie).sum() == 6  # six 4-h blocks
    assert np.unique(fcr.block).size == 6
