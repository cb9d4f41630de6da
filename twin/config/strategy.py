"""The EMS strategy every site runs, and the backtest period."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from twin.config.base import FrozenModel


class TerminalSocConfig(FrozenModel):
    """How the dispatch optimisation treats the energy left at the end of its horizon.

    ``target``: end at or above ``soc`` (default: the battery's ``soc_initial``);
    ``value``: credit the stored energy at ``value_eur_per_mwh`` (default: the mean
    forecast price of the horizon times the discharge efficiency); ``free``: no
    condition (the energy is worth nothing).
    """

    policy: Literal["target", "value", "free"] = Field(
        "target", description="target: end at or above soc; value: credit the stored energy; free: no condition"
    )
    soc: float | None = Field(
        None, ge=0, le=1, description="Terminal SoC target; default: the battery's soc_initial [fraction]"
    )
    value_eur_per_mwh: float | None = Field(
        None, ge=-10_000, le=10_000, description="Value of stored energy at the horizon's end; default: mean forecast price times eta_discharge [EUR/MWh]"
    )


ForecasterName = Literal[
    "perfect", "persistence", "seasonal_naive", "lear", "prophet", "lightgbm", "ensemble"
]

StrategyName = Literal[
    "arbitrage", "peak_shaving", "self_consumption", "load_balancing", "fcr", "stacked"
]
"""A named set of objective terms (:mod:`twin.ems.strategies`)."""

STRATEGY_NAMES: tuple[str, ...] = (
    "arbitrage",
    "peak_shaving",
    "self_consumption",
    "load_balancing",
    "fcr",
    "stacked",
)


_AUTO_CANDIDATES: tuple[StrategyName, ...] = (
    "arbitrage", "peak_shaving", "self_consumption", "load_balancing", "fcr"
)


class StrategyConfig(FrozenModel):
    """The EMS strategy a site runs (the scenario's, or a site's own).

    ``kind`` names the objective terms of the site's optimisation
    (:mod:`twin.ems.strategies`); ``auto`` evaluates each of ``candidates`` on
    the day's forecast and switches to the best only when it beats the current
    one by more than ``switch_threshold`` (the original EMS's
    ``selection_mode: auto``, ``switch_threshold: 0.15``).
    """

    kind: Literal[
        "arbitrage", "peak_shaving", "self_consumption", "load_balancing", "fcr", "stacked", "auto"
    ] = Field("arbitrage", description="EMS strategy: one of the objective-term sets, stacked (all that apply) or auto (daily choice)")
    candidates: list[StrategyName] = Field(
        default_factory=lambda: list(_AUTO_CANDIDATES),
        min_length=1,
        description="Strategies auto chooses from (those that do not apply to the site are skipped)",
    )
    switch_threshold: float = Field(
        0.15, ge=0, le=10, description="auto switches when the best candidate's forecast value beats the current one's by more than this fraction"
    )
    cycles_per_year: float | None = Field(
        None, gt=0, le=10_000, description="Equivalent-full-cycle budget per year, paced by a daily shadow price; none: no budget"
    )
    cycle_pacing_gain_eur_per_mwh: float = Field(
        10.0, ge=0, le=10_000, description="Shadow-price step per equivalent full cycle above (below) the pro-rata budget [EUR/MWh per cycle]"
    )
    replan_interval_h: float | None = Field(
        None, ge=0.25, le=24, description="A behind-the-meter site re-plans the rest of the day this often from the measured SoC and the latest load and PV (model-predictive control); none: once a day at the gate [h]"
    )
    load_balancing_eur_per_kw: float = Field(
        0.0, ge=0, le=1_000, description="Penalty on each step-to-step change of grid power; load_balancing needs it > 0, stacked uses it when > 0 [EUR/kW]"
    )
    forecaster: ForecasterName = Field(
        "persistence", description="Price forecaster: perfect (the benchmark), persistence (same hour on D-1), seasonal_naive (same hour one week earlier), or a fitted model: lear, prophet, lightgbm, ensemble (settings and exogenous files under forecasting)"
    )
    horizon_h: float = Field(36.0, ge=24, le=168, description="Optimisation horizon [h]")
    terminal_soc: TerminalSocConfig = Field(
        default_factory=TerminalSocConfig, description="How the optimisation values the energy left at the end of its horizon"
    )

    @model_validator(mode="after")
    def _check_terms(self) -> StrategyConfig:
        uses_lb = self.kind == "load_balancing" or (
            self.kind == "auto" and "load_balancing" in self.candidates and len(self.candidates) == 1
        )
        if uses_lb and self.load_balancing_eur_per_kw <= 0:
            raise ValueError(
                "load_balancing needs load_balancing_eur_per_kw > 0 (the penalty per kW of "
                "step-to-step change of grid power), e.g. 0.01"
            )
        return self


class BacktestConfig(FrozenModel):
    """Which delivery days to simulate.

    ``start`` and ``end`` are local delivery dates, both inclusive. Left out, the
    backtest covers every day for which the data hold prices and the forecaster
    has the history it needs.
    """

    start: dt.date | None = Field(
        None, description="First local delivery day (inclusive); default: the first the data and forecaster allow"
    )
    end: dt.date | None = Field(
        None, description="Last local delivery day (inclusive); default: the last full day of the data"
    )
    strict: bool = Field(
        False,
        description=(
            "Data-quality warnings (price gaps filled by a fill policy) are errors instead of "
            "log warnings"
        ),
    )

    @model_validator(mode="after")
    def _check_period(self) -> BacktestConfig:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self
