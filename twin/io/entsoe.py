"""ENTSO-E Transparency Platform through entsoe-py: bidding-zone names, client, day-ahead prices.

Zones are looked up in entsoe-py's own ``Area`` table (``DE-LU`` → ``DE_LU`` →
``10Y1001A1001A82H``), so every zone the library knows works. The security
token comes from the environment (``ENTSOE_API_TOKEN`` by default), never from
a scenario file; the client uses the twin's retrying HTTP session.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from entsoe.mappings import Area, lookup_area

from twin.config.base import read_secret
from twin.errors import ConfigError, DataError
from twin.io.http import make_session

TOKEN_ENV_VAR = "ENTSOE_API_TOKEN"
"""Default environment variable of the ENTSO-E security token."""


def entsoe_area(zone: str) -> Area:
    """The entsoe-py ``Area`` of a bidding zone.

    Parameters
    ----------
    zone : str
        Our zone name (``DE-LU``, ``AT``, ``FR``...) or an EIC code.

    Returns
    -------
    entsoe.mappings.Area

    Raises
    ------
    ConfigError
        If entsoe-py does not know the zone; lists a few names it does know.
    """
    try:
        return lookup_area(zone.replace("-", "_"))
    except (ValueError, KeyError):
        known = ", ".join(sorted(a.name.replace("_", "-") for a in Area if "_" in a.name)[:12])
        raise ConfigError(
            f"market.zone = {zone!r} is not an ENTSO-E bidding zone; use e.g. {known}, ..."
        ) from None


def entsoe_client(token_env: str = TOKEN_ENV_VAR) -> Any:
    """An ``entsoe.EntsoePandasClient`` with the token from ``token_env``.

    Raises
    ------
    ConfigError
        If the variable is not set (request a token at transparency.entsoe.eu, 'Restful API').
    """
    from entsoe import EntsoePandasClient

    token = read_secret(token_env, "market.prices.token_env")
    return EntsoePandasClient(api_key=token.get_secret_value(), session=make_session())


def query_day_ahead(client: Any, area: Area, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Day-ahead prices of ``area`` for [start, end), on a UTC index.

    Parameters
    ----------
    client : entsoe.EntsoePandasClient
        Or anything with ``query_day_ahead_prices(area, start=, end=)``.
    area : entsoe.mappings.Area
    start, end : pd.Timestamp
        tz-aware.

    Returns
    -------
    pd.Series
        Prices [EUR/MWh] on a UTC index of interval starts.

    Raises
    ------
    DataError
        If the platform has no data or the request fails.
    """
    try:
        series = client.query_day_ahead_prices(area, start=start, end=end)
    except Exception as err:  # entsoe-py raises NoMatchingDataError, HTTPError, ...
        raise DataError(f"ENTSO-E day-ahead prices for {area.name} failed: {err}") from err
    series = pd.Series(series, dtype=float, name="price_eur_per_mwh")
    series.index = pd.DatetimeIndex(series.index).tz_convert("UTC").rename("timestamp_utc")
    return series[(series.index >= start) & (series.index < end)]
