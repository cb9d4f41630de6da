"""Price data: real files, raw ENTSO-E exports, resolution, gaps and duplicates."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from twin.config import MarketConfig
from twin.errors import DataError
from twin.io.prices import load_prices, regularise
from twin.io.readers import pick_price_column, read_entsoe_csv, read_tidy_csv

SMARD = "day_ahead_prices_de_lu_at_2023_smard/day_ahead_prices_de_lu_at_2023_hourly.csv"
EXAA = "day_ahead_15min_exaa_de_lu_2019_2023_entsoe"
AT22 = "day_ahead_prices_at_2022_entsoe"


def series(values, start="2023-01-01", freq="h"):
    index = pd.date_range(start, periods=len(values), freq=freq, tz="UTC")
    return pd.Series(np.asarray(values, dtype=float), index=index)


@pytest.mark.data
@pytest.mark.parametrize(("zone", "column"), [("DE-LU", "price_de_lu_eur_per_mwh"), ("AT", "price_at_eur_per_mwh")])
def test_tidy_smard_zone_column(data_dir, zone, column):
    raw = read_tidy_csv(data_dir / SMARD, zone=zone)
    assert raw.name == column
    prices = regularise(raw, tz="Europe/Berlin")
    assert prices.step == pd.Timedelta(hours=1)
    assert len(prices.price_eur_per_mwh) == 8760
    assert prices.index.tz is not None
    assert prices.price_eur_per_mwh.min() == -500.0


@pytest.mark.data
@pytest.mark.parametrize("year", [2019, 2022])
def test_raw_entsoe_export_equals_tidy_file(data_dir, year):
    raw = read_entsoe_csv(data_dir / EXAA / "original" / f"DayAheadPrices_{year}01010000-{year + 1}01010000.csv")
    tidy = read_tidy_csv(data_dir / EXAA / "day_ahead_15min_exaa_de_lu_2019_2023.csv.gz", zone="DE-LU")
    common = raw.index.intersection(tidy.index)
    assert len(common) == len(raw)
    pd.testing.assert_series_equal(raw[common], tidy[common], check_names=False)


@pytest.mark.data
def test_spreadsheet_quoted_entsoe_export(data_dir):
    raw = read_entsoe_csv(data_dir / AT22 / "original" / "Day-ahead Prices_202201010000-202301010000.csv")
    tidy = read_tidy_csv(data_dir / AT22 / "day_ahead_prices_at_2022_hourly.csv", zone="AT")
    assert raw.notna().sum() == len(tidy)
    np.testing.assert_array_equal(raw[tidy.index].to_numpy(), tidy.to_numpy())


@pytest.mark.data
def test_15min_series_with_missing_dst_days(data_dir):
    raw = read_tidy_csv(data_dir / EXAA / "day_ahead_15min_exaa_de_lu_2019_2023.csv.gz", zone="DE-LU")
    with pytest.raises(DataError, match="set market.prices.fill"):
        regularise(raw, tz="Europe/Berlin")
    with pytest.raises(DataError, match="max_fill_h"):
        regularise(raw, tz="Europe/Berlin", fill="previous_day", max_fill_h=6)
    prices = regularise(raw, tz="Europe/Berlin", fill="previous_day")
    assert prices.step == pd.Timedelta(minutes=15)
    assert prices.filled_steps == int(raw.isna().sum())
    assert not prices.price_eur_per_mwh.isna().any()


def test_entsoe_dst_labels(tmp_path):
    """Spring placeholder rows are dropped; the repeated autumn hour is resolved by its (CET)/(CEST) mark."""
    text = "\n".join([
        '"MTU (CET/CEST)","Area","Sequence","Day-ahead Price (EUR/MWh)"',
        '"30.10.2022 01:00 - 30.10.2022 02:00","BZN|AT","Sequence 1","10"',
        '"30.10.2022 02:00 (CEST) - 30.10.2022 02:00 (CET)","BZN|AT","Sequence 1","20"',
        '"30.10.2022 02:00 (CET) - 30.10.2022 03:00 (CET)","BZN|AT","Sequence 1","30"',
        '"30.10.2022 03:00 - 30.10.2022 04:00","BZN|AT","Sequence 1","n/e"',
        '"30.10.2022 03:00 - 30.10.2022 04:00","BZN|AT","Sequence 2","99"',
    ])
    path = tmp_path / "export.csv"
    path.write_text(text)
    raw = read_entsoe_csv(path)
    assert list(raw.index.strftime("%H:%M")) == ["23:00", "00:00", "01:00", "02:00"]
    assert raw.iloc[:3].tolist() == [10, 20, 30]
    assert np.isnan(raw.iloc[3])


def test_entsoe_spring_gap_dropped(tmp_path):
    path = tmp_path / "spring.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]","Currency","BZN|DE-LU"\n'
                     '"26.03.2023 01:00 - 26.03.2023 02:00","5.0","EUR"\n'
                     '"26.03.2023 02:00 - 26.03.2023 03:00","",""\n'
                     '"26.03.2023 03:00 - 26.03.2023 04:00","7.0","EUR"\n')
    raw = read_entsoe_csv(path)
    assert len(raw) == 2
    assert (raw.index[1] - raw.index[0]) == pd.Timedelta(hours=1)


def test_gap_policies():
    raw = series([10, np.nan, np.nan, 40, 50])
    with pytest.raises(DataError, match=r"2 missing step\(s\) in 1 gap"):
        regularise(raw, tz="UTC")
    assert regularise(raw, tz="UTC", fill="ffill").price_eur_per_mwh.tolist() == [10, 10, 10, 40, 50]
    assert regularise(raw, tz="UTC", fill="interpolate").price_eur_per_mwh.tolist() == [10, 20, 30, 40, 50]
    with pytest.raises(DataError, match="exceeds market.prices.max_fill_h"):
        regularise(raw, tz="UTC", fill="ffill", max_fill_h=1)


def test_strict_turns_a_filled_gap_into_an_error(caplog):
    raw = series([10, np.nan, np.nan, 40, 50])
    regularise(raw, tz="UTC", fill="ffill")
    assert "filling 2 missing step(s)" in caplog.text
    with pytest.raises(DataError, match="backtest.strict is true"):
        regularise(raw, tz="UTC", fill="ffill", strict=True)
    complete = series([10, 20, 30])
    assert regularise(complete, tz="UTC", strict=True).price_eur_per_mwh.tolist() == [10, 20, 30]


def test_missing_timestamps_are_gaps():
    raw = series([1, 2, 3, 4, 5, 6]).drop(pd.Timestamp("2023-01-01T02:00Z"))
    with pytest.raises(DataError, match="1 missing step"):
        regularise(raw, tz="UTC")


def test_previous_day_fill():
    values = np.arange(48, dtype=float)
    values[30] = np.nan
    out = regularise(series(values), tz="UTC", fill="previous_day").price_eur_per_mwh
    assert out.iloc[30] == 6.0


def test_duplicates():
    raw = pd.concat([series([1, 2, 3]), series([5], start="2023-01-01T01:00")])
    with pytest.raises(DataError, match="repeated timestamp"):
        regularise(raw, tz="UTC")
    assert regularise(raw, tz="UTC", duplicates="mean").price_eur_per_mwh.tolist() == [1, 3.5, 3]
    assert regularise(raw, tz="UTC", duplicates="last").price_eur_per_mwh.tolist() == [1, 5, 3]


def test_mixed_resolution_expands_hourly_days():
    """Hourly days before a switch to 15-min products: an hourly price holds for its quarters."""
    hourly = series(np.arange(24, dtype=float), start="2025-09-30T22:00")
    quarter = series(np.arange(96, dtype=float) + 100, start="2025-10-01T22:00", freq="15min")
    prices = regularise(pd.concat([hourly, quarter]), tz="Europe/Berlin")
    assert prices.step == pd.Timedelta(minutes=15)
    assert len(prices.price_eur_per_mwh) == 96 * 2
    assert prices.price_eur_per_mwh.iloc[:8].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_unsupported_resolution():
    with pytest.raises(DataError, match="supported market time units"):
        regularise(series([1, 2, 3], freq="7min"), tz="UTC")


def test_pick_price_column():
    cols = ["timestamp_utc", "price_de_lu_eur_per_mwh", "price_at_eur_per_mwh"]
    assert pick_price_column(cols, "AT", None) == "price_at_eur_per_mwh"
    assert pick_price_column(["timestamp_utc", "price_de_lu_exaa_15min_eur_per_mwh"], "DE-LU", None).startswith("price_de_lu")
    assert pick_price_column(["timestamp_utc", "price_eur_per_mwh"], "FR", None) == "price_eur_per_mwh"
    with pytest.raises(DataError, match="set market.prices.column"):
        pick_price_column(cols, "FR", None)
    with pytest.raises(DataError, match="is not in the file"):
        pick_price_column(cols, None, "nope")


def test_load_prices_names_missing_file(tmp_path):
    market = MarketConfig(prices={"path": tmp_path / "nope.csv"})
    with pytest.raises(DataError, match="nope.csv"):
        load_prices(market)


def test_non_utc_input_is_converted():
    local = pd.date_range("2023-06-01", periods=48, freq="h", tz="Europe/Vienna")
    prices = regularise(pd.Series(np.arange(48.0), index=local), tz="Europe/Vienna")
    assert str(prices.index.tz) == "UTC"
    assert prices.index[0] == pd.Timestamp("2023-05-31T22:00Z")


@pytest.mark.parametrize(("value", "message"), [
    (np.inf, "infinite"), (-np.inf, "infinite"), (1e300, "outside the plausible range"),
    (-501.0, "outside the plausible range"), (4001.0, "outside the plausible range"),
])
def test_infinite_and_absurd_prices_are_refused(value, message):
    raw = series([10.0, value, 30.0])
    with pytest.raises(DataError, match=message):
        regularise(raw, tz="UTC")


def test_plausible_bounds_are_per_key():
    raw = series([10.0, 9000.0, 30.0])
    regularise(raw, tz="UTC", key="market.imbalance.prices", bounds_eur_per_mwh=(-1e5, 1e5))
    with pytest.raises(DataError, match=r"widen market\.prices\.min_price_eur_per_mwh"):
        regularise(raw, tz="UTC")


def test_unsorted_rows_are_sorted_and_said(caplog):
    raw = series([1.0, 2.0, 3.0]).iloc[[2, 0, 1]]
    prices = regularise(raw, tz="UTC", source="f.csv")
    assert prices.price_eur_per_mwh.tolist() == [1.0, 2.0, 3.0]
    assert "not in time order" in caplog.text


@pytest.mark.parametrize(("stamp", "what"), [
    ("2023-01-01 00:00:00", "no UTC offset"), ("2023-01-01T01:00:00+01:00", "a non-UTC offset"),
])
def test_timestamp_utc_must_be_utc(tmp_path, stamp, what):
    path = tmp_path / "p.csv"
    path.write_text(f"timestamp_utc,price_de_lu_eur_per_mwh\n2022-12-31T23:00:00Z,1\n{stamp},2\n")
    with pytest.raises(DataError, match=what):
        read_tidy_csv(path, zone="DE-LU")


def test_entsoe_header_zone_is_read_not_assumed(tmp_path):
    rows = ['"01.06.2023 00:00 - 01.06.2023 01:00","5.0"', '"01.06.2023 01:00 - 01.06.2023 02:00","6.0"']
    utc = tmp_path / "utc.csv"
    utc.write_text('"MTU (UTC)","Day-ahead Price [EUR/MWh]"\n' + "\n".join(rows))
    assert read_entsoe_csv(utc).index[0] == pd.Timestamp("2023-06-01T00:00Z")
    cet = tmp_path / "cet.csv"
    cet.write_text('"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]"\n' + "\n".join(rows))
    assert read_entsoe_csv(cet).index[0] == pd.Timestamp("2023-05-31T22:00Z")
    odd = tmp_path / "odd.csv"
    odd.write_text('"MTU (MSK)","Day-ahead Price [EUR/MWh]"\n' + "\n".join(rows))
    with pytest.raises(DataError, match="names a time zone this reader does not know"):
        read_entsoe_csv(odd)
