"""Where a price series comes from and how its gaps are treated (day-ahead, imbalance, intraday)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from twin.config.base import ENV_VAR_NAME, ExpandedPath, FrozenModel, read_secret

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
    history_paths: list[ExpandedPath] = Field(
        default_factory=list,
        description="Earlier tidy price files: published history for the forecasters only, never delivery days (source csv)",
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
