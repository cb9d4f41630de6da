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
