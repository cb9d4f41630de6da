"""Download day-ahead prices from public APIs, cached on disk.

Three sources, behind the same interface as the CSV readers (a raw UTC
``pd.Series`` in EUR/MWh that :func:`twin.io.prices.regularise` finishes):

* ``energy_charts``: Fraunhofer ISE Energy-Charts API, ``GET /price?bzn=ZONE&start=YYYY-MM-DD&end=YYYY-MM-DD``,
  answers ``{"unix_seconds": [...], "price": [...], "unit": "EUR / MWh"}``
  (data: Bundesnetzagentur | SMARD.de, CC BY 4.0).
* ``awattar``: aWATTar market data API (AT and DE-LU), ``GET /v1/marketdata?start=MS&end=MS``,
  answers ``{"data": [{"start_timestamp": MS, "end_timestamp": MS, "marketprice": x, "unit": "Eur/MWh"}]}``.
* ``entsoe``: ENTSO-E Transparency Platform through entsoe-py
  (:mod:`twin.io.entsoe`); token from the environment variable ``token_env``.

Every request goes through one retrying session (:mod:`twin.io.http`).

Answers are cached per source, zone and calendar month as JSON under
``cache_dir`` (default ``~/.cache/bess-twin``); a month that is not over yet is
fetched again. Tests feed the parsers hand-written answers and never call out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.config import PriceDataConfig
from twin.errors import DataError
from twin.io.entsoe import entsoe_area, entsoe_client, query_day_ahead
from twin.io.http import HttpSession, get_json, make_session

ENERGY_CHARTS_URL = "https://api.energy-charts.info/price"
AWATTAR_URLS = {
    "AT": "https://api.awattar.at/v1/marketdata",
    "DE-LU": "https://api.awattar.de/v1/marketdata",
}


def parse_energy_charts(payload: dict[str, Any]) -> pd.Series:
    """Parse an Energy-Charts ``/price`` answer.

    Parameters
    ----------
    payload : dict
        Decoded JSON with ``unix_seconds`` and ``price`` lists.

    Returns
    -------
    pd.Series
        Prices [EUR/MWh] on a UTC index (interval start); ``null`` becomes NaN.

    Raises
    ------
    DataError
        If the keys are missing, the lists differ in length, or the unit is not EUR/MWh.
    """
    if "unix_seconds" not in payload or "price" not in payload:
        raise DataError(f"energy-charts answer lacks unix_seconds/price: keys {sorted(payload)}")
    unit = str(payload.get("unit", "EUR / MWh")).replace(" ", "").upper()
    if unit != "EUR/MWH":
        raise DataError(f"energy-charts answer is in {payload.get('unit')!r}, expected EUR / MWh")
    stamps, prices = payload["unix_seconds"], payload["price"]
    if len(stamps) != len(prices):
        raise DataError("energy-charts answer: unix_seconds and price differ in length")
    values = np.array([np.nan if p is None else float(p) for p in prices], dtype=float)
    index = pd.DatetimeIndex(pd.to_datetime(stamps, unit="s", utc=True), name="timestamp_utc")
    return pd.Series(values, index=index, name="price_eur_per_mwh")


def parse_awattar(payload: dict[str, Any]) -> pd.Series:
    """Parse an aWATTar ``/v1/marketdata`` answer.

    Parameters
    ----------
    payload : dict
        Decoded JSON with a ``data`` list of ``start_timestamp`` [ms],
        ``marketprice`` and ``unit``.

    Returns
    -------
    pd.Series
        Prices [EUR/MWh] on a UTC index (interval start).

    Raises
    ------
    DataError
        If ``data`` is missing or a unit is not EUR/MWh.
    """
    rows = payload.get("data")
    if not isinstance(rows, list):
        raise DataError(f"aWATTar answer lacks a data list: keys {sorted(payload)}")
    bad = {row.get("unit") for row in rows if str(row.get("unit", "")).lower() != "eur/mwh"}
    if bad:
        raise DataError(f"aWATTar answer has units {sorted(map(str, bad))}, expected Eur/MWh")
    index = pd.DatetimeIndex(
        pd.to_datetime([row["start_timestamp"] for row in rows], unit="ms", utc=True),
        name="timestamp_utc",
    )
    values = np.array([float(row["marketprice"]) for row in rows], dtype=float)
    return pd.Series(values, index=index, name="price_eur_per_mwh")


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = (current + dt.timedelta(days=32)).replace(day=1)
    return months


def _request(source: str, zone: str, month: dt.date, nxt: dt.date) -> tuple[str, dict[str, Any]]:
    if source == "energy_charts":
        return ENERGY_CHARTS_URL, {"bzn": zone, "start": month.isoformat(), "end": nxt.isoformat()}
    if zone not in AWATTAR_URLS:
        raise DataError(f"aWATTar serves zones {sorted(AWATTAR_URLS)}, not {zone!r}")
    def to_ms(day: dt.date) -> int:
        return int(pd.Timestamp(day, tz="UTC").timestamp() * 1000)

    return AWATTAR_URLS[zone], {"start": to_ms(month), "end": to_ms(nxt)}


def _fetch_month(
    cfg: PriceDataConfig,
    zone: str,
    month: dt.date,
    nxt: dt.date,
    session: HttpSession | None,
    client: Any,
) -> dict[str, Any]:
    if cfg.source == "entsoe":
        lo, hi = pd.Timestamp(month, tz="UTC"), pd.Timestamp(nxt, tz="UTC")
        series = query_day_ahead(client, entsoe_area(zone), lo, hi)
        return {
            "unix_seconds": [int(t.timestamp()) for t in series.index],
            "price": [None if np.isnan(v) else float(v) for v in series.to_numpy()],
            "unit": "EUR / MWh",
        }
    url, params = _request(cfg.source, zone, month, nxt)
    assert session is not None
    payload: dict[str, Any] = get_json(session, cfg.source, url, params)
    return payload


def download_prices(
    cfg: PriceDataConfig,
    zone: str,
    session: HttpSession | None = None,
    today: dt.date | None = None,
    client: Any = None,
) -> pd.Series:
    """Fetch the prices of ``cfg.start`` to ``cfg.end`` from ``cfg.source``, month by month.

    Parameters
    ----------
    cfg : PriceDataConfig
        ``source`` is ``energy_charts``, ``awattar`` or ``entsoe``; ``start``/``end`` are set.
    zone : str
        Bidding zone, e.g. ``DE-LU``.
    session : HttpSession, optional
        Default: :func:`twin.io.http.make_session` (retries with back-off).
    today : datetime.date, optional
        Months that end after this day are not served from the cache. Default: today.
    client : entsoe.EntsoePandasClient, optional
        For ``entsoe``; default: one with the token from ``cfg.token_env``.

    Returns
    -------
    pd.Series
        Raw prices [EUR/MWh] on a UTC index, trimmed to the requested local days
        (with a day of margin either side for the time zone).

    Raises
    ------
    DataError
        If a request fails or an answer does not parse; names the URL.
    """
    assert cfg.start is not None and cfg.end is not None  # checked by PriceDataConfig
    parse = parse_awattar if cfg.source == "awattar" else parse_energy_charts
    cache = cfg.cache_dir or Path(
        os.environ.get("BESS_TWIN_CACHE", Path.home() / ".cache" / "bess-twin")
    )
    today = today or dt.date.today()
    parts = []
    for month in _months(cfg.start - dt.timedelta(days=1), cfg.end + dt.timedelta(days=1)):
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        path = cache / cfg.source / zone / f"{month:%Y-%m}.json"
        if path.is_file() and nxt <= today:
            payload = json.loads(path.read_text(encoding="utf-8"))
        else:
            if cfg.source == "entsoe" and client is None:
                client = entsoe_client(cfg.token_env)
            if cfg.source != "entsoe" and session is None:
                session = make_session()
            payload = _fetch_month(cfg, zone, month, nxt, session, client)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(payload), encoding="utf-8")
        parts.append(parse(payload))
    series = pd.concat(parts).sort_index()
    series = series[~series.index.duplicated(keep="first")]
    lo = pd.Timestamp(cfg.start, tz="UTC") - pd.Timedelta(days=1)
    hi = pd.Timestamp(cfg.end, tz="UTC") + pd.Timedelta(days=2)
    window: pd.Series = series[(series.index >= lo) & (series.index < hi)]
    return window
