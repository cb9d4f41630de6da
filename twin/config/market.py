"""The market a scenario trades on: zone, gate, price data, imbalance settlement and intraday."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from twin.config.base import FrozenModel
from twin.config.intraday import IntradayConfig
from twin.config.prices import DuplicatePolicy, FillPolicy, PriceDataConfig
from twin.config.reserve import FcrConfig

__all__ = ["DuplicatePolicy", "FillPolicy", "ImbalanceConfig", "MarketConfig", "PriceDataConfig"]


class ImbalanceConfig(FrozenModel):
    """How deviations from the day-ahead schedule are settled.

    With ``prices`` the imbalance price comes from data (a single price per MTU,
    e.g. Germany's reBAP); without, it is the day-ahead price plus
    ``spread_eur_per_mwh`` when the site is short and minus it when long.
    """

    spread_eur_per_mwh: float = Field(
        20.0, ge=0, le=10_000, description="Penalty spread around the day-ahead price [EUR/MWh]"
    )
    prices: PriceDataConfig | None = Field(
        None, description="Measured imbalance prices (e.g. reBAP); none: day-ahead price +- spread_eur_per_mwh"
    )


class MarketConfig(FrozenModel):
    """The day-ahead market the sites trade on."""

    zone: str = Field("DE-LU", description="Bidding zone, e.g. DE-LU or AT")
    timezone: str = Field("Europe/Berlin", description="Local market time zone (IANA name)")
    gate_closure_local: dt.time = Field(
        dt.time(12, 0), description="Day-ahead gate closure on D-1, local time"
    )
    publication_delay_min: float = Field(
        45.0,
        ge=0,
        le=720,
        description="Day-ahead results are public this long after the gate (EPEX: ~45) [min]",
    )
    prices: PriceDataConfig = Field(description="Where the day-ahead prices come from")
    imbalance: ImbalanceConfig = Field(
        default_factory=ImbalanceConfig, description="How deviations from the schedule are settled"
    )
    intraday: IntradayConfig = Field(
        default_factory=IntradayConfig, description="Intraday trading on the internal exchange"
    )
    fcr: FcrConfig | None = Field(None, description="FCR capacity market; none: no FCR")

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin"
            ) from err
        return value
