"""What sits behind a site's meter: load, PV, the grid connection and the tariff.

A site without any of these is a grid-scale battery that trades the day-ahead
market (the default). With a load and/or PV it is a behind-the-meter site: its
flow at the PCC, ``grid_kw = load_kw - pv_kw - power_kw`` (positive importing),
is settled by its :class:`TariffConfig`, not in the auction.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from twin.config.base import MAX_POWER_KW, ExpandedPath, FrozenModel

ProfileForecast = Literal["persistence", "weekly", "week_max", "typical_week", "lightgbm", "perfect"]
"""How the planner forecasts a load or PV series: ``persistence`` (the value 24 h,
48 h, ... earlier, the first measured before the decision), ``weekly`` (the value
7, 14, ... days earlier: same weekday, for working-day loads), ``week_max`` (the
highest value at the same time over the last 7 measured days: for PV, an
envelope that keeps room for the sun that may come), ``typical_week`` (the mean
of the same weekday and time over the last four measured weeks), ``lightgbm``
(gradient-boosted trees on calendar features and measured lags,
:mod:`twin.forecast.profile`) or ``perfect`` (the realised values: an upper
bound, labelled so)."""


class LoadConfig(FrozenModel):
    """The site's consumption: a measured series or a BDEW standard load profile.

    ``kind: measured`` reads a CSV with ``timestamp_utc`` and ``column`` (mean
    kW over each interval). ``kind: bdew`` builds the year from the BDEW typical
    days of ``profile`` (e.g. ``G25``, ``H25`` from the 2025 profiles; ``g0``,
    ``h0`` from the 1999 ones) with the public holidays of ``holidays_country``
    (and ``holidays_subdiv``), scaled to ``annual_kwh``. Series of another year
    are re-based onto the backtest's year by day of year and weekday
    (:func:`twin.io.profiles.rebase_to_year`).
    """

    kind: Literal["measured", "bdew"] = Field(description="measured: a CSV series; bdew: a standard load profile")
    path: ExpandedPath = Field(description="CSV file: the measured series, or the BDEW typical-day table")
    column: str | None = Field(None, description="Column of the measured series [kW]; required for measured")
    profile: str | None = Field(None, description="BDEW profile name (G25, H25, L25, P25, S25; g0-g6, h0, l0-l2); required for bdew")
    annual_kwh: float | None = Field(None, gt=0, le=1e10, description="Annual energy the BDEW profile is scaled to [kWh/a]")
    scale: float = Field(1.0, gt=0, le=1e6, description="Factor on a measured series [-]")
    holidays_country: str = Field("DE", description="Country of the public holidays (holidays package) that count as Sundays")
    holidays_subdiv: str | None = Field(None, description="Subdivision of the holidays, e.g. BW")
    forecast: ProfileForecast = Field("persistence", description="persistence: same time on the last measured day; weekly: same time one week earlier; typical_week: mean of the last four same weekdays; lightgbm: trees on calendar features and lags; perfect: the realised load (an upper bound)")

    @model_validator(mode="after")
    def _check_kind(self) -> LoadConfig:
        if self.kind == "measured" and self.column is None:
            raise ValueError("column is required for a measured load (e.g. household_consumption_kw_derived)")
        if self.kind == "bdew" and (self.profile is None or self.annual_kwh is None):
            raise ValueError("profile and annual_kwh are required for a bdew load (e.g. profile: G25, annual_kwh: 800000)")
        return self


class PvSystemConfig(FrozenModel):
    """A PV system converted from weather with pvlib (PVWatts DC model, Faiman cell temperature)."""

    kwp: float = Field(gt=0, le=MAX_POWER_KW, description="DC peak power [kWp]")
    tilt_deg: float = Field(30.0, ge=0, le=90, description="Module tilt from horizontal [deg]")
    azimuth_deg: float = Field(180.0, ge=0, lt=360, description="Module azimuth, 180 = south [deg]")
    losses_fraction: float = Field(0.14, ge=0, lt=1, description="System losses (PVWatts default 14 %) [fraction]")
    gamma_pdc_per_c: float = Field(-0.004, ge=-0.02, le=0, description="Power temperature coefficient [1/°C]")
    latitude_deg: float = Field(ge=-90, le=90, description="Site latitude [deg]")
    longitude_deg: float = Field(ge=-180, le=180, description="Site longitude [deg]")
    weather: ExpandedPath = Field(description="Hourly weather CSV: timestamp_utc, ghi_w_per_m2, dhi_w_per_m2, temp_air_c, wind_speed_m_per_s")


class PvConfig(FrozenModel):
    """The site's PV: a measured series or a PV system computed from weather."""

    kind: Literal["measured", "pvlib"] = Field(description="measured: a CSV series; pvlib: a PV system from weather")
    path: ExpandedPath | None = Field(None, description="CSV of the measured series; required for measured")
    column: str | None = Field(None, description="Column of the measured series [kW]")
    system: PvSystemConfig | None = Field(None, description="The PV system; required for pvlib")
    forecast: ProfileForecast | Literal["weather"] = Field("persistence", description="persistence: same time on the last measured day; weekly: one week earlier; week_max: the highest of the last 7 measured days; typical_week; lightgbm: trees on calendar features and lags; weather (pvlib sites): pvlib on the DWD weather taken as the weather forecast, which is also the weather that makes the PV, so an upper bound; perfect: the realised PV (an upper bound)")

    @model_validator(mode="after")
    def _check_kind(self) -> PvConfig:
        if self.forecast == "weather" and self.kind != "pvlib":
            raise ValueError("forecast: weather needs kind: pvlib (a PV system and its weather file)")
        if self.kind == "measured" and (self.path is None or self.column is None):
            raise ValueError("path and column are required for measured PV (e.g. column: pv_kw)")
        if self.kind == "pvlib" and self.system is None:
            raise ValueError("system is required for pvlib PV (kwp, tilt_deg, azimuth_deg, latitude_deg, longitude_deg, weather)")
        return self

    @property
    def kwp(self) -> float | None:
        """Peak power of a pvlib system, None for a measured series. [kWp]"""
        return self.system.kwp if self.system is not None else None


class GridConnectionConfig(FrozenModel):
    """Limits of the connection at the PCC.

    ``feed_in_limit_fraction_of_kwp`` is the German 70 % rule (EEG 2017 §9(2),
    for small PV without remote control): export at most that fraction of the
    PV peak power. Export above a limit is curtailed PV.
    """

    import_max_kw: float | None = Field(None, gt=0, le=MAX_POWER_KW, description="Import limit [kW]; none: unlimited")
    export_max_kw: float | None = Field(None, gt=0, le=MAX_POWER_KW, description="Export limit [kW]; none: unlimited")
    feed_in_limit_kw: float | None = Field(None, ge=0, le=MAX_POWER_KW, description="Feed-in limit [kW]")
    feed_in_limit_fraction_of_kwp: float | None = Field(None, ge=0, le=1, description="Feed-in limit as a fraction of the PV peak power (0.7: the 70 % rule)")


class TariffConfig(FrozenModel):
    """What the site pays for imports and is paid for exports.

    Import price per kWh: ``import_fixed_eur_per_kwh`` when set, else the
    day-ahead price plus ``import_markup_eur_per_kwh``; ``grid_fee_eur_per_kwh``
    and ``taxes_eur_per_kwh`` are added either way (VAT is not modelled: prices
    net). Export: ``export_kind: feed_in_tariff`` pays ``feed_in_tariff_eur_per_kwh``;
    ``day_ahead`` pays the day-ahead price. ``demand_charge_eur_per_kw_per_year``
    is billed monthly (one twelfth per calendar month of the market time zone)
    on the month's highest import (mean over one step).
    """

    import_kind: Literal["fixed", "day_ahead"] = Field("fixed", description="fixed: import_fixed_eur_per_kwh; day_ahead: the day-ahead price plus import_markup_eur_per_kwh")
    import_fixed_eur_per_kwh: float = Field(0.0, ge=0, le=10, description="Fixed energy price [EUR/kWh]")
    import_markup_eur_per_kwh: float = Field(0.0, ge=-1, le=10, description="Supplier markup on the day-ahead price [EUR/kWh]")
    grid_fee_eur_per_kwh: float = Field(0.0, ge=0, le=10, description="Grid fee on imports [EUR/kWh]")
    taxes_eur_per_kwh: float = Field(0.0, ge=0, le=10, description="Levies and taxes on imports [EUR/kWh]")
    export_kind: Literal["feed_in_tariff", "day_ahead", "none"] = Field("feed_in_tariff", description="feed_in_tariff: a fixed price; day_ahead: the day-ahead price; none: exports earn nothing")
    feed_in_tariff_eur_per_kwh: float = Field(0.0, ge=0, le=10, description="Feed-in tariff [EUR/kWh]")
    demand_charge_eur_per_kw_per_year: float = Field(0.0, ge=0, le=10_000, description="Demand charge on the monthly peak import, per year (billed monthly) [EUR/kW/a]")

    @property
    def demand_charge_eur_per_kw_per_month(self) -> float:
        """The demand charge of one monthly billing period. [EUR/kW]"""
        return self.demand_charge_eur_per_kw_per_year / 12.0
