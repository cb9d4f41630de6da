"""Intraday re-optimisation of a day's schedule against known prices and a spread.

After the day-ahead auction a site knows the clearing prices of its delivery
day. It re-optimises the day around its awarded schedule: every kW it sells on
top of the award earns ``price - half_spread``, every kW it buys costs
``price + half_spread`` (the cost of crossing to the liquidity provider). The
stored energy at the end of the day may not fall below what the award leaves,
so the intraday trades never borrow from the next day's plan.

Formulation (T steps of dt hours, kW at the PCC, E in kWh)::

    maximise  sum_t [(c_t - h) s_t - (c_t + h) b_t] dt / 1000 - c_deg (p_ch,t + p_dis,t) dt / 1000
    s.t.      p_dis,t - p_ch,t = a_t + s_t - b_t
              E_{t+1} = (1-l)^dt E_t + eta_c p_ch,t dt - p_dis,t dt / eta_d,  E_0 = E_init
              E_min <= E_t <= E_max,  E_T >= E_T(award)
              0 <= p_ch <= P_ch,  0 <= p_dis <= P_dis,  s, b >= 0

The award itself (s = b = 0) is feasible when it is physically feasible, so the
optimum earns at least the award's revenue at these prices.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from twin.config import BatterySpec
from twin.ems.dispatch import SOLVER, SOLVER_OPTIONS
from twin.errors import InfeasibleDispatchError
from twin.physics.battery import BatteryState, Trajectory, simulate
from twin.types import FloatArray
from twin.units import KWH_PER_MWH


def award_path(
    spec: BatterySpec, soc_start: float, award_kw: FloatArray, dt_h: float
) -> tuple[BatteryState, Trajectory]:
    """The award simulated from ``soc_start`` (clipped into the SoC window).

    Returns
    -------
    (BatteryState, Trajectory)
        The start state and the award's trajectory: SoC and energy at the end of
        each of the ``len(award_kw)`` steps. [fraction, kWh]
    """
    soc = min(max(soc_start, spec.soc_min), spec.soc_max)
    start = BatteryState(energy_kwh=soc * spec.energy_kwh, soc=soc)
    return start, simulate(spec, start, np.asarray(award_kw, dtype=float), dt_h)


class IntradayProblem:
    """The re-optimisation LP of one battery and day length (compiled once, DPP).

    Parameters
    ----------
    spec : BatterySpec
        The battery as the planner sees it (SoC window already the tradable one).
    n_steps : int
    dt_h : float
        [h]
    margin_kwh : float
        Kept free at the SoC bounds, and per step at the power limits, so that
        quantities rounded to the exchange's lot still pass its pre-trade
        checks. [kWh]
    """

    def __init__(
        self, spec: BatterySpec, n_steps: int, dt_h: float, margin_kwh: float = 0.0
    ) -> None:
        self.spec, self.n_steps, self.dt_h = spec, n_steps, dt_h
        e_low = spec.e_min_kwh + margin_kwh
        e_high = spec.e_max_kwh - margin_kwh
        p_ch_max = max(0.0, spec.p_charge_max_kw - margin_kwh / dt_h)
        p_dis_max = max(0.0, spec.p_discharge_max_kw - margin_kwh / dt_h)
        self.price = cp.Parameter(n_steps, name="price_eur_per_mwh")
        self.award = cp.Parameter(n_steps, name="award_kw")
        self.half_spread = cp.Parameter(nonneg=True, name="half_spread_eur_per_mwh")
        self.e_init = cp.Parameter(nonneg=True, name="e_init_kwh")
        self.e_end_min = cp.Parameter(nonneg=True, name="e_end_min_kwh")
        self.sell = cp.Variable(n_steps, nonneg=True, name="sell_kw")
        self.buy = cp.Variable(n_steps, nonneg=True, name="buy_kw")
        p_ch = cp.Variable(n_steps, nonneg=True)
        p_dis = cp.Variable(n_steps, nonneg=True)
        energy = cp.Variable(n_steps + 1)
        decay = (1.0 - spec.standing_loss_per_h) ** dt_h
        scale = dt_h / KWH_PER_MWH
        cons = [
            p_dis - p_ch == self.award + self.sell - self.buy,
            energy[0] == self.e_init,
            energy[1:] == decay * energy[:-1] + spec.eta_charge * dt_h * p_ch
            - (dt_h / spec.eta_discharge) * p_dis,
            energy[1:] >= e_low,
            energy[1:] <= e_high,
            energy[n_steps] >= self.e_end_min,
            p_ch <= p_ch_max,
            p_dis <= p_dis_max,
        ]
        self._e_high = e_high
        revenue = scale * (
            cp.sum(cp.multiply(self.price, self.sell - self.buy))
            - self.half_spread * cp.sum(self.sell + self.buy)
        )
        wear = spec.degradation_cost_eur_per_mwh * scale * cp.sum(p_ch + p_dis)
        self.problem = cp.Problem(cp.Maximize(revenue - wear), cons)

    def solve(
        self,
        price_eur_per_mwh: FloatArray,
        award_kw: FloatArray,
        start: BatteryState,
        award_end_kwh: float,
        half_spread_eur_per_mwh: float,
    ) -> FloatArray:
        """Net intraday trade per step that maximises the day's revenue.

        Parameters
        ----------
        price_eur_per_mwh : np.ndarray, shape (n_steps,)
            Mark price of each product (the day-ahead clearing price). [EUR/MWh]
        award_kw : np.ndarray, shape (n_steps,)
            Day-ahead schedule; positive discharges. [kW]
        start : BatteryState
            Projected state at the start of the day (see :func:`award_path`).
        award_end_kwh : float
            Stored energy the award leaves at the end of the day; the
            re-optimised day must leave at least as much. [kWh]
        half_spread_eur_per_mwh : float
            Cost of trading one MWh either way. [EUR/MWh]

        Returns
        -------
        np.ndarray, shape (n_steps,)
            Net intraday sell per step (negative: buy). [kW]

        Raises
        ------
        InfeasibleDispatchError
            If the solver fails.
        """
        self.price.value = np.asarray(price_eur_per_mwh, dtype=float)
        self.award.value = np.asarray(award_kw, dtype=float)
        self.half_spread.value = float(half_spread_eur_per_mwh)
        self.e_init.value = start.energy_kwh
        self.e_end_min.value = max(0.0, min(award_end_kwh, self._e_high) - 1e-6)
        try:
            self.problem.solve(solver=SOLVER, **SOLVER_OPTIONS)
        except cp.SolverError as err:
            raise InfeasibleDispatchError(f"intraday re-optimisation failed: {err}") from err
        if self.problem.status not in ("optimal", "optimal_inaccurate"):
            return np.zeros(self.n_steps)  # keep the award (e.g. it is infeasible itself)
        sell = np.asarray(self.sell.value, dtype=np.float64)
        return sell - np.asarray(self.buy.value, dtype=np.float64)
