"""The terminal condition of a dispatch horizon: a floor on the final energy, or a value for it."""

from __future__ import annotations

import numpy as np

from twin.config import BatterySpec, TerminalSocConfig
from twin.types import FloatArray


def terminal_bounds(
    spec: BatterySpec,
    policy: TerminalSocConfig,
    price_eur_per_mwh: FloatArray,
    e_init_kwh: float,
    dt_h: float,
    n_steps: int,
) -> tuple[float, float]:
    """Terminal energy floor and value of the stored energy for ``policy``.

    Parameters
    ----------
    spec : BatterySpec
    policy : TerminalSocConfig
    price_eur_per_mwh : np.ndarray, shape (T,)
        What energy is worth in the horizon (``value`` policy default: its mean
        times ``eta_discharge``). [EUR/MWh]
    e_init_kwh : float
        Stored energy at the start. [kWh]
    dt_h : float
        Step length. [h]
    n_steps : int
        Horizon length T.

    Returns
    -------
    (float, float)
        The floor on the final energy [kWh] (never above what the battery can
        reach from ``e_init_kwh``, so the problem stays feasible) and the value
        credited per MWh left at the end [EUR/MWh].
    """
    if policy.policy == "target":
        target = (spec.soc_initial if policy.soc is None else policy.soc) * spec.energy_kwh
        decay = (1.0 - spec.standing_loss_per_h) ** (dt_h * n_steps)
        reachable = decay * (e_init_kwh + spec.eta_charge * spec.p_charge_max_kw * dt_h * n_steps)
        e_min = min(max(target, spec.e_min_kwh), spec.e_max_kwh, reachable)
        return max(e_min, 0.0), 0.0
    if policy.policy == "value":
        value = policy.value_eur_per_mwh
        if value is None:
            value = float(np.mean(price_eur_per_mwh)) * spec.eta_discharge
        return 0.0, value
    return 0.0, 0.0
