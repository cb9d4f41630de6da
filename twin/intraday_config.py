"""Configuration of intraday trading in a backtest: the internal exchange and its LP."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from twin.frozen_model import FrozenModel
from twin.market.pretrade import TradingPolicy, load_policy


class LiquidityProviderConfig(FrozenModel):
    """A market maker quoting around the mark price in every product.

    It posts ``levels`` bids at ``mark - spread/2 - i * level_step`` and as many
    asks at ``mark + spread/2 + i * level_step`` (i = 0..levels-1), each of
    ``level_mwh``.
    """

    name: str = "lp"
    spread_eur_per_mwh: float = Field(4.0, ge=0, description="Bid-ask spread at the top [EUR/MWh]")
    levels: int = Field(3, ge=1, le=50, description="Price levels per side")
    level_mwh: float = Field(1.0, gt=0, description="Quantity per level [MWh]")
    level_step_eur_per_mwh: float = Field(2.0, ge=0, description="Price step between levels [EUR/MWh]")


class IntradayConfig(FrozenModel):
    """Continuous intraday trading on the internal exchange, after the day-ahead auction.

    Sites re-optimise their day against the auction's published prices (the mark
    of each product) and trade the difference: first at the mark among
    themselves, then against the liquidity provider at its quotes.
    """

    enabled: bool = False
    gate_closure_min: float = Field(
        60.0, ge=0, description="Gate closure before delivery (SIDC cross-border: 60) [min]"
    )
    price_rule: Literal["maker", "midpoint"] = "maker"
    lot_mwh: float = Field(0.001, gt=0, description="Quantity grid [MWh]")
    liquidity_provider: LiquidityProviderConfig = Field(default_factory=LiquidityProviderConfig)
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
            path = Path(os.path.expandvars(str(value))).expanduser()
            base = (info.context or {}).get("base_dir")
            if not path.is_absolute() and base is not None:
                path = Path(base) / path
            return load_policy(path)
        return value
