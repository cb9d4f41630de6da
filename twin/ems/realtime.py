"""The site controller between plan and plant: follows the plan, guards the peak and the feed-in limit.

The day's plan was made on forecasts of load and PV; the measured values
differ. Each step the controller starts from the planned battery power and

* **peak guard**: if the grid import would exceed the period's target (the
  plan's peak, or the peak already reached in the period if higher), it
  discharges more, as far as power (beside the FCR band) and stored energy
  (beside the FCR headroom) allow;
* **feed-in guard**: if the export would exceed the feed-in limit, it charges
  more, as far as power and headroom allow; what is left is curtailed PV.

This is the peak-shaving and feed-in-limit rule of the original EMS applied as
a correction to the optimised plan (a model-predictive EMS re-plans instead;
the daily plan here is re-made once per day at the gate).
"""

from __future__ import annotations

from twin.config import BatterySpec


def corrected_setpoint_kw(
    planned_kw: float,
    load_kw: float,
    pv_kw: float,
    band_kw: float,
    energy_kwh: float,
    spec: BatterySpec,
    dt_h: float,
    fcr_duration_h: float,
    peak_target_kw: float | None,
    export_limit_kw: float | None,
) -> float:
    """The battery setpoint for one step (positive discharging). [kW]

    Parameters
    ----------
    planned_kw : float
        The plan's battery power. [kW]
    load_kw, pv_kw : float
        Measured load and available PV of the step. [kW]
    band_kw : float
        FCR band held in the step. [kW]
    energy_kwh : float
        Stored energy at the start of the step. [kWh]
    spec : BatterySpec
    dt_h : float
        Step length. [h]
    fcr_duration_h : float
        FCR full-activation duration kept free each way. [h]
    peak_target_kw : float or None
        Import the peak guard holds to; None: no guard. [kW]
    export_limit_kw : float or None
        Feed-in limit; None: no guard. [kW]
    """
    power = planned_kw
    grid = load_kw - pv_kw - power
    if peak_target_kw is not None and grid > peak_target_kw:
        room_power = spec.p_discharge_max_kw - band_kw - power
        usable = energy_kwh - spec.e_min_kwh - band_kw * fcr_duration_h / spec.eta_discharge
        room_energy = max(usable, 0.0) * spec.eta_discharge / dt_h - max(power, 0.0)
        power += max(min(grid - peak_target_kw, room_power, room_energy), 0.0)
    if export_limit_kw is not None and -grid > export_limit_kw:
        room_power = spec.p_charge_max_kw - band_kw + power
        free = spec.e_max_kwh - energy_kwh - band_kw * fcr_duration_h * spec.eta_charge
        room_energy = max(free, 0.0) / (spec.eta_charge * dt_h) - max(-power, 0.0)
        power -= max(min(-grid - export_limit_kw, room_power, room_energy), 0.0)
    return power
