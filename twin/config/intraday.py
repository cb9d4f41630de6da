"""Configuration of intraday trading: the exchange's trading policy, the internal session and its LP."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from twin.config.base import FrozenModel, expand_env, read_yaml
from twin.errors import ConfigError


class TradingPolicy(FrozenModel):
    """Market rules of the exchange, from ``policy.yaml``.

    ``per_market_rps`` keeps the seed's name, but its unit is orders per
    minute (the seed's value 120 means two orders a second).
    """

    per_market_rps: float = Field(
        120.0, gt=0, description="Orders per minute per participant and market [1/min]"
    )
    burst: int | None = Field(
        None, ge=1, description="Token-bucket capacity [orders]; default: one minute's worth"
    )
    participant_rps: dict[str, float] = Field(
        default_factory=dict,
        description="Per-participant overrides of per_market_rps, e.g. for a market maker [1/min]",
    )
    soc_min: float = Field(0.15, ge=0, le=1, description="SoC floor for sells [fraction]")
    soc_max: float = Field(0.90, ge=0, le=1, description="SoC ceiling for buys [fraction]")
    derate_temperature_c: float = Field(40.0, description="Halve rate and power from here [°C]")
    stop_temperature_c: float = Field(45.0, description="No trading from here [°C]")
    derate_factor: float = Field(0.5, gt=0, le=1, description="Rate and power factor [per unit]")
    fee_eur_per_mwh: float = Field(
        0.0, ge=0, description="Exchange fee per side and MWh traded [EUR/MWh]"
    )

    @model_validator(mode="after")
    def _ordered(self) -> TradingPolicy:
        if self.soc_min >= self.soc_max:
            raise ValueError(f"soc_min {self.soc_min} must be below soc_max {self.soc_max}")
        if self.derate_temperature_c > self.stop_temperature_c:
            raise ValueError(
                f"derate_temperature_c {self.derate_temperature_c} must not exceed "
                f"stop_temperature_c {self.stop_temperature_c}"
            )
        return self

    def orders_per_minute(self, participant: str) -> float:
        """Rate limit of ``participant``. [1/min]"""
        return self.participant_rps.get(participant, self.per_market_rps)


def load_policy(path: str | Path) -> TradingPolicy:
    """Read a ``policy.yaml``.

    Parameters
    ----------
    path : str or Path
        The policy file.

    Returns
    -------
    TradingPolicy

    Raises
    ------
    ConfigError
        If the file is missing, not YAML, or a value is invalid (the message names the key).
    """
    path = Path(path)
    raw = read_yaml(path, "policy") or {}
    try:
        return TradingPolicy.model_validate(raw)
    except ValueError as err:
        raise ConfigError(f"policy file {path}: {err}") from None


class LiquidityProviderConfig(FrozenModel):
    """A market maker quoting around the mark price in every product.

    It posts ``levels`` bids at ``mark - spread/2 - i * level_step`` and as many
    asks at ``mark + spread/2 + i * level_step`` (i = 0..levels-1), each of
    ``level_mwh``.
    """

    name: str = Field("lp", description="Participant name of the liquidity provider")
    spread_eur_per_mwh: float = Field(
        4.0,
        ge=0.02,
        le=1000,
        description=(
            "Bid-ask spread at the top, at least two 0.01 ticks so the LP's own bid and ask "
            "never cross [EUR/MWh]"
        ),
    )
    levels: int = Field(3, ge=1, le=50, description="Price levels per side")
    level_mwh: float = Field(1.0, gt=0, description="Quantity per level [MWh]")
    level_step_eur_per_mwh: float = Field(2.0, ge=0, description="Price step between levels [EUR/MWh]")


class IntradayConfig(FrozenModel):
    """Continuous intraday trading on the internal exchange, after the day-ahead auction.

    Sites re-optimise their day against the auction's published prices (the mark
    of each product) and trade the difference: first at the mark among
    themselves, then against the liquidity provider at its quotes.
    """

    enabled: bool = Field(
        False, description="Re-trade each delivery day on the internal exchange after the auction"
    )
    gate_closure_min: float = Field(
        60.0, ge=0, description="Gate closure before delivery (SIDC cross-border: 60) [min]"
    )
    price_rule: Literal["maker", "midpoint"] = Field(
        "maker", description="Trade price: the resting order's limit (maker, the exchange standard) or the average of both limits (midpoint)"
    )
    lot_mwh: float = Field(0.001, gt=0, description="Quantity grid [MWh]")
    liquidity_provider: LiquidityProviderConfig = Field(
        default_factory=LiquidityProviderConfig, description="The market maker quoting around the mark"
    )
    policy: TradingPolicy = Field(
        default_factory=TradingPolicy,
        description=(
            "Exchange rules: inline, or the path of a policy.yaml (env vars expanded; "
            "relative to the scenario file)"
        ),
    )

    @field_validator("policy", mode="before")
    @classmethod
    def _policy_file(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, (str, Path)):
            path = Path(expand_env(str(value)))
            base = (info.context or {}).get("base_dir")
            if not path.is_absolute() and base is not None:
                path = Path(base) / path
            return load_policy(path)
        return value
