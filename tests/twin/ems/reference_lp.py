"""An independent dispatch reference: the same battery written as matrices for scipy's MILP (HiGHS).

No code is shared with twin.ems.dispatch; charge and discharge are made exclusive
with a binary at every step, as a real battery behaves.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import diags, eye, hstack

from twin.config import BatterySpec


def reference_revenue_eur(spec: BatterySpec, price, dt_h: float, soc0: float | None = None,
                          exclusive: bool = True) -> float:
    price = np.asarray(price, dtype=float)
    n = len(price)
    soc0 = spec.soc_initial if soc0 is None else soc0
    e0 = soc0 * spec.energy_kwh
    decay = (1 - spec.standing_loss_per_h) ** dt_h
    # x = [pc, pd, e (end of each step), z]
    eye_n = eye(n, format="csr")
    shift = diags([np.ones(n - 1)], [-1], shape=(n, n), format="csr")
    balance = hstack([-spec.eta_charge * dt_h * eye_n, dt_h / spec.eta_discharge * eye_n,
                      eye_n - decay * shift, 0 * eye_n])
    rhs = np.zeros(n)
    rhs[0] = decay * e0
    cons = [LinearConstraint(balance, rhs, rhs)]
    if exclusive:
        cons.append(LinearConstraint(hstack([eye_n, 0 * eye_n, 0 * eye_n, -spec.p_charge_max_kw * eye_n]), -np.inf, 0))
        cons.append(LinearConstraint(hstack([0 * eye_n, eye_n, 0 * eye_n, spec.p_discharge_max_kw * eye_n]), -np.inf, spec.p_discharge_max_kw))
    lo = np.concatenate([np.zeros(2 * n), np.full(n, spec.e_min_kwh), np.zeros(n)])
    hi = np.concatenate([np.full(n, spec.p_charge_max_kw), np.full(n, spec.p_discharge_max_kw),
                         np.full(n, spec.e_max_kwh), np.ones(n)])
    cost = np.concatenate([price * dt_h / 1000, -price * dt_h / 1000, np.zeros(2 * n)])
    cost[:2 * n] += spec.degradation_cost_eur_per_mwh * dt_h / 1000
    integrality = np.concatenate([np.zeros(3 * n), np.ones(n) if exclusive else np.zeros(n)])
    res = milp(cost, constraints=cons, bounds=Bounds(lo, hi), integrality=integrality,
               options={"mip_rel_gap": 1e-9})
    assert res.success, res.message
    return float(-res.fun)


