"""Battery parameters: the planner's ideal battery and how the simulated plant departs from it.

:class:`BatterySpec` is the battery the EMS plans with (:mod:`twin.physics.battery`);
:class:`BatteryDynamics` (thermal model, ageing, ramp and response delay) is
how a physical battery departs from it.

These describe how a *physical* battery departs from the ideal reservoir that the
EMS plans with (:mod:`twin.physics.battery`). The SimPy battery (``hardware.simulated``)
and the device simulators behind Modbus and MQTT use them; the planner does not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, computed_field, model_validator

from twin.config.base import MAX_ENERGY_KWH, MAX_POWER_KW, MAX_PRICE_EUR_PER_MWH, FrozenModel


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

    energy_kwh: float = Field(gt=0, le=MAX_ENERGY_KWH, description="Nominal energy capacity [kWh]")
    p_charge_max_kw: float = Field(
        gt=0, le=MAX_POWER_KW, description="Maximum charge power at the PCC [kW]"
    )
    p_discharge_max_kw: float = Field(
        gt=0, le=MAX_POWER_KW, description="Maximum discharge power at the PCC [kW]"
    )
    eta_charge: float = Field(0.95, gt=0, le=1, description="Charge efficiency [per unit]")
    eta_discharge: float = Field(0.95, gt=0, le=1, description="Discharge efficiency [per unit]")
    soc_min: float = Field(0.0, ge=0, le=1, description="Lowest allowed SoC [fraction]")
    soc_max: float = Field(1.0, ge=0, le=1, description="Highest allowed SoC [fraction]")
    soc_initial: float = Field(0.5, ge=0, le=1, description="SoC at the start [fraction]")
    standing_loss_per_h: float = Field(0.0, ge=0, lt=1, description="Self-discharge [1/h]")
    degradation_cost_eur_per_mwh: float = Field(
        0.0, ge=0, le=MAX_PRICE_EUR_PER_MWH, description="Cost of energy throughput [EUR/MWh]"
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


class ThermalSpec(FrozenModel):
    """First-order lumped thermal model of the battery enclosure.

    ``C dT/dt = P_loss - G (T - T_ambient)`` with ``C`` and ``G`` scaled with the
    nominal energy capacity (see :func:`twin.physics.thermal.step_temperature`).

    Attributes
    ----------
    ambient_c : float
        Ambient (HVAC set-point) temperature. [°C]
    initial_c : float or None
        Cell temperature at the start; ``None``: ``ambient_c``. [°C]
    heat_capacity_kj_per_k_per_kwh : float
        Heat capacity per kWh of nominal energy. The default, 7.5 kJ/K/kWh, is a
        specific heat of about 1 kJ/(kg K) times 7.5 kg of pack per kWh. [kJ/(K kWh)]
    conductance_w_per_k_per_kwh : float
        Heat conductance to ambient per kWh of nominal energy (HVAC cooling). The
        default holds a 1C battery with 10 % losses (100 W/kWh) 10 K above
        ambient, the design point of containerised BESS HVAC. [W/(K kWh)]
    derate_c : float
        Above this temperature the BMS derates power linearly, down to zero at
        ``trip_c``. [°C]
    trip_c : float
        At or above this temperature the BMS allows no power. [°C]
    """

    ambient_c: float = Field(25.0, ge=-40, le=60)
    initial_c: float | None = Field(None, ge=-40, le=80)
    heat_capacity_kj_per_k_per_kwh: float = Field(7.5, gt=0)
    conductance_w_per_k_per_kwh: float = Field(10.0, gt=0)
    derate_c: float = Field(45.0, description="Start of BMS derating [°C]")
    trip_c: float = Field(55.0, description="BMS allows no power from here on [°C]")

    @model_validator(mode="after")
    def _check_limits(self) -> ThermalSpec:
        if not self.derate_c < self.trip_c:
            raise ValueError(
                f"derate_c ({self.derate_c}) must be below trip_c ({self.trip_c}); both in °C"
            )
        return self


class DegradationSpec(FrozenModel):
    """Semi-empirical ageing: cycle fade per equivalent full cycle plus calendar fade.

    State of health ``soh = 1 - cycle_fade - calendar_fade`` (see
    :func:`twin.physics.degradation.state_of_health`).

    Attributes
    ----------
    cycle_fade_per_efc : float
        Capacity lost per equivalent full cycle; the default loses 20 % over
        6000 cycles (LFP datasheet class). [fraction/cycle]
    calendar_fade_per_sqrt_day : float
        Calendar fade coefficient at ``reference_c``; the default loses 2 % in the
        first year. [fraction/√day]
    reference_c : float
        Temperature of the calendar coefficient. [°C]
    doubling_k : float
        Calendar ageing doubles every ``doubling_k`` kelvin above ``reference_c``
        (the Arrhenius rule of thumb). [K]
    apply_capacity_fade : bool
        Shrink the usable capacity with the state of health (the BMS then
        reports SoC relative to the faded capacity).
    """

    cycle_fade_per_efc: float = Field(0.2 / 6000, ge=0)
    calendar_fade_per_sqrt_day: float = Field(0.02 / 365**0.5, ge=0)
    reference_c: float = 25.0
    doubling_k: float = Field(10.0, gt=0)
    apply_capacity_fade: bool = True


class BatteryDynamics(FrozenModel):
    """How the simulated plant moves: time step, ramp, response delay, heat and ageing.

    Attributes
    ----------
    integration : {'event', 'fixed'}
        ``event`` (default): the plant wakes only at setpoint changes, ramp
        ends, the SoC window, the derating threshold, faults and the calls that
        advance it, and integrates analytically in between; while the BMS
        derates it steps at ``timestep_s``. ``fixed``: it also steps every
        ``timestep_s`` (the reference the event-driven plant is tested against).
    timestep_s : float
        Step of the fixed-step plant, and of the event-driven plant while it
        derates. [s]
    ramp_kw_per_s : float or None
        Ramp limit of the converter's power reference; the SoC window stops the
        flow at the PCC but not the ramp. ``None``: full rated power within one
        second. [kW/s]
    response_delay_s : float
        Time from a setpoint write to the start of the ramp. [s]
    setpoint_timeout_s : float or None
        The device falls back to 0 kW when no setpoint has been written for this
        long (OpenEMS's external-setpoint timeout is 60 s); ``None``: never. [s]
    thermal : ThermalSpec
    degradation : DegradationSpec
    """

    integration: Literal["event", "fixed"] = "event"
    timestep_s: float = Field(60.0, gt=0, le=3600)
    ramp_kw_per_s: float | None = Field(None, gt=0)
    response_delay_s: float = Field(1.0, ge=0, le=60)
    setpoint_timeout_s: float | None = Field(None, gt=0)
    thermal: ThermalSpec = Field(
        default_factory=ThermalSpec, description="First-order thermal model of the enclosure"
    )
    degradation: DegradationSpec = Field(
        default_factory=DegradationSpec, description="Capacity fade from cycling and calendar ageing"
    )
