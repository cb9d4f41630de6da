"""Day-ahead price feeds for the market actor: replay on a clock, or live APIs.

Every feed answers one question: which prices are published at ``now``, for
delivery from ``start`` to ``end``? (``fetch(start, end, now)`` returns a UTC
``pd.Series`` in EUR/MWh.)

* :class:`ReplayFeed` replays a historical series: the prices of local day D
  become public when the publication calendar says
  (:mod:`twin.markets.calendar`: D-1 gate closure + the publication delay).
* :class:`EnergyChartsFeed` and :class:`AwattarFeed` call the public APIs
  (parsers in :mod:`twin.io.download`).
* :class:`EntsoeFeed` calls the ENTSO-E Transparency Platform through
  entsoe-py; the security token comes from the environment
  (``ENTSOE_API_TOKEN``), never from a scenario file.

Live feeds take their HTTP session or client as an argument, so tests run them
on recorded answers without the network.
"""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from twin.errors import ConfigError
from twin.io.download import AWATTAR_URLS, ENERGY_CHARTS_URL, parse_awattar, parse_energy_charts
from twin.io.entsoe import TOKEN_ENV_VAR, entsoe_area, entsoe_client, query_day_ahead
from twin.io.http import HttpSession, get_json, make_session
from twin.markets.calendar import PublicationCalendar


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
    calendar : PublicationCalendar
        When each delivery day's result became public (D-1 gate + delay, local time).
    """

    name = "replay"

    def __init__(self, price_eur_per_mwh: pd.Series, calendar: PublicationCalendar) -> None:
        self.prices = price_eur_per_mwh
        self.published_utc = calendar.day_ahead_publication_utc(
            pd.DatetimeIndex(price_eur_per_mwh.index)
        )

    def fetch(self, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
        """Historical prices in [start, end) whose publication time is at or before ``now``."""
        idx = self.prices.index
        mask = (idx >= start) & (idx < end) & (self.published_utc <= now)
        return self.prices[mask]


class _HttpFeed:
    name = "http"

    def __init__(self, zone: str, session: HttpSession | None = None) -> None:
        self.zone = zone
        self.session: HttpSession = session if session is not None else make_session()

    def _get(self, url: str, params: dict[str, Any]) -> Any:
        return get_json(self.session, self.name, url, params)


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
        def to_ms(ts: pd.Timestamp) -> int:
            return int(ts.tz_convert("UTC").timestamp() * 1000)

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
    token_env : str
        Environment variable that holds the security token.

    Raises
    ------
    ConfigError
        If no client is given and the token is not set, or entsoe-py does not know the zone.
    """

    name = "entsoe"

    def __init__(self, zone: str, client: Any = None, token_env: str = TOKEN_ENV_VAR) -> None:
        self.area = entsoe_area(zone)
        self.client = client if client is not None else entsoe_client(token_env)

    def fetch(self, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp) -> pd.Series:
        """Prices in [start, end) as the platform has them at ``now``."""
        return _window(query_day_ahead(self.client, self.area, start, end), start, end)
