"""Day-ahead price feeds for the market actor: replay on a clock, or live APIs.

Every feed answers one question: which prices are published at ``now``, for
delivery from ``start`` to ``end``? (``fetch(start, end, now)`` returns a UTC
``pd.Series`` in EUR/MWh.)

* :class:`ReplayFeed` replays a historical series: the prices of local day D
  become public at D-1 gate closure + ``publish_delay_min`` (SDAC publishes
  its results about 45 minutes after the 12:00 gate).
* :class:`EnergyChartsFeed` and :class:`AwattarFeed` call the public APIs
  (parsers in :mod:`twin.io.download`).
* :class:`EntsoeFeed` calls the ENTSO-E Transparency Platform through
  entsoe-py; the security token comes from the environment
  (``ENTSOE_API_TOKEN``), never from a scenario file.

Live feeds take their HTTP session or client as an argument, so tests run them
on recorded answers without the network.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Protocol

import pandas as pd

from twin.errors import ConfigError, DataError
from twin.io.download import (
    AWATTAR_URLS,
    ENERGY_CHARTS_URL,
    TIMEOUT_S,
    HttpSession,
    parse_awattar,
    parse_energy_charts,
)

ENTSOE_ZONES = {"DE-LU": "DE_LU", "AT": "AT", "FR": "FR", "NL": "NL", "BE": "BE", "CH": "CH"}
"""Our bidding-zone names to entsoe-py's area codes."""


class PriceFeed(Protocol):
    """A source of published day-ahead prices."""

    name: str

    def fetch(self, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
        """Prices for delivery in [start, end) published at ``now`` (UTC). [EUR/MWh]"""
        ...


class ReplayFeed:
    """Replays historical prices as they were published.

    Parameters
    ----------
    price_eur_per_mwh : pd.Series
        Historical clearing prices on a tz-aware UTC index. [EUR/MWh]
    timezone : str
        Local market time.
    gate_closure_local : datetime.time
    publish_delay_min : float
        Results appear this long after the gate. [min]
    """

    name = "replay"

    def __init__(
        self,
        price_eur_per_mwh: pd.Series,
        timezone: str = "Europe/Berlin",
        gate_closure_local: dt.time = dt.time(12, 0),
        publish_delay_min: float = 45.0,
    ) -> None:
        self.prices = price_eur_per_mwh
        local_day = price_eur_per_mwh.index.tz_convert(timezone).normalize().tz_localize(None)
        gate = pd.Timedelta(hours=gate_closure_local.hour, minutes=gate_closure_local.minute)
        published_local = local_day - pd.Timedelta(days=1) + gate + pd.Timedelta(
            minutes=publish_delay_min
        )
        self.published_utc = pd.DatetimeIndex(published_local).tz_localize(
            timezone, ambiguous="NaT", nonexistent="shift_forward"
        ).tz_convert("UTC")

    def fetch(self, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
        """Historical prices in [start, end) whose publication time is at or before ``now``."""
        idx = self.prices.index
        mask = (idx >= start) & (idx < end) & (self.published_utc <= now)
        return self.prices[mask]


class _HttpFeed:
    def __init__(self, zone: str, session: HttpSession | None = None) -> None:
        self.zone = zone
        if session is None:
            import requests

            session = requests.Session()
        self.session = session

    def _get(self, url: str, params: dict[str, Any]) -> Any:
        try:
            answer = self.session.get(url, params=params, timeout=TIMEOUT_S)
            answer.raise_for_status()
            return answer.json()
        except Exception as err:  # requests raises many types; all mean "no data now"
            raise DataError(f"{self.name} price request {url} {params} failed: {err}") from err

    name = "http"


def _window(series: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    series = series.dropna().sort_index()
    return series[(series.index >= start) & (series.index < end)]


class EnergyChartsFeed(_HttpFeed):
    """Fraunhofer ISE Energy-Charts ``/price`` (data: Bundesnetzagentur | SMARD.de)."""

    name = "energy_charts"

    def fetch(self, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
        """Prices in [start, end) as the API has them at ``now``."""
        params = {
            "bzn": self.zone,
            "start": start.tz_convert("UTC").date().isoformat(),
            "end": (end.tz_convert("UTC") + pd.Timedelta(days=1)).date().isoformat(),
        }
        return _window(parse_energy_charts(self._get(ENERGY_CHARTS_URL, params)), start, end)


class AwattarFeed(_HttpFeed):
    """aWATTar market data API (AT and DE-LU)."""

    name = "awattar"

    def fetch(self, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
        """Prices in [start, end) as the API has them at ``now``."""
        if self.zone not in AWATTAR_URLS:
            raise ConfigError(f"aWATTar serves zones {sorted(AWATTAR_URLS)}, not {self.zone!r}")
        to_ms = lambda ts: int(ts.tz_convert("UTC").timestamp() * 1000)  # noqa: E731
        payload = self._get(AWATTAR_URLS[self.zone], {"start": to_ms(start), "end": to_ms(end)})
        return _window(parse_awattar(payload), start, end)


class EntsoeFeed:
    """ENTSO-E Transparency Platform day-ahead prices through entsoe-py.

    Parameters
    ----------
    zone : str
        Our zone name (``DE-LU``, ``AT``, ...).
    client : object, optional
        An ``entsoe.EntsoePandasClient`` (or anything with
        ``query_day_ahead_prices``); default: one built with the token.
    token : str, optional
        Security token; default: the ``ENTSOE_API_TOKEN`` environment variable.

    Raises
    ------
    ConfigError
        If no client is given and no token is set, or the zone is unknown.
    """

    name = "entsoe"

    def __init__(self, zone: str, client: Any = None, token: str | None = None) -> None:
        if zone not in ENTSOE_ZONES:
            raise ConfigError(f"ENTSO-E feed: zone {zone!r} unknown; use one of {sorted(ENTSOE_ZONES)}")
        self.area = ENTSOE_ZONES[zone]
        if client is None:
            token = token or os.environ.get("ENTSOE_API_TOKEN")
            if not token:
                raise ConfigError(
                    "ENTSO-E feed needs a security token: export ENTSOE_API_TOKEN=... "
                    "(request one at transparency.entsoe.eu, 'Restful API')"
                )
            from entsoe import EntsoePandasClient

            client = EntsoePandasClient(api_key=token)
        self.client = client

    def fetch(self, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
        """Prices in [start, end) as the platform has them at ``now``."""
        try:
            series = self.client.query_day_ahead_prices(self.area, start=start, end=end)
        except Exception as err:  # entsoe-py raises NoMatchingDataError, HTTPError, ...
            raise DataError(f"ENTSO-E day-ahead prices for {self.area} failed: {err}") from err
        series = pd.Series(series, dtype=float)
        series.index = pd.DatetimeIndex(series.index).tz_convert("UTC")
        return _window(series, start, end)
