"""Capacity fade from equivalent full cycles and calendar ageing.

A semi-empirical model of the kind fitted to LFP and NMC cells: cycle fade grows
linearly with equivalent full cycles (EFC), calendar fade with the square root of
time, accelerated by temperature (doubling every ``doubling_k`` kelvin, the
Arrhenius rule of thumb). Calendar ageing under a varying temperature is
accumulated as an *equivalent time* at the reference temperature.

.. math::
    SoH = 1 - k_{cyc} \\cdot EFC - k_{cal} \\sqrt{t_{eq}}, \\qquad
    t_{eq} = \\int 2^{(T - T_{ref}) / \\Delta T_{2}} \\, dt

References
----------
.. [1] B. Xu, A. Oudalov, A. Ulbig, G. Andersson, D. S. Kirschen, "Modeling of
   lithium-ion battery degradation for cell life assessment", IEEE Trans. Smart
   Grid 9(2), 2018, doi:10.1109/TSG.2016.2578950.
.. [2] IEC 62933-2-1:2017 (equivalent full cycles from throughput).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from twin.config.battery import DegradationSpec

SECONDS_PER_DAY = 86_400.0


def calendar_stress_factor(spec: DegradationSpec, temperature_c: float) -> float:
    """Speed-up of calendar ageing at ``temperature_c`` relative to ``reference_c``. [per unit]"""
    return float(2.0 ** ((temperature_c - spec.reference_c) / spec.doubling_k))


def state_of_health(spec: DegradationSpec, efc: float, equivalent_days: float) -> float:
    """State of health after ``efc`` cycles and ``equivalent_days`` of calendar ageing.

    Parameters
    ----------
    spec : DegradationSpec
    efc : float
        Equivalent full cycles, ``(charged + discharged) / (2 E_nom)``. [cycles]
    equivalent_days : float
        Calendar time at the reference temperature. [d]

    Returns
    -------
    float
        Remaining capacity as a fraction of nominal, floored at 0. [fraction]
    """
    fade = spec.cycle_fade_per_efc * efc + spec.calendar_fade_per_sqrt_day * math.sqrt(
        max(equivalent_days, 0.0)
    )
    return max(1.0 - fade, 0.0)


_GAUSS_NODES = tuple(float(x) for x in np.polynomial.legendre.leggauss(2)[0])
_GAUSS_WEIGHTS = tuple(float(w) for w in np.polynomial.legendre.leggauss(2)[1])


def equivalent_days_over(spec: DegradationSpec, dt_s: float, temperature_at: Callable[[float], float]) -> float:
    """Calendar time at the reference temperature accrued over ``dt_s`` seconds.

    Integrates :func:`calendar_stress_factor` along a temperature path with
    2-point Gauss-Legendre quadrature (exact to third order; the exponential paths of
    :func:`twin.physics.thermal.step_temperature` move by a few kelvin at most
    over a piece, far below the model's accuracy).

    Parameters
    ----------
    spec : DegradationSpec
    dt_s : float
        Length of the interval (>= 0). [s]
    temperature_at : callable
        Temperature [°C] at a time since the start of the interval [s].

    Returns
    -------
    float
        Equivalent days accrued. [d]
    """
    if dt_s <= 0:
        return 0.0
    half = 0.5 * dt_s
    (x0, x1), (w0, w1) = _GAUSS_NODES, _GAUSS_WEIGHTS
    ref, doubling = spec.reference_c, spec.doubling_k
    total = w0 * 2.0 ** ((temperature_at(half * (x0 + 1.0)) - ref) / doubling) + w1 * 2.0 ** (
        (temperature_at(half * (x1 + 1.0)) - ref) / doubling
    )
    return float(half * total / SECONDS_PER_DAY)
