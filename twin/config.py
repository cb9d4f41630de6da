"""Scenario configuration: pydantic v2 models, loaded from YAML in one place.

A scenario names the market (zone, time zone, gate closure, price data), the
strategy (forecaster, horizon, terminal SoC policy), the sites with their
batteries, and the backtest period. Every model forbids unknown keys and is
frozen. :func:`load_scenario` is the only place YAML is read; its errors name the
YAML key, the bad value and what is allowed.

Paths may contain ``${VAR}`` references to environment variables, most often
``${BESS_TWIN_DATA}`` (the folder of the real data sets).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from twin.device_config import DeviceConfig, SafetyConfig, SimulatedDeviceConfig
from twin.errors import ConfigError, DataError
from twin.frozen_model import FrozenModel
from twin.intraday_config import IntradayConfig
from twin.live_config import LiveConfig
from twin.plant import BatteryDynamics

DATA_ENV_VAR = "BESS_TWIN_DATA"
"""Environment variable that points to the folder of the real data sets."""

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str) -> str:
    """Replace ``${VAR}`` references in ``text`` by the environment's values.

    Parameters
    ----------
    text : str
        A path or string that may contain ``${VAR}`` references.

    Returns
    -------
    str
        ``text`` with every reference replaced.

    Raises
    ------
    ValueError
        If a referenced variable is not set; the message says how to set it.
    """

    def _sub(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name)
        if value is None:
            hint = (
                f"export {name}=/path/to/shared/data (the folder that holds the data sets)"
                if name == DATA_ENV_VAR
                else f"export {name}=..."
            )
            raise ValueError(f"environment variable {name} is not set; {hint}")
        return value

    return _ENV_REF.sub(_sub, text)


def _expand_path(value: Path | None) -> Path | None:
    return None if value is None else Path(expand_env(str(value)))


ExpandedPath = Annotated[Path, AfterValidator(_expand_path)]


class BatterySpec(FrozenModel):
    """Parameters of one battery, as seen from the point of common coupling.

    Attributes
    ----------
    energy_kwh : float
        Nominal energy capacity; SoC is ``energy / energy_kwh``. [kWh]
    p_charge_max_kw, p_discharge_max_kw : float
        Power limits at the PCC. [kW]
    eta_charge, eta_discharge : float
        One-way efficiencies in (0, 1]. [per unit]
    soc_min, soc_max, soc_initial : float
        SoC window and start value; ``soc_min < soc_max`` and
        ``soc_min <= soc_initial <= soc_max``. [fraction]
    standing_loss_per_h : float
        Self-discharge as a fraction of stored energy per hour. [1/h]
    degradation_cost_eur_per_mwh : float
        Cost charged on energy throughput (charge + discharge at the PCC). [EUR/MWh]
    """

    energy_kwh: float = Field(gt=0, description="Nominal energy capacity [kWh]")
    p_charge_max_kw: float = Field(gt=0, description="Maximum charge power at the PCC [kW]")
    p_discharge_max_kw: float = Field(gt=0, description="Maximum discharge power at the PCC [kW]")
    eta_charge: float = Field(0.95, gt=0, le=1, description="Charge efficiency [per unit]")
    eta_discharge: float = Field(0.95, gt=0, le=1, description="Discharge efficiency [per unit]")
    soc_min: float = Field(0.0, ge=0, le=1, description="Lowest allowed SoC [fraction]")
    soc_max: float = Field(1.0, ge=0, le=1, description="Highest allowed SoC [fraction]")
    soc_initial: float = Field(0.5, ge=0, le=1, description="SoC at the start [fraction]")
    standing_loss_per_h: float = Field(0.0, ge=0, lt=1, description="Self-discharge [1/h]")
    degradation_cost_eur_per_mwh: float = Field(
        0.0, ge=0, description="Cost of energy throughput [EUR/MWh]"
    )

    @model_validator(mode="after")
    def _check_soc_window(self) -> BatterySpec:
        if not self.soc_min < self.soc_max:
            raise ValueError(
                f"soc_min ({self.soc_min}) must be less than soc_max ({self.soc_max}); "
                "both are fractions in [0, 1]"
            )
        if not self.soc_min <= self.soc_initial <= self.soc_max:
            raise ValueError(
                f"soc_initial ({self.soc_initial}) must lie within "
                f"[soc_min, soc_max] = [{self.soc_min}, {self.soc_max}]"
            )
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def e_min_kwh(self) -> float:
        """Lowest allowed stored energy. [kWh]"""
        return self.soc_min * self.energy_kwh

    @computed_field  # type: ignore[prop-decorator]
    @property
    def e_max_kwh(self) -> float:
        """Highest allowed stored energy. [kWh]"""
        return self.soc_max * self.energy_kwh


class SiteConfig(FrozenModel):
    """One battery site: an id, its battery, the device behind it and where its actor runs.

    ``device`` picks the hardware (default: a SimPy battery in-process);
    ``dynamics`` is how the simulated plant departs from the planner's ideal
    battery; ``safety`` is the protection at the device edge.
    """

    site_id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=64)
    battery: BatterySpec
    device: DeviceConfig = Field(default_factory=SimulatedDeviceConfig)
    dynamics: BatteryDynamics = Field(default_factory=BatteryDynamics)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    actor_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Ray placement options for the site actor (num_cpus, max_restarts, ...)",
    )


FillPolicy = Literal["error", "ffill", "interpolate", "previous_day"]
DuplicatePolicy = Literal["error", "first", "last", "mean"]


class PriceDataConfig(FrozenModel):
    """Where the day-ahead prices come from and how gaps are treated.

    ``source: csv`` reads a tidy CSV (``timestamp_utc`` plus
    ``price_<zone>_eur_per_mwh`` columns) or a raw ENTSO-E Transparency export;
    ``energy_charts`` and ``awattar`` download from those public APIs and cache
    the answers on disk.
    """

    source: Literal["csv", "energy_charts", "awattar"] = "csv"
    path: ExpandedPath | None = None
    format: Literal["auto", "tidy", "entsoe"] = "auto"
    column: str | None = Field(None, description="Price column; default: picked from the zone")
    fill: FillPolicy = "error"
    max_fill_h: float | None = Field(
        None, gt=0, description="Longest gap a fill policy may fill [h]; None: any"
    )
    duplicates: DuplicatePolicy = "error"
    start: dt.date | None = Field(None, description="First day to download (download sources)")
    end: dt.date | None = Field(None, description="Last day to download, inclusive")
    cache_dir: ExpandedPath | None = None

    @model_validator(mode="after")
    def _check_source(self) -> PriceDataConfig:
        if self.source == "csv" and self.path is None:
            raise ValueError("path is required when source is 'csv'")
        if self.source != "csv" and (self.start is None or self.end is None):
            raise ValueError(f"start and end are required when source is '{self.source}'")
        return self


class ImbalanceConfig(FrozenModel):
    """How deviations from the day-ahead schedule are settled.

    With ``prices`` the imbalance price comes from data (a single price per MTU,
    e.g. Germany's reBAP); without, it is the day-ahead price plus
    ``spread_eur_per_mwh`` when the site is short and minus it when long.
    """

    spread_eur_per_mwh: float = Field(
        20.0, ge=0, description="Penalty spread around the day-ahead price [EUR/MWh]"
    )
    prices: PriceDataConfig | None = None


class MarketConfig(FrozenModel):
    """The day-ahead market the sites trade on."""

    zone: str = Field("DE-LU", description="Bidding zone, e.g. DE-LU or AT")
    timezone: str = Field("Europe/Berlin", description="Local market time zone (IANA name)")
    gate_closure_local: dt.time = Field(
        dt.time(12, 0), description="Day-ahead gate closure on D-1, local time"
    )
    prices: PriceDataConfig
    imbalance: ImbalanceConfig = Field(default_factory=ImbalanceConfig)
    intraday: IntradayConfig = Field(default_factory=IntradayConfig)

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


class TerminalSocConfig(FrozenModel):
    """How the dispatch optimisation treats the energy left at the end of its horizon.

    ``target``: end at or above ``soc`` (default: the battery's ``soc_initial``);
    ``value``: credit the stored energy at ``value_eur_per_mwh`` (default: the mean
    forecast price of the horizon times the discharge efficiency); ``free``: no
    condition (the energy is worth nothing).
    """

    policy: Literal["target", "value", "free"] = "target"
    soc: float | None = Field(None, ge=0, le=1)
    value_eur_per_mwh: float | None = None


ForecasterName = Literal["perfect", "persistence", "seasonal_naive"]


class StrategyConfig(FrozenModel):
    """The EMS strategy every site runs."""

    kind: Literal["arbitrage"] = "arbitrage"
    forecaster: ForecasterName = "persistence"
    horizon_h: float = Field(36.0, ge=24, le=168, description="Optimisation horizon [h]")
    terminal_soc: TerminalSocConfig = Field(default_factory=TerminalSocConfig)


class BacktestConfig(FrozenModel):
    """Which delivery days to simulate.

    ``start`` and ``end`` are local delivery dates, both inclusive. Left out, the
    backtest covers every day for which the data hold prices and the forecaster
    has the history it needs.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    strict: bool = Field(False, description="Raise on data-quality warnings instead of logging")

    @model_validator(mode="after")
    def _check_period(self) -> BacktestConfig:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class Scenario(FrozenModel):
    """A complete backtest scenario."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    market: MarketConfig
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    sites: list[SiteConfig] = Field(min_length=1)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)

    @model_validator(mode="after")
    def _check_unique_sites(self) -> Scenario:
        ids = [site.site_id for site in self.sites]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"site_id values must be unique; repeated: {', '.join(dupes)}")
        return self


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"{source}: {err.error_count()} invalid value(s)"]
    for item in err.errors(include_url=False):
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown key; check the spelling against docs/nomenclature.md"
        if item["type"] == "missing":
            lines.append(f"  {key}: required key is missing")
            continue
        value = item.get("input")
        shown = value if not isinstance(value, dict | list) else type(value).__name__
        lines.append(f"  {key} = {shown!r}: {msg}")
    return "\n".join(lines)


def parse_scenario(
    data: Any, source: str = "scenario", base_dir: Path | None = None
) -> Scenario:
    """Validate a parsed scenario mapping.

    Parameters
    ----------
    data : Any
        The mapping read from YAML.
    source : str
        Name used in error messages (usually the file path).
    base_dir : Path, optional
        Folder that relative file references (``market.intraday.policy``) are
        resolved against: the scenario file's folder. Default: the working folder.

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        If any value is invalid; the message lists every bad key with its value
        and what is allowed.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a scenario must be a YAML mapping, got {type(data).__name__}")
    try:
        return Scenario.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as err:
        raise ConfigError(_format_validation_error(err, source)) from None


def check_data_files(scenario: Scenario) -> None:
    """Check that every data file the scenario names exists.

    Raises
    ------
    DataError
        Naming the missing path and the ``BESS_TWIN_DATA`` hint.
    """
    named = [("market.prices", scenario.market.prices)]
    if scenario.market.imbalance.prices is not None:
        named.append(("market.imbalance.prices", scenario.market.imbalance.prices))
    for key, prices in named:
        path = prices.path
        if prices.source == "csv" and path is not None and not path.is_file():
            raise DataError(
                f"{key}.path: data file not found: {path}\n"
                f"  {DATA_ENV_VAR} is {os.environ.get(DATA_ENV_VAR, '(not set)')!r}; point it at "
                "the folder that holds the data sets, e.g. export BESS_TWIN_DATA=../shared/data"
            )


def load_scenario(path: str | Path, *, check_files: bool = True) -> Scenario:
    """Read and validate a scenario YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    check_files : bool
        Also check that the data files it names exist.

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, or holds invalid values.
    DataError
        If a data file it names does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"scenario file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    scenario = parse_scenario(data, source=str(path), base_dir=path.parent)
    if check_files:
        check_data_files(scenario)
    return scenario
