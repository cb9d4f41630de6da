"""Battery physics: an energy-reservoir model with one-way efficiencies.

The model is the linear storage model used by PyPSA's ``StorageUnit`` and by
most BESS dispatch studies, with SoC as a fraction and energy in kWh:

.. math::

    E_{t+1} = (1 - l)^{\\Delta t} E_t + \\eta_c P^{ch}_t \\Delta t
              - P^{dis}_t \\Delta t / \\eta_d

Sign at the point of common coupling (PCC): ``power_kw > 0`` discharges
(exports), ``power_kw < 0`` charges. A battery never charges and discharges in
the same interval: a net setpoint maps to exactly one of the two.

References
----------
.. [1] T. Brown, J. Hörsch, D. Schlachtberger, "PyPSA: Python for Power System
   Analysis", J. Open Research Software 6(1), 2018, doi:10.5334/jors.188
   (storage unit state-of-charge equation).
.. [2] IEC 62933-2-1:2017, Electrical energy storage systems, unit parameters
   and testing methods (round-trip efficiency, equivalent full cycles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, overload

import numpy as np
import numpy.typing as npt

from twin.config import BatterySpec
from twin.errors import SocBoundsError


class BatteryState(NamedTuple):
    """State of a battery after an interval (immutable; a named tuple, cheap to build in the plant's inner loop).

    Attributes
    ----------
    energy_kwh : float
        Stored energy. [kWh]
    soc : float
        ``energy_kwh / spec.energy_kwh``. [fraction]
    power_kw : float
        Power delivered at the PCC during the last interval (positive discharges). [kW]
    energy_charged_kwh, energy_discharged_kwh : float
        Cumulative energy taken from / delivered to the grid at the PCC. [kWh]
    energy_lost_kwh : float
        Cumulative conversion and standing losses. [kWh]
    """

    energy_kwh: float
    soc: float
    power_kw: float = 0.0
    energy_charged_kwh: float = 0.0
    energy_discharged_kwh: float = 0.0
    energy_lost_kwh: float = 0.0


def initial_state(spec: BatterySpec, soc: float | None = None) -> BatteryState:
    """Build the state of a battery at rest.

    Parameters
    ----------
    spec : BatterySpec
    soc : float, optional
        Start SoC; default ``spec.soc_initial``. [fraction]

    Returns
    -------
    BatteryState

    Raises
    ------
    SocBoundsError
        If ``soc`` lies outside ``[spec.soc_min, spec.soc_max]``.
    """
    soc = spec.soc_initial if soc is None else float(soc)
    if not spec.soc_min - 1e-12 <= soc <= spec.soc_max + 1e-12:
        raise SocBoundsError(
            f"soc {soc} lies outside [soc_min, soc_max] = [{spec.soc_min}, {spec.soc_max}]"
        )
    return BatteryState(energy_kwh=soc * spec.energy_kwh, soc=soc)


def feasible_power_kw(spec: BatterySpec, energy_kwh: float, power_kw: float, dt_h: float) -> float:
    """Clip a setpoint to what the battery can deliver in one interval.

    Parameters
    ----------
    spec : BatterySpec
    energy_kwh : float
        Stored energy at the start of the interval. [kWh]
    power_kw : float
        Requested power at the PCC; positive discharges. [kW]
    dt_h : float
        Interval length. [h]

    Returns
    -------
    float
        The setpoint limited by the power ratings and by the energy that keeps the
        SoC inside ``[soc_min, soc_max]`` at the end of the interval. Clipping is
        idempotent. [kW]

    Raises
    ------
    ValueError
        If ``power_kw`` or ``dt_h`` is not finite, or ``dt_h <= 0``.
    """
    _check_step(power_kw, dt_h)
    return _clip(spec, energy_kwh * (1.0 - spec.standing_loss_per_h) ** dt_h, power_kw, dt_h)


def _check_step(power_kw: float, dt_h: float) -> None:
    if not math.isfinite(power_kw):
        raise ValueError(f"power_kw must be finite, got {power_kw}")
    if not (math.isfinite(dt_h) and dt_h > 0):
        raise ValueError(f"dt_h must be a positive number of hours, got {dt_h}")


def _clip(spec: BatterySpec, decayed: float, power_kw: float, dt_h: float) -> float:
    """:func:`feasible_power_kw` from the stored energy after standing loss (inputs checked)."""
    if power_kw >= 0:
        headroom = max(decayed - spec.e_min_kwh, 0.0) * spec.eta_discharge / dt_h
        return float(min(power_kw, spec.p_discharge_max_kw, headroom))
    headroom = max(spec.e_max_kwh - decayed, 0.0) / (spec.eta_charge * dt_h)
    return -float(min(-power_kw, spec.p_charge_max_kw, headroom))


def step(spec: BatterySpec, state: BatteryState, power_kw: float, dt_h: float) -> BatteryState:
    """Advance the battery by one interval.

    Parameters
    ----------
    spec : BatterySpec
    state : BatteryState
        State at the start of the interval.
    power_kw : float
        Setpoint at the PCC; positive discharges, negative charges. It is clipped
        to the power ratings and the SoC window (see :func:`feasible_power_kw`). [kW]
    dt_h : float
        Interval length. [h]

    Returns
    -------
    BatteryState
        New state; ``power_kw`` is what was delivered. ``soc`` stays within
        ``[soc_min, soc_max]`` unless standing loss alone drains it below
        ``soc_min``. [fraction]

    Raises
    ------
    ValueError
        If ``power_kw`` is NaN/infinite or ``dt_h`` is not positive.

    Notes
    -----
    energy_kwh(t+1) = (1 - standing_loss_per_h)**dt_h * energy_kwh(t)
                      + eta_charge * p_charge_kw * dt_h - p_discharge_kw * dt_h / eta_discharge
    """
    _check_step(power_kw, dt_h)
    decayed = state.energy_kwh * (1.0 - spec.standing_loss_per_h) ** dt_h
    delivered = _clip(spec, decayed, power_kw, dt_h)
    standing_loss = state.energy_kwh - decayed
    if delivered >= 0:
        grid_kwh = delivered * dt_h
        new_energy = decayed - grid_kwh / spec.eta_discharge
        conv_loss = grid_kwh / spec.eta_discharge - grid_kwh
        charged, discharged = 0.0, grid_kwh
    else:
        grid_kwh = -delivered * dt_h
        new_energy = decayed + spec.eta_charge * grid_kwh
        conv_loss = grid_kwh - spec.eta_charge * grid_kwh
        charged, discharged = grid_kwh, 0.0
    # feasible_power_kw keeps the window; round-off may leave a hair outside it.
    if delivered < 0:
        new_energy = min(new_energy, spec.e_max_kwh)
    elif delivered > 0:
        new_energy = max(new_energy, spec.e_min_kwh)
    return BatteryState(
        energy_kwh=new_energy,
        soc=new_energy / spec.energy_kwh,
        power_kw=delivered,
        energy_charged_kwh=state.energy_charged_kwh + charged,
        energy_discharged_kwh=state.energy_discharged_kwh + discharged,
        energy_lost_kwh=state.energy_lost_kwh + standing_loss + conv_loss,
    )


@dataclass(frozen=True)
class Trajectory:
    """A battery run over T intervals.

    Attributes
    ----------
    power_kw : np.ndarray, shape (T,)
        Delivered power at the PCC per interval. [kW]
    energy_kwh : np.ndarray, shape (T,)
        Stored energy at the end of each interval. [kWh]
    soc : np.ndarray, shape (T,)
        SoC at the end of each interval. [fraction]
    final : BatteryState
        State after the last interval (with cumulative energies).
    """

    power_kw: npt.NDArray[np.float64]
    energy_kwh: npt.NDArray[np.float64]
    soc: npt.NDArray[np.float64]
    final: BatteryState


def simulate(
    spec: BatterySpec,
    state: BatteryState,
    power_kw: npt.ArrayLike,
    dt_h: float,
) -> Trajectory:
    """Apply a sequence of setpoints with :func:`step`.

    Parameters
    ----------
    spec : BatterySpec
    state : BatteryState
        State before the first interval.
    power_kw : array-like, shape (T,)
        Setpoints at the PCC; positive discharges. [kW]
    dt_h : float
        Interval length. [h]

    Returns
    -------
    Trajectory
        Delivered power, energy and SoC at the end of each interval.

    Raises
    ------
    ValueError
        If any setpoint is NaN or infinite.
    """
    setpoints = np.asarray(power_kw, dtype=float)
    n = setpoints.shape[0]
    delivered = np.empty(n)
    energy = np.empty(n)
    for i in range(n):
        state = step(spec, state, float(setpoints[i]), dt_h)
        delivered[i] = state.power_kw
        energy[i] = state.energy_kwh
    return Trajectory(
        power_kw=delivered, energy_kwh=energy, soc=energy / spec.energy_kwh, final=state
    )


@overload
def full_cycles(spec: BatterySpec, energy_charged_kwh: float, energy_discharged_kwh: float) -> float: ...


@overload
def full_cycles(
    spec: BatterySpec, energy_charged_kwh: npt.NDArray[np.float64], energy_discharged_kwh: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]: ...


def full_cycles(
    spec: BatterySpec,
    energy_charged_kwh: float | npt.NDArray[np.float64],
    energy_discharged_kwh: float | npt.NDArray[np.float64],
) -> float | npt.NDArray[np.float64]:
    """Equivalent full cycles from energy throughput.

    Parameters
    ----------
    spec : BatterySpec
    energy_charged_kwh, energy_discharged_kwh : float or np.ndarray, shape (D,)
        Energy taken from and delivered to the grid at the PCC (one value, or
        one per period). [kWh]

    Returns
    -------
    float or np.ndarray, shape (D,)
        ``(charged + discharged) / (2 * energy_kwh)``. [cycles]

    References
    ----------
    IEC 62933-2-1:2017 (equivalent full cycles from throughput).
    """
    return (energy_charged_kwh + energy_discharged_kwh) / (2.0 * spec.energy_kwh)
