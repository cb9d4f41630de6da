"""The multi-market perfect-foresight bound: day-ahead and intraday, known in advance.

One LP over the whole backtest period that knows both the day-ahead and the
intraday prices and may trade in both, with the same physics, fees and spread
as the sites. What any real strategy earns on the two markets is at most this.

Formulation (T steps of dt hours; a_t the day-ahead position, constant within
each day-ahead MTU of ``block_steps`` steps; s_t, b_t intraday sells and buys,
only at steps with an intraday price)::

    maximise  sum_t [ DA_t a_t + (ID_t - c) s_t - (ID_t + c) b_t ] dt / 1000
              - c_deg (p_ch,t + p_dis,t) dt / 1000
    s.t.      p_dis,t - p_ch,t = a_t + s_t - b_t
              E_{t+1} = (1-l)^dt E_t + eta_c p_ch,t dt - p_dis,t dt / eta_d,  E_0 = E_init
              E_min <= E_t <= E_max
              -P_ch <= a_t <= P_dis,   0 <= p_ch <= P_ch,  0 <= p_dis <= P_dis
              s_t = b_t = 0 where ID_t is missing

It is a linear relaxation (charging and discharging in the same step is not
excluded), which only raises the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twin.config import BatterySpec
from twin.ems.dispatch_model import SOLVER, SOLVER_OPTIONS
from twin.errors import InfeasibleDispatchError
from twin.types import FloatArray
from twin.units import KWH_PER_MWH

if TYPE_CHECKING:
    import cvxpy as cp
else:
    from twin.ems.lazy_cvxpy import cp


@dataclass(frozen=True)
class MultiMarketBound:
    """The bound's schedule and revenue per step (arrays of shape (T,)).

    Attributes
    ----------
    day_ahead_kw, intraday_kw, power_kw : np.ndarray
        Day-ahead position, net intraday sell, and their sum at the PCC. [kW]
    day_ahead_revenue_eur, intraday_revenue_eur : np.ndarray
        Revenue per step; intraday net of fees and spread. [EUR]
    revenue_eur : float
        Total. [EUR]
    throughput_kwh : float
        Charged plus discharged energy. [kWh]
    """

    day_ahead_kw: FloatArray
    intraday_kw: FloatArray
    power_kw: FloatArray
    day_ahead_revenue_eur: FloatArray
    intraday_revenue_eur: FloatArray
    revenue_eur: float
    throughput_kwh: float


def solve_multimarket_bound(
    spec: BatterySpec,
    day_ahead_eur_per_mwh: FloatArray,
    intraday_eur_per_mwh: FloatArray,
    dt_h: float,
    cost_eur_per_mwh: float,
    block_steps: int = 1,
) -> MultiMarketBound:
    """Solve the bound over a period (see the module docstring).

    Parameters
    ----------
    spec : BatterySpec
    day_ahead_eur_per_mwh : np.ndarray, shape (T,)
        Day-ahead prices on the grid. [EUR/MWh]
    intraday_eur_per_mwh : np.ndarray, shape (T,)
        Intraday prices on the grid; NaN where there is no intraday trading. [EUR/MWh]
    dt_h : float
        Step length. [h]
    cost_eur_per_mwh : float
        Cost per MWh traded intraday either way (fee, plus half spread in
        continuous trading). [EUR/MWh]
    block_steps : int
        Steps per day-ahead MTU.

    Returns
    -------
    MultiMarketBound

    Raises
    ------
    InfeasibleDispatchError
        If the solver fails.
    """
    da = np.asarray(day_ahead_eur_per_mwh, dtype=float)
    idp = np.asarray(intraday_eur_per_mwh, dtype=float)
    n = len(da)
    has_id = np.isfinite(idp)
    id_price = np.where(has_id, idp, 0.0)
    a = cp.Variable(n, name="day_ahead_kw")
    s = cp.Variable(n, nonneg=True, name="sell_kw")
    b = cp.Variable(n, nonneg=True, name="buy_kw")
    p_ch = cp.Variable(n, nonneg=True)
    p_dis = cp.Variable(n, nonneg=True)
    energy = cp.Variable(n + 1)
    decay = (1.0 - spec.standing_loss_per_h) ** dt_h
    scale = dt_h / KWH_PER_MWH
    trade_cap = np.where(has_id, spec.p_charge_max_kw + spec.p_discharge_max_kw, 0.0)
    cons = [
        p_dis - p_ch == a + s - b,
        energy[0] == spec.soc_initial * spec.energy_kwh,
        energy[1:]
        == decay * energy[:-1]
        + spec.eta_charge * dt_h * p_ch
        - (dt_h / spec.eta_discharge) * p_dis,
        energy[1:] >= spec.e_min_kwh,
        energy[1:] <= spec.e_max_kwh,
        p_ch <= spec.p_charge_max_kw,
        p_dis <= spec.p_discharge_max_kw,
        a >= -spec.p_charge_max_kw,
        a <= spec.p_discharge_max_kw,
        s <= trade_cap,
        b <= trade_cap,
    ]
    tied = np.flatnonzero(np.arange(n) % block_steps != 0)
    if len(tied):
        cons.append(a[tied] == a[tied - 1])
    revenue = scale * (
        da @ a + (id_price - cost_eur_per_mwh) @ s - (id_price + cost_eur_per_mwh) @ b
    )
    wear = spec.degradation_cost_eur_per_mwh * scale * cp.sum(p_ch + p_dis)
    problem = cp.Problem(cp.Maximize(revenue - wear), cons)
    try:
        problem.solve(solver=SOLVER, **SOLVER_OPTIONS)
    except cp.SolverError as err:
        raise InfeasibleDispatchError(f"multi-market bound failed: {err}") from err
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise InfeasibleDispatchError(f"multi-market bound is {problem.status}")
    a_kw = np.asarray(a.value, dtype=float)
    net = np.asarray(s.value, dtype=float) - np.asarray(b.value, dtype=float)
    sell, buy = np.clip(net, 0, None), np.clip(-net, 0, None)
    da_eur = scale * da * a_kw
    id_eur = scale * ((id_price - cost_eur_per_mwh) * sell - (id_price + cost_eur_per_mwh) * buy)
    throughput = float(np.sum(np.asarray(p_ch.value) + np.asarray(p_dis.value)) * dt_h)
    return MultiMarketBound(
        day_ahead_kw=a_kw,
        intraday_kw=net,
        power_kw=a_kw + net,
        day_ahead_revenue_eur=da_eur,
        intraday_revenue_eur=id_eur,
        revenue_eur=float(da_eur.sum() + id_eur.sum()),
        throughput_kwh=throughput,
    )
