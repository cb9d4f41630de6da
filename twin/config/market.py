"""The market a scenario trades on: zone, gate, price data, imbalance settlement and intraday."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from twin.config.base import ENV_VAR_NAME, ExpandedPath, FrozenModel, read_secret
from twin.config.intraday import IntradayConfig

FillPolicy = Literal["error", "ffill", "interpolate", "previous_day"]
DuplicatePolicy = Literal["error", "first", "last", "mean"]


class PriceDataConfig(FrozenModel):
    """Where the day-ahead prices come from and how gaps are treated.

    ``source: csv`` reads a tidy CSV (``timestamp_utc`` plus
    ``price_<zone>_eur_per_mwh`` columns) or a raw ENTSO-E Transparency export;
    ``energy_charts``, ``awattar`` and ``entsoe`` download from those public APIs and cache
    the answers on disk.
    """

    source: Literal["csv", "energy_charts", "awattar", "entsoe"] = Field(
        "csv", description="csv: a file; energy_charts, awattar, entsoe: download (entsoe needs a token in token_env)"
    )
    path: ExpandedPath | None = Field(
        None, description="CSV file (tidy or raw ENTSO-E export), gzip allowed; required for source csv"
    )
    format: Literal["auto", "tidy", "entsoe"] = Field(
        "auto", description="CSV layout; auto detects a raw ENTSO-E export by its MTU header"
    )
    column: str | None = Field(None, description="Price column; default: picked from the zone")
    fill: FillPolicy = Field(
        "error", description="Missing steps: error, or fill by carrying forward, time interpolation, or the same local time of the day before"
    )
    max_fill_h: float | None = Field(
        None, gt=0, description="Longest gap a fill policy may fill [h]; None: any"
    )
    duplicates: DuplicatePolicy = Field(
        "error", description="Repeated timestamps: error, or keep the first, the last, or their mean"
    )
    start: dt.date | None = Field(None, description="First day to download (download sources)")
    end: dt.date | None = Field(None, description="Last day to download, inclusive")
    cache_dir: ExpandedPath | None = Field(
        None, description="Download cache folder; default ~/.cache/bess-twin (or BESS_TWIN_CACHE)"
    )
    min_price_eur_per_mwh: float | None = Field(
        None,
        ge=-1e6,
        le=1e6,
        description=(
            "Lowest plausible price; default -500 (SDAC harmonised minimum) for day-ahead, "
            "-100,000 for imbalance prices [EUR/MWh]"
        ),
    )
    max_price_eur_per_mwh: float | None = Field(
        None,
        ge=-1e6,
        le=1e6,
        description=(
            "Highest plausible price; default 4,000 (SDAC harmonised maximum) for day-ahead, "
            "100,000 for imbalance prices [EUR/MWh]"
        ),
    )
    token_env: str = Field(
        "ENTSOE_API_TOKEN",
        pattern=ENV_VAR_NAME,
        description="Environment variable with the ENTSO-E security token (source: entsoe)",
    )

    @model_validator(mode="after")
    def _check_source(self) -> PriceDataConfig:
        if self.source == "csv" and self.path is None:
            raise ValueError("path is required when source is 'csv'")
        if self.source != "csv" and (self.start is None or self.end is None):
            raise ValueError(f"start and end are required when source is '{self.source}'")
        if self.source == "entsoe":
            read_secret(self.token_env, "token_env")
        low, high = self.min_price_eur_per_mwh, self.max_price_eur_per_mwh
        if low is not None and high is not None and not low < high:
            raise ValueError(
                f"min_price_eur_per_mwh ({low}) must be below max_price_eur_per_mwh ({high})"
            )
        return self


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
