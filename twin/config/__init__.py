"""Scenario configuration: pydantic v2 models, loaded from YAML in one place.

A scenario names the market (zone, time zone, gate closure, price data,
imbalance, intraday and its trading policy), the strategy (forecaster, horizon,
terminal SoC policy), the sites with their batteries and devices, the backtest
period and the live mode. Every model forbids unknown keys and is frozen.
:func:`load_scenario` is the only entry point; its errors name the YAML key,
the bad value and what is allowed.

The models live by topic: :mod:`twin.config.battery` (battery and plant),
:mod:`twin.config.market` (prices, imbalance), :mod:`twin.config.intraday`
(intraday session, liquidity provider, trading policy),
:mod:`twin.config.devices` (device kinds, safety), :mod:`twin.config.site`,
:mod:`twin.config.strategy` (strategy, backtest period), :mod:`twin.config.live`.
The names most code needs are re-exported here.

Paths may contain ``${VAR}`` references to environment variables, most often
``${BESS_TWIN_DATA}`` (the folder of the real data sets); an unset variable is a
configuration error (:func:`twin.config.base.expand_env`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from twin.config.base import DATA_ENV_VAR, FrozenModel, expand_env, read_yaml
from twin.config.battery import BatteryDynamics, BatterySpec, DegradationSpec, ThermalSpec
from twin.config.devices import DeviceConfig, SafetyConfig
from twin.config.etrm import EtrmConfig
from twin.config.forecasting import ExogenousConfig, ForecastingConfig
from twin.config.intraday import IntradayConfig, LiquidityProviderConfig, TradingPolicy
from twin.config.live import LiveConfig
from twin.config.market import ImbalanceConfig, MarketConfig, PriceDataConfig
from twin.config.site import SiteConfig
from twin.config.strategy import (
    BacktestConfig,
    ForecasterName,
    StrategyConfig,
    TerminalSocConfig,
)
from twin.errors import ConfigError, DataError

__all__ = [
    "DATA_ENV_VAR",
    "BacktestConfig",
    "BatteryDynamics",
    "BatterySpec",
    "DegradationSpec",
    "DeviceConfig",
    "ExogenousConfig",
    "ForecastingConfig",
    "ForecasterName",
    "ImbalanceConfig",
    "IntradayConfig",
    "LiquidityProviderConfig",
    "LiveConfig",
    "MarketConfig",
    "PriceDataConfig",
    "SafetyConfig",
    "Scenario",
    "SiteConfig",
    "StrategyConfig",
    "TerminalSocConfig",
    "ThermalSpec",
    "TradingPolicy",
    "check_data_files",
    "expand_env",
    "load_scenario",
    "parse_scenario",
]


class Scenario(FrozenModel):
    """A complete scenario: the market, the strategy, the sites, the backtest period and live mode."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+$", description="Scenario name: used in run folders and reports"
    )
    description: str = Field("", description="Free text shown in reports")
    market: MarketConfig = Field(
        description="The day-ahead market, its prices, imbalance settlement and intraday trading"
    )
    strategy: StrategyConfig = Field(
        default_factory=StrategyConfig, description="The EMS strategy every site runs"
    )
    sites: list[SiteConfig] = Field(min_length=1, description="The battery sites (at least one)")
    backtest: BacktestConfig = Field(
        default_factory=BacktestConfig, description="Which delivery days a backtest simulates"
    )
    live: LiveConfig = Field(
        default_factory=LiveConfig, description="How `bess-twin live` runs the scenario"
    )
    forecasting: ForecastingConfig = Field(
        default_factory=ForecastingConfig,
        description="Exogenous forecasts and settings of the fitted price forecasters (lear, prophet, lightgbm, ensemble)",
    )
    etrm: EtrmConfig = Field(
        default_factory=EtrmConfig,
        description="Risk, credit, billing and grid services, and the limits of the pre-trade check",
    )

    @model_validator(mode="after")
    def _check_unique_sites(self) -> Scenario:
        ids = [site.site_id for site in self.sites]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"site_id values must be unique; repeated: {', '.join(dupes)}")
        for site in self.sites:
            own = site.strategy
            if own is not None and own.horizon_h != self.strategy.horizon_h:
                raise ValueError(
                    f"sites.{site.site_id}.strategy.horizon_h ({own.horizon_h}) must equal "
                    f"strategy.horizon_h ({self.strategy.horizon_h}): every site plans the same horizon"
                )
            if self.market.intraday.enabled and (
                site.behind_the_meter or self.strategy_of(site).kind != "arbitrage"
            ):
                raise ValueError(
                    f"site {site.site_id}: intraday trading is for day-ahead arbitrage sites; a "
                    "site with a tariff or another strategy cannot trade intraday yet. Set "
                    "market.intraday.enabled: false or run the site with kind: arbitrage"
                )
        known = set(ids) | {"fleet", "default", self.market.intraday.liquidity_provider.name}
        unknown = sorted(set(self.etrm.limits) - known)
        if unknown:
            raise ValueError(f"etrm.limits: unknown participant(s) {unknown}; use a site id, fleet, default or {self.market.intraday.liquidity_provider.name}")
        for limit in self.etrm.grid.shared_limits:
            missing = sorted(set(limit.site_ids) - set(ids))
            if missing:
                raise ValueError(f"etrm.grid.shared_limits.{limit.name}: unknown site(s) {missing}; sites are {ids}")
        return self

    def strategy_of(self, site: SiteConfig) -> StrategyConfig:
        """The strategy ``site`` runs: its own, or the scenario's."""
        return site.strategy if site.strategy is not None else self.strategy


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"{source}: {err.error_count()} invalid value(s)"]
    for item in err.errors(include_url=False):
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown key; check the spelling against docs/scenario-reference.md"
        if item["type"] == "missing":
            lines.append(f"  {key}: required key is missing")
            continue
        value = item.get("input")
        try:
            shown = repr(value)
        except RecursionError:
            shown = type(value).__name__
        if (isinstance(value, dict | list) and len(shown) > 60) or len(shown) > 200:
            shown = type(value).__name__ if isinstance(value, dict | list) else shown[:200] + "..."
        lines.append(f"  {key} = {shown}: {msg}")
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
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a scenario") from None


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
    files = [(f"{key}.path", p.path) for key, p in named if p.source == "csv"]
    if scenario.market.fcr is not None:
        files.append(("market.fcr.prices", scenario.market.fcr.prices))
    files += [(f"market.prices.history_paths[{i}]", p) for i, p in enumerate(scenario.market.prices.history_paths)]
    files += [(f"forecasting.exogenous[{i}].path", e.path) for i, e in enumerate(scenario.forecasting.exogenous)]
    for site in scenario.sites:
        key = f"sites.{site.site_id}"
        if site.load is not None:
            files.append((f"{key}.load.path", site.load.path))
        if site.pv is not None and site.pv.path is not None:
            files.append((f"{key}.pv.path", site.pv.path))
        if site.pv is not None and site.pv.system is not None:
            files.append((f"{key}.pv.system.weather", site.pv.system.weather))
    for key, path in files:
        if path is not None and not Path(path).is_file():
            raise DataError(
                f"{key}: data file not found: {path}\n"
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
    data = read_yaml(path, "scenario")
    scenario = parse_scenario(data, source=str(path), base_dir=path.parent)
    if check_files:
        check_data_files(scenario)
    return scenario
