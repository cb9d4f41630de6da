"""The site controller between plan and plant: holds the planned grid flow, guards peak and feed-in.

The day's plan was made on forecasts of load and PV; the measured values
differ. Each step the controller starts from the planned battery power and
lets the battery absorb the forecast error where that keeps the grid flow
where the plan wanted it, never trading energy with the grid the plan did not
intend:

* **hold imports** (sites without a demand charge): if following the plan
  would import more than planned (``max(planned grid, 0)``: more load or less PV
  than forecast), discharge more (or charge less) by the difference; a site
  with a demand charge keeps that energy for its peaks and only guards them;
* **hold exports**: if following the plan would export more than planned
  (``min(planned grid, 0)``: more PV or less load), charge more by the difference;
* **peak guard**: never import above the period's peak target (the plan's peak
  or the peak already reached in the period, if higher);
* **feed-in guard**: never export above the feed-in limit while the battery can
  charge; what is left is curtailed PV.

Each correction stops at the power left beside the FCR band and at the energy
left beside the FCR headroom. This is the self-consumption and peak-shaving
rule of the original EMS applied as a correction around the optimised plan (a
model-predictive EMS re-plans instead; the plan here is made once a day at the gate).
"""

from __future__ import annotations

import numpy as np

from twin.config import BatterySpec
from twin.types import FloatArray


def pcc_flow(
    load_kw: FloatArray, pv_kw: FloatArray, power_kw: FloatArray, export_limit_kw: float | None
) -> tuple[FloatArray, FloatArray]:
    """PCC flow and curtailed PV: export above the limit is curtailed PV (never more than the PV).

    Parameters
    ----------
    load_kw, pv_kw, power_kw : np.ndarray, shape (T,)
        Load, available PV, battery power (positive discharging). [kW]
    export_limit_kw : float or None
        Feed-in limit; None: no curtailment. [kW]

    Returns
    -------
    (np.ndarray, np.ndarray)
        ``grid_kw`` (positive importing, after curtailment) and the curtailed PV. [kW]
    """
    grid = load_kw - pv_kw - power_kw
    if export_limit_kw is None:
        return grid, np.zeros(len(grid))
    curtailed = np.minimum(np.clip(-grid - export_limit_kw, 0.0, None), pv_kw)
    return grid + curtailed, curtailed


def corrected_setpoint_kw(
    planned_kw: float,
    planned_grid_kw: float,
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
    planned_grid_kw : float
        The plan's grid flow (positive importing). [kW]
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
        Import the peak guard holds to; None: no guard, and imports are held at
        the planned level instead. [kW]
    export_limit_kw : float or None
        Feed-in limit; None: no guard. [kW]
    """
    usable = energy_kwh - spec.e_min_kwh - band_kw * fcr_duration_h / spec.eta_discharge
    free = spec.e_max_kwh - energy_kwh - band_kw * fcr_duration_h * spec.eta_charge
    p_max = min(spec.p_discharge_max_kw - band_kw, max(usable, 0.0) * spec.eta_discharge / dt_h)
    p_min = -min(spec.p_charge_max_kw - band_kw, max(free, 0.0) / (spec.eta_charge * dt_h))
    p_max, p_min = max(p_max, 0.0), min(p_min, 0.0)
    power = min(max(planned_kw, p_min), p_max)
    net = load_kw - pv_kw
    import_cap = max(planned_grid_kw, 0.0) if peak_target_kw is None else float("inf")
    export_cap = min(planned_grid_kw, 0.0)
    if export_limit_kw is not None:
        export_cap = max(export_cap, -export_limit_kw)
    grid = net - power
    if grid > import_cap:
        power = min(power + (grid - import_cap), p_max)
    elif grid < export_cap:
        power = max(power - (export_cap - grid), p_min)
    if peak_target_kw is not None and net - power > peak_target_kw:
        power = min(net - peak_target_kw, p_max)
    return power
