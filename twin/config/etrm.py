"""ETRM services: risk (VaR, limits), credit, billing and grid, and the limits of the pre-trade check."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from twin.config.base import ExpandedPath, FrozenModel
from twin.config.devices import MqttDeviceConfig

COUNTERPARTIES = (
    "day-ahead exchange",
    "intraday exchange",
    "TSO (imbalance)",
    "TSO (FCR)",
    "supplier (energy bill)",
)
"""The external counterparties a site settles with (:mod:`twin.etrm.settlement`)."""


class ParticipantLimits(FrozenModel):
    """Limits of one participant (a site, ``fleet``, or ``default`` for every site); None: no limit."""

    var_eur: float | None = Field(None, gt=0, description="VaR limit [EUR] at var_confidence")
    var_confidence: float = Field(0.99, gt=0.5, lt=1, description="Confidence level the VaR limit applies to")
    position_mwh: float | None = Field(None, gt=0, description="Largest open position [MWh]: per product in the pre-trade check, gross over the day in the risk service")
    loss_eur: float | None = Field(None, gt=0, description="Largest daily loss [EUR] before an alert")
    credit_eur: float | None = Field(None, gt=0, description="Credit limit [EUR] on the exposure to this participant")


class RiskConfig(FrozenModel):
    """The risk service: VaR and expected shortfall of each site's open day-ahead position.

    The open position of a site at D's gate is its bid for D (MWh per MTU); it
    is marked at the latest published price of the same MTU (D-1) and realised
    at D's clearing price. VaR scenarios are the same-slot price changes over
    ``horizon_days`` in the last ``lookback_days`` days.
    """

    enabled: bool = Field(True, description="Run the risk service")
    confidence_levels: list[float] = Field(default_factory=lambda: [0.95, 0.99, 0.995], min_length=1, description="VaR/ES confidence levels")
    horizon_days: int = Field(1, ge=1, le=20, description="VaR horizon [days]")
    lookback_days: int = Field(250, ge=20, le=3650, description="Price history the scenarios come from [days]")
    mc_paths: int = Field(5000, ge=500, le=1_000_000, description="Monte Carlo paths of the jump-diffusion")
    seed: int = Field(0, description="Seed of the Monte Carlo paths")

    @field_validator("confidence_levels")
    @classmethod
    def _levels(cls, value: list[float]) -> list[float]:
        bad = [c for c in value if not 0.5 < c < 1]
        if bad:
            raise ValueError(f"confidence levels {bad} must lie in (0.5, 1), e.g. 0.99")
        return sorted(set(value))


class CreditConfig(FrozenModel):
    """The credit service: exposure to each counterparty against its limit.

    Exposure = unsettled receivables (amounts delivered and not yet paid: a
    counterparty pays ``settlement_days`` after delivery) plus a potential
    future exposure add-on: the open volume times the ``pfe_confidence``
    quantile of the one-day absolute price move in the published history.
    """

    enabled: bool = Field(True, description="Run the credit service")
    pfe_confidence: float = Field(0.99, gt=0.5, lt=1, description="Quantile of the price move in the PFE add-on")
    settlement_days: dict[str, int] = Field(
        default_factory=lambda: {
            "day-ahead exchange": 1,
            "intraday exchange": 1,
            "TSO (imbalance)": 40,
            "TSO (FCR)": 30,
            "supplier (energy bill)": 30,
        },
        description="Days from delivery to payment, per counterparty",
    )
    limits_eur: dict[str, float] = Field(default_factory=dict, description="Credit limit per external counterparty [EUR]")

    @field_validator("settlement_days", "limits_eur")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(COUNTERPARTIES))
        if unknown:
            raise ValueError(f"unknown counterparties {unknown}; choose from {list(COUNTERPARTIES)}")
        negative = {k: v for k, v in value.items() if v < 0}
        if negative:
            raise ValueError(f"values must be >= 0; got {negative}")
        return value


class BillingConfig(FrozenModel):
    """The billing service: invoices per site, counterparty and period, PDF and ledger."""

    enabled: bool = Field(True, description="Issue invoices during the run")
    period: Literal["day", "month"] = Field("month", description="Billing period (local calendar)")
    vat_rate: str = Field("0.19", pattern=r"^0(\.\d{1,4})?$", description="VAT rate as a decimal fraction, e.g. 0.19")
    prefix: str = Field("INV", pattern=r"^[A-Z]{2,8}$", description="Invoice number prefix: PREFIX-YYYY-NNNNNN")
    pdf: bool = Field(True, description="Render one PDF per invoice into the run folder's invoices/")


class FrequencyConfig(FrozenModel):
    """Grid-frequency source and the alert and FCR droop thresholds.

    A backtest replays the samples of ``path`` from the first delivery day on,
    end to end and repeated: the recording is *not* the frequency of the
    backtest period, only a realistic pattern of it (stated in the results).
    Live mode reads ``mqtt_topic`` when set.
    """

    path: ExpandedPath | None = Field(None, description="CSV of frequency samples (frequency_hz or frequency_deviation_mhz), e.g. the RTE 10-s samples; replayed in backtests (and live without mqtt_topic)")
    watch_mhz: float = Field(50.0, gt=0, description="Deviation beyond which a watch alert is raised [mHz]")
    fcr_full_mhz: float = Field(200.0, gt=0, description="Deviation of full FCR activation [mHz]")
    emergency_mhz: float = Field(800.0, gt=0, description="Deviation of the emergency alert [mHz]")
    deadband_mhz: float = Field(10.0, ge=0, description="FCR insensitivity band [mHz]")
    mqtt_topic: str | None = Field(None, pattern=r"^[^#+]+$", description="Live mode: MQTT topic carrying frequency readings (a number in Hz, or JSON with frequency_hz)")
    mqtt_broker: MqttDeviceConfig | None = Field(None, description="Live mode: the broker of mqtt_topic (kind: mqtt, host, port, auth, TLS); default 127.0.0.1:1883")
    fcr_response: bool = Field(True, description="Sites holding an FCR band follow the droop in the SimPy plant")

    @model_validator(mode="after")
    def _ordered(self) -> FrequencyConfig:
        if self.path is None and self.mqtt_topic is None:
            raise ValueError("frequency needs a source: path (a CSV of samples to replay) or mqtt_topic (live)")
        if not self.deadband_mhz < self.watch_mhz < self.fcr_full_mhz < self.emergency_mhz:
            raise ValueError(
                "frequency thresholds must grow: deadband_mhz < watch_mhz < fcr_full_mhz < emergency_mhz; "
                f"got {self.deadband_mhz}, {self.watch_mhz}, {self.fcr_full_mhz}, {self.emergency_mhz}"
            )
        return self


class SharedLimitConfig(FrozenModel):
    """A tie line or transformer several sites hang on: a limit on their summed grid exchange."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Name shown in alerts")
    site_ids: list[str] = Field(min_length=1, description="Sites behind the limit")
    import_max_kw: float | None = Field(None, gt=0, description="Largest summed import [kW]")
    export_max_kw: float | None = Field(None, gt=0, description="Largest summed export [kW]")


class GridServiceConfig(FrozenModel):
    """The grid service: frequency monitoring and FCR response, and grid constraints on schedules."""

    enabled: bool = Field(True, description="Run the grid service")
    frequency: FrequencyConfig | None = Field(None, description="Frequency samples to replay (backtest) or read (live); none: no frequency monitoring and no FCR activation")
    shared_limits: list[SharedLimitConfig] = Field(default_factory=list, description="Limits shared by several sites")


class EtrmConfig(FrozenModel):
    """The ETRM services next to trading, and the limits every order is checked against."""

    enabled: bool = Field(True, description="Run the ETRM services (off: the run has no risk, credit, invoices, grid events or ledger)")
    placement: Literal["one_actor", "per_service"] = Field(
        "one_actor",
        description="one_actor: the four services share one actor (one call a day, one process to start); per_service: one actor each, running in parallel (clusters)",
    )
    risk: RiskConfig = Field(default_factory=RiskConfig, description="VaR and expected shortfall of each site's day-ahead position, limits, VaR backtest")
    credit: CreditConfig = Field(default_factory=CreditConfig, description="Exposure to each counterparty against its limit")
    billing: BillingConfig = Field(default_factory=BillingConfig, description="Invoices per site, counterparty and period (PDF, ledger)")
    grid: GridServiceConfig = Field(default_factory=GridServiceConfig, description="Frequency monitoring, FCR response and grid constraints")
    limits: dict[str, ParticipantLimits] = Field(
        default_factory=dict,
        description="Limits per participant: a site id, fleet, the liquidity provider's name, or default (every site without its own)",
    )

    def limits_of(self, participant: str) -> ParticipantLimits:
        """The limits of ``participant``: its own, else ``default`` for anyone but ``fleet``, else none."""
        if participant in self.limits:
            return self.limits[participant]
        if participant != "fleet" and "default" in self.limits:
            return self.limits["default"]
        return ParticipantLimits()
