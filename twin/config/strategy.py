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


ForecasterName = Literal["perfect", "persistence", "seasonal_naive"]


class StrategyConfig(FrozenModel):
    """The EMS strategy every site runs."""

    kind: Literal["arbitrage"] = Field("arbitrage", description="EMS strategy")
    forecaster: ForecasterName = Field(
        "persistence", description="Price forecaster: perfect (the benchmark), persistence (same hour on D-1), seasonal_naive (same hour one week earlier)"
    )
    horizon_h: float = Field(36.0, ge=24, le=168, description="Optimisation horizon [h]")
    terminal_soc: TerminalSocConfig = Field(
        default_factory=TerminalSocConfig, description="How the optimisation values the energy left at the end of its horizon"
    )


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
