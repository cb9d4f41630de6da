"""Price downloads: parsers on hand-written answers, a fake session, the disk cache. No network."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import requests

from twin.config import PriceDataConfig
from twin.errors import DataError
from twin.io.download import download_prices, parse_awattar, parse_energy_charts

ENERGY_CHARTS = {
    "license_info": "CC BY 4.0 (creativecommons.org/licenses/by/4.0) from Bundesnetzagentur | SMARD.de",
    "unix_seconds": [1672527600, 1672531200, 1672534800],
    "price": [-5.17, -1.07, None],
    "unit": "EUR / MWh",
    "deprecated": False,
}
AWATTAR = {
    "object": "list",
    "data": [
        {"start_timestamp": 1672527600000, "end_timestamp": 1672531200000, "marketprice": 12.06, "unit": "Eur/MWh"},
        {"start_timestamp": 1672531200000, "end_timestamp": 1672534800000, "marketprice": -0.1, "unit": "Eur/MWh"},
    ],
    "url": "/at/v1/marketdata",
}


def test_parse_energy_charts():
    s = parse_energy_charts(ENERGY_CHARTS)
    assert s.index[0].isoformat() == "2022-12-31T23:00:00+00:00"
    assert s.iloc[:2].tolist() == [-5.17, -1.07]
    assert np.isnan(s.iloc[2])


def test_parse_awattar():
    s = parse_awattar(AWATTAR)
    assert s.index[1].isoformat() == "2023-01-01T00:00:00+00:00"
    assert s.tolist() == [12.06, -0.1]


@pytest.mark.parametrize(
    ("parser", "payload", "message"),
    [
        (parse_energy_charts, {"price": []}, "lacks unix_seconds"),
        (parse_energy_charts, {**ENERGY_CHARTS, "unit": "EUR / kWh"}, "expected EUR / MWh"),
        (parse_awattar, {"data": [{"start_timestamp": 0, "marketprice": 1, "unit": "ct/kWh"}]}, "expected Eur/MWh"),
        (parse_awattar, {"error": "x"}, "lacks a data list"),
    ],
)
def test_bad_answers(parser, payload, message):
    with pytest.raises(DataError, match=message):
        parser(payload)


class FakeAnswer:
    def __init__(self, payload):
        self.payload = payload

    def raise_for_status(self):
        if self.payload is None:
            raise requests.HTTPError("503 Service Unavailable")

    def json(self):
        return self.payload


class FakeSession:
    def __init__(self, payload):
        self.payload = payload
        self.calls = []

    def get(self, url, params, timeout):
        self.calls.append((url, params))
        return FakeAnswer(self.payload)


def test_download_uses_cache_for_past_months(tmp_path):
    cfg = PriceDataConfig(source="energy_charts", start=dt.date(2023, 1, 1), end=dt.date(2023, 1, 1),
                          cache_dir=tmp_path)
    session = FakeSession(ENERGY_CHARTS)
    first = download_prices(cfg, "DE-LU", session=session, today=dt.date(2026, 1, 1))
    assert session.calls[0][1]["bzn"] == "DE-LU"
    n_calls = len(session.calls)
    again = download_prices(cfg, "DE-LU", session=FakeSession(None), today=dt.date(2026, 1, 1))
    assert n_calls == 2  # Dec 2022 and Jan 2023 (a day of margin for the time zone)
    assert first.equals(again)
    assert (tmp_path / "energy_charts" / "DE-LU" / "2023-01.json").is_file()


def test_download_failure_names_url(tmp_path):
    cfg = PriceDataConfig(source="awattar", start=dt.date(2023, 1, 2), end=dt.date(2023, 1, 2), cache_dir=tmp_path)
    with pytest.raises(DataError, match=r"awattar: request https://api\.awattar\.at/v1/marketdata .* failed"):
        download_prices(cfg, "AT", session=FakeSession(None), today=dt.date(2026, 1, 1))
    with pytest.raises(DataError, match="aWATTar serves zones"):
        download_prices(cfg, "FR", session=FakeSession(AWATTAR), today=dt.date(2026, 1, 1))


class RecordedEntsoeClient:
    """Answers like entsoe-py's EntsoePandasClient: a Series in local time."""

    def __init__(self):
        self.calls = []

    def query_day_ahead_prices(self, area, start, end):
        self.calls.append((area.name, start, end))
        index = pd.date_range(start, end, freq="h", inclusive="left").tz_convert("Europe/Brussels")
        return pd.Series(np.arange(len(index), dtype=float), index=index)


def test_entsoe_source_through_entsoe_py_area_mapping(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTSOE_API_TOKEN", "recorded")
    cfg = PriceDataConfig(source="entsoe", start=dt.date(2023, 1, 2), end=dt.date(2023, 1, 3), cache_dir=tmp_path)
    client = RecordedEntsoeClient()
    got = download_prices(cfg, "DE-LU", client=client, today=dt.date(2026, 1, 1))
    assert {name for name, _, _ in client.calls} == {"DE_LU"}  # entsoe-py's own area table
    assert str(got.index.tz) == "UTC" and got.index.is_monotonic_increasing
    again = download_prices(cfg, "DE-LU", client=None, today=dt.date(2026, 1, 1))  # from the cache
    pd.testing.assert_series_equal(got, again)


def test_entsoe_source_needs_its_token_at_load(monkeypatch):
    monkeypatch.delenv("ENTSOE_API_TOKEN", raising=False)
    with pytest.raises(ValueError, match="ENTSOE_API_TOKEN is not set"):
        PriceDataConfig(source="entsoe", start=dt.date(2023, 1, 2), end=dt.date(2023, 1, 3))
