"""One battery site: its battery, the device behind it, and where its actor runs."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from twin.config.base import FrozenModel
from twin.config.battery import BatteryDynamics, BatterySpec
from twin.config.devices import DeviceConfig, SafetyConfig, SimulatedDeviceConfig
from twin.config.ems import GridConnectionConfig, LoadConfig, PvConfig, TariffConfig
from twin.config.strategy import StrategyConfig

PLACEMENT_OPTIONS = frozenset(
    {
        "num_cpus",
        "num_gpus",
        "memory",
        "resources",
        "accelerator_type",
        "scheduling_strategy",
        "runtime_env",
        "label_selector",
    }
)
"""Ray actor options a scenario may set: they say *where* a site runs, never *how* it behaves."""

UNSAFE_OPTIONS: dict[str, str] = {
    "max_restarts": (
        "a restarted site actor starts again from its initial state (SoC, schedule, trading "
        "state) while the run goes on, silently resetting the site; a failed site must fail the run"
    ),
    "max_task_retries": (
        "a retried call runs a day twice or out of order; the backtest relies on in-order "
        "execution of each site's calls"
    ),
    "max_concurrency": (
        "concurrent calls on one site would run days out of order; each site executes its "
        "calls one at a time"
    ),
    "concurrency_groups": "concurrency groups break the in-order execution of a site's calls",
    "lifetime": "a detached site outlives the run that owns it and keeps its state",
    "name": "actor names are set by the runtime; a fixed name collides across runs",
    "namespace": "namespaces are set by the runtime",
    "get_if_exists": "reusing an existing actor would continue another run's site state",
}
"""Ray actor options a scenario may not set, each with the reason."""


class SiteConfig(FrozenModel):
    """One battery site: an id, its battery, the device behind it and where its actor runs.

    ``device`` picks the hardware (default: a SimPy battery in-process);
    ``dynamics`` is how the simulated plant departs from the planner's ideal
    battery; ``safety`` is the protection at the device edge.
    """

    site_id: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=64, description="Site name (letters, digits, _ . -)"
    )
    battery: BatterySpec = Field(description="The battery the EMS plans with")
    device: DeviceConfig = Field(
        default_factory=SimulatedDeviceConfig, description="The device behind the site: simulated (default), modbus or mqtt"
    )
    dynamics: BatteryDynamics = Field(
        default_factory=BatteryDynamics, description="How the simulated plant departs from the ideal battery"
    )
    safety: SafetyConfig = Field(
        default_factory=SafetyConfig, description="Protection at the device edge"
    )
    load: LoadConfig | None = Field(None, description="Consumption behind the meter; none: no load")
    pv: PvConfig | None = Field(None, description="PV behind the meter; none: no PV")
    grid: GridConnectionConfig = Field(
        default_factory=GridConnectionConfig, description="Import, export and feed-in limits at the PCC"
    )
    tariff: TariffConfig | None = Field(
        None, description="How the PCC flow is billed; required with a load or PV (a behind-the-meter site); none: the battery trades the day-ahead market"
    )
    strategy: StrategyConfig | None = Field(
        None, description="This site's strategy and forecaster; none: the scenario's (horizon_h must equal the scenario's)"
    )
    actor_options: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Ray placement options for the site actor: "
            + ", ".join(sorted(PLACEMENT_OPTIONS))
            + " (options that restart or reorder a stateful site are refused)"
        ),
    )

    @model_validator(mode="after")
    def _check_meter(self) -> SiteConfig:
        if (self.load is not None or self.pv is not None) and self.tariff is None:
            raise ValueError(
                f"site {self.site_id}: a site with a load or PV needs a tariff (how its grid "
                "flow is billed), e.g. tariff: {import_fixed_eur_per_kwh: 0.30, feed_in_tariff_eur_per_kwh: 0.08}"
            )
        frac = self.grid.feed_in_limit_fraction_of_kwp
        if frac is not None and (self.pv is None or self.pv.kwp is None):
            raise ValueError(
                f"site {self.site_id}: grid.feed_in_limit_fraction_of_kwp needs a pvlib PV system "
                "with kwp; for measured PV give grid.feed_in_limit_kw"
            )
        return self

    @property
    def behind_the_meter(self) -> bool:
        """Whether the PCC flow is billed by a tariff (True) or traded day-ahead (False)."""
        return self.tariff is not None

    @property
    def feed_in_limit_kw(self) -> float | None:
        """The tightest export limit: export_max_kw, feed_in_limit_kw, or the fraction of kWp. [kW]"""
        limits = [self.grid.export_max_kw, self.grid.feed_in_limit_kw]
        frac = self.grid.feed_in_limit_fraction_of_kwp
        if frac is not None and self.pv is not None and self.pv.kwp is not None:
            limits.append(frac * self.pv.kwp)
        finite = [x for x in limits if x is not None]
        return min(finite) if finite else None

    @field_validator("actor_options")
    @classmethod
    def _check_actor_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if key in UNSAFE_OPTIONS:
                raise ValueError(f"{key} is not allowed: {UNSAFE_OPTIONS[key]}")
            if key not in PLACEMENT_OPTIONS:
                raise ValueError(
                    f"unknown actor option {key!r}; allowed: {', '.join(sorted(PLACEMENT_OPTIONS))}"
                )
        return value
