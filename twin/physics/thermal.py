"""First-order lumped thermal model of a battery and its BMS derating.

The cell mass is one lump of heat capacity ``C`` cooled to ambient through a
conductance ``G``; conversion losses heat it:

.. math::
    C \\frac{dT}{dt} = P_{loss} - G (T - T_{amb})

With constant losses over a step of length ``dt`` the exact solution is
``T(dt) = T_ss + (T(0) - T_ss) exp(-dt / tau)`` with ``T_ss = T_amb + P_loss / G``
and ``tau = C / G``.

References
----------
.. [1] F. P. Incropera et al., *Fundamentals of Heat and Mass Transfer*, 7th ed.,
   Wiley 2011, section 5.2 (the lumped capacitance method).
.. [2] D. Bernardi, E. Pawlikowski, J. Newman, "A general energy balance for
   battery systems", J. Electrochem. Soc. 132(1), 1985 (losses as heat source).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from twin.config.battery import ThermalSpec


def time_constant_s(spec: ThermalSpec, energy_kwh: float) -> float:
    """Thermal time constant ``C / G`` of a battery of ``energy_kwh``. [s]"""
    heat_capacity_j_per_k = spec.heat_capacity_kj_per_k_per_kwh * 1e3 * energy_kwh
    conductance_w_per_k = spec.conductance_w_per_k_per_kwh * energy_kwh
    return heat_capacity_j_per_k / conductance_w_per_k


def steady_state_c(spec: ThermalSpec, energy_kwh: float, loss_kw: float) -> float:
    """Temperature the cells settle at under constant losses: ``T_amb + P_loss / G``. [°C]"""
    return spec.ambient_c + loss_kw / (spec.conductance_w_per_k_per_kwh * energy_kwh / 1e3)


def step_temperature(
    spec: ThermalSpec, energy_kwh: float, temperature_c: float, loss_kw: float, dt_s: float
) -> float:
    """Cell temperature after ``dt_s`` seconds of constant losses.

    Parameters
    ----------
    spec : ThermalSpec
    energy_kwh : float
        Nominal energy capacity (scales heat capacity and conductance). [kWh]
    temperature_c : float
        Temperature at the start of the step. [°C]
    loss_kw : float
        Mean heat released by conversion losses during the step (>= 0). [kW]
    dt_s : float
        Step length (>= 0). [s]

    Returns
    -------
    float
        Temperature at the end of the step (exact solution for constant losses). [°C]
    """
    return temperature_path(spec, energy_kwh, temperature_c, loss_kw)(dt_s)


def temperature_path(
    spec: ThermalSpec, energy_kwh: float, temperature_c: float, loss_kw: float
) -> Callable[[float], float]:
    """The cell temperature under constant losses as a function of time.

    ``T(t) = T_ss + (T(0) - T_ss) exp(-t / tau)``; the constants are worked out
    once, so evaluating the path at several times (a quadrature along it) costs
    one exponential each.

    Parameters
    ----------
    spec : ThermalSpec
    energy_kwh : float
        Nominal energy capacity. [kWh]
    temperature_c : float
        Temperature at time 0. [°C]
    loss_kw : float
        Constant heat from the conversion losses (>= 0). [kW]

    Returns
    -------
    callable
        Seconds since time 0 (>= 0) to temperature. [s] -> [°C]
    """
    steady_c = steady_state_c(spec, energy_kwh, loss_kw)
    offset_c = temperature_c - steady_c
    rate_per_s = 1.0 / time_constant_s(spec, energy_kwh)
    exp = math.exp
    return lambda t_s: steady_c + offset_c * exp(-t_s * rate_per_s)


def derating_factor(spec: ThermalSpec, temperature_c: float) -> float:
    """Fraction of rated power the BMS allows at ``temperature_c``.

    1 below ``derate_c``, falling linearly to 0 at ``trip_c``, 0 above. [per unit]
    """
    if temperature_c <= spec.derate_c:
        return 1.0
    if temperature_c >= spec.trip_c:
        return 0.0
    return (spec.trip_c - temperature_c) / (spec.trip_c - spec.derate_c)


def crossing_time_s(
    spec: ThermalSpec, energy_kwh: float, temperature_c: float, loss_kw: float, threshold_c: float
) -> float:
    """Time until the temperature rises to ``threshold_c`` under constant losses.

    Inverts the exact solution of :func:`step_temperature`:
    ``t = tau * ln((T(0) - T_ss) / (T_thr - T_ss))``.

    Parameters
    ----------
    spec : ThermalSpec
    energy_kwh : float
        Nominal energy capacity. [kWh]
    temperature_c : float
        Temperature now (below ``threshold_c``). [°C]
    loss_kw : float
        Constant heat from the conversion losses (>= 0). [kW]
    threshold_c : float
        Temperature to reach, e.g. ``spec.derate_c``. [°C]

    Returns
    -------
    float
        Seconds until ``threshold_c`` is reached; ``inf`` when the steady state
        stays at or below it, 0 when it is reached already. [s]
    """
    if temperature_c >= threshold_c:
        return 0.0
    steady_c = steady_state_c(spec, energy_kwh, loss_kw)
    if steady_c <= threshold_c:
        return math.inf
    return time_constant_s(spec, energy_kwh) * math.log((temperature_c - steady_c) / (threshold_c - steady_c))

