"""Configuration of intraday trading: the price data, the session rounds, the exchange's policy and its LP."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from twin.config.base import FrozenModel, expand_env, read_yaml
from twin.config.prices import PriceDataConfig
from twin.errors import ConfigError

IntradayReference = Literal["ida", "id3", "id1", "index"]

REFERENCE_COLUMNS: dict[str, str] = {
    "ida": "ida_15min_eur_per_mwh",
    "id3": "id3_eur_per_mwh",
    "id1": "id1_eur_per_mwh",
    "index": "id_index_eur_per_mwh",
}
"""Default column of each reference series in a tidy intraday price file."""


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
    """Intraday trading after the day-ahead auction, on real intraday prices.

    ``reference`` says which intraday market the sites trade and which series of
    the ``prices`` file is its price:

    * ``ida``: the intraday auction (D-1 15:00 local, 15-min products). Sites are
      price-takers in a uniform-price auction: each order clears at the real
      auction price where its limit allows.
    * ``id3``, ``id1``, ``index``: continuous trading on the internal exchange in
      rounds (every ``round_interval_min`` from D-1 15:00 until ``gate_closure_min``
      before delivery). The real index is each product's mark; the liquidity
      provider quotes around it, and sites trade among themselves at the mark.

    Sites decide from a forecast of the intraday price that uses only what is
    public at the round (:mod:`twin.forecast.intraday`). ``mark: day_ahead``
    replaces the data by the day-ahead price: the site then trades against prices
    it already knows, so its intraday result is an optimistic bound, never a revenue.
    """

    enabled: bool = Field(
        False, description="Trade each delivery day intraday after the day-ahead auction"
    )
    prices: PriceDataConfig | None = Field(
        None,
        description=(
            "Intraday price file (e.g. the EPEX 15-min intraday prices); column default from "
            "reference. Days without a price for every product are not traded intraday"
        ),
    )
    reference: IntradayReference = Field(
        "ida",
        description=(
            "The intraday market and its price series: ida (intraday auction, price-taker), "
            "id3, id1 or index (continuous trading around that index)"
        ),
    )
    mark: Literal["data", "day_ahead"] = Field(
        "data",
        description=(
            "data: intraday prices from prices; day_ahead: the day-ahead price instead "
            "(no price risk, reported as an optimistic bound)"
        ),
    )
    round_interval_min: float = Field(
        60.0, ge=15, le=1440, description="Time between two continuous trading rounds [min]"
    )
    forecast_lookback_days: int = Field(
        7, ge=1, le=365, description="Days of intraday-minus-day-ahead history the forecast averages"
    )
    auction_limit_margin_eur_per_mwh: float | None = Field(
        None,
        ge=0,
        description=(
            "Intraday auction: sell at no less than forecast - margin, buy at no more than "
            "forecast + margin; none: price-independent orders [EUR/MWh]"
        ),
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

    @field_validator("prices")
    @classmethod
    def _no_invented_prices(cls, value: PriceDataConfig | None) -> PriceDataConfig | None:
        if value is not None and value.source != "csv":
            raise ValueError(f"source {value.source!r}: intraday prices are read from a csv file")
        if value is not None and value.fill != "error":
            raise ValueError(
                f"fill {value.fill!r}: intraday gaps are never filled (a day with a gap is not "
                "traded intraday); remove fill"
            )
        return value

    @model_validator(mode="after")
    def _data_or_bound(self) -> IntradayConfig:
        if self.enabled and self.mark == "data" and self.prices is None:
            raise ValueError(
                "intraday is enabled but names no intraday price file: add prices (real "
                "intraday prices, e.g. the EPEX 15-min file), or set mark: day_ahead to trade "
                "against the day-ahead price (reported as an optimistic bound), or enabled: false"
            )
        return self

    @property
    def is_auction(self) -> bool:
        """True when the sites trade the intraday auction, not continuous."""
        return self.reference == "ida" and self.mark == "data"

    @property
    def half_spread_eur_per_mwh(self) -> float:
        """The LP's half spread a continuous trade crosses; 0 in the auction. [EUR/MWh]"""
        return 0.0 if self.is_auction else self.liquidity_provider.spread_eur_per_mwh / 2.0

    @property
    def trade_cost_eur_per_mwh(self) -> float:
        """What one traded MWh costs on top of the price: fee plus half spread. [EUR/MWh]"""
        return self.policy.fee_eur_per_mwh + self.half_spread_eur_per_mwh

    @property
    def column(self) -> str:
        """The price column read from ``prices``."""
        if self.prices is not None and self.prices.column is not None:
            return self.prices.column
        return REFERENCE_COLUMNS[self.reference]
