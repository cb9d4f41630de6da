"""Forecasting: exogenous day-ahead forecasts (with when they are public) and the models' settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from twin.config.base import ExpandedPath, FrozenModel

PRICE_MODELS = ("lear", "prophet", "lightgbm", "ensemble")
"""Day-ahead price models fitted on prices and exogenous forecasts (besides the naive ones)."""


class ExogenousConfig(FrozenModel):
    """One file of exogenous day-ahead forecasts (load, wind, solar) for the price models.

    A tidy CSV with ``timestamp_utc`` and numeric columns, such as the ENTSO-E
    load, wind and solar forecasts in ``load_wind_solar_forecast_de_lu_entsoe``.

    ``public_before_gate: true`` treats the forecasts for day D as known at D's
    day-ahead gate, as the epftoolbox benchmark does. For ENTSO-E data that is
    the rule for the load forecast (Reg. 543/2013 Art. 6.1.b: at the latest 2 h
    before the gate) but not guaranteed for wind and solar (Art. 14.1.d: by
    18:00 on D-1); ``false`` hands the models the forecast published for D-1 in
    D's place, which is always public in time.
    """

    path: ExpandedPath = Field(description="CSV file with timestamp_utc and the forecast columns (gzip allowed)")
    columns: list[str] | None = Field(
        None, min_length=1, description="Columns to use; default: every column whose name holds 'forecast_day_ahead'"
    )
    public_before_gate: bool = Field(
        True, description="D's forecasts are public before D's day-ahead gate (the epftoolbox convention); false: use D-1's"
    )


class ForecastingConfig(FrozenModel):
    """Settings of the fitted price models and their vintage cache."""

    exogenous: list[ExogenousConfig] = Field(
        default_factory=list, description="Exogenous forecast files for lear, prophet, lightgbm and ensemble"
    )
    lear_windows_days: list[int] = Field(
        [56, 84, 1092, 1456], min_length=1, description="LEAR calibration windows [d] (Lago et al. 2021)"
    )
    lightgbm_window_days: int = Field(728, ge=28, le=4000, description="LightGBM training window [d]")
    lightgbm_refit_days: int = Field(7, ge=1, le=90, description="LightGBM re-trains every this many days [d]")
    prophet_window_days: int = Field(365, ge=28, le=4000, description="Prophet calibration window [d]")
    ensemble_members: list[Literal["lear", "prophet", "lightgbm", "persistence", "seasonal_naive"]] = Field(
        ["lear", "lightgbm"], min_length=2, description="Models the ensemble combines"
    )
    ensemble_weighting: Literal["mean", "inverse_mae"] = Field(
        "inverse_mae", description="mean, or weights inverse to each member's MAE over the last weights_window_days"
    )
    ensemble_weights_window_days: int = Field(28, ge=1, le=365, description="Days of past errors behind the ensemble's weights [d]")
    holidays_country: str | None = Field("DE", description="Country of the public holidays in the calendar features (holidays package); null: none")
    jobs: int = Field(0, ge=0, le=64, description="Processes fitting LEAR's windows in parallel; 0: one per CPU")
    cache_dir: ExpandedPath | None = Field(
        None, description="Vintage cache; default ~/.cache/bess-twin/forecasts (or BESS_TWIN_CACHE)"
    )

    @field_validator("lear_windows_days")
    @classmethod
    def _windows_positive(cls, value: list[int]) -> list[int]:
        if any(w < 14 for w in value):
            raise ValueError(f"every LEAR window needs at least 14 days; got {value}")
        return value
