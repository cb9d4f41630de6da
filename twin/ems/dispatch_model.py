"""The arbitrage LP as a cvxpy model (DPP parameters): the modelling layer and the reference.

Built once per battery and horizon; :class:`twin.ems.dispatch.DispatchProblem`
re-solves it with new parameter values (``backend="cvxpy"``), and uses it for
the negative-price MILP of one-shot year-long problems. See
:mod:`twin.ems.dispatch` for the formulation and :mod:`twin.ems.highs_lp` for
the same LP kept alive in HiGHS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from twin.config import BatterySpec
from twin.errors import InfeasibleDispatchError
from twin.types import FloatArray
from twin.units import KWH_PER_MWH

if TYPE_CHECKING:
    import cvxpy as cp
else:
    from twin.ems.lazy_cvxpy import cp

SOLVER = "HIGHS"
# One solver thread per problem: a fleet runs many sites in parallel processes, and
# HiGHS thread pools in each of them would oversubscribe the cores.
SOLVER_OPTIONS: dict[str, object] = {"threads": 1}


class CvxpyDispatchModel:
    """One compiled cvxpy problem (LP, or MILP with binaries at the steps ``exclusive``).

    Parameters
    ----------
    spec : BatterySpec
    n_steps : int
    dt_h : float
        Step length. [h]
    exclusive : np.ndarray of int, optional
        Steps with a charge/discharge binary (the MILP); None: the LP.
    block_steps : int
        Steps tied to one power.
    """

    def __init__(
        self,
        spec: BatterySpec,
        n_steps: int,
        dt_h: float,
        exclusive: npt.NDArray[np.int64] | None,
        block_steps: int = 1,
    ) -> None:
        self.price = cp.Parameter(n_steps, name="price_eur_per_mwh")
        self.e_init = cp.Parameter(nonneg=True, name="e_init_kwh")
        self.e_term_min = cp.Parameter(nonneg=True, name="e_terminal_min_kwh")
        self.v_term = cp.Parameter(name="terminal_value_eur_per_mwh")
        self.p_ch = cp.Variable(n_steps, nonneg=True, name="p_charge_kw")
        self.p_dis = cp.Variable(n_steps, nonneg=True, name="p_discharge_kw")
        self.energy = cp.Variable(n_steps + 1, name="energy_kwh")
        decay = (1.0 - spec.standing_loss_per_h) ** dt_h
        scale = dt_h / KWH_PER_MWH
        cons = [
            self.energy[0] == self.e_init,
            self.energy[1:]
            == decay * self.energy[:-1]
            + spec.eta_charge * dt_h * self.p_ch
            - (dt_h / spec.eta_discharge) * self.p_dis,
            self.energy[1:] >= spec.e_min_kwh,
            self.energy[1:] <= spec.e_max_kwh,
            self.energy[n_steps] >= self.e_term_min,
            self.p_ch <= spec.p_charge_max_kw,
            self.p_dis <= spec.p_discharge_max_kw,
        ]
        tied = np.flatnonzero(np.arange(n_steps) % block_steps != 0)
        if len(tied):
            cons += [self.p_ch[tied] == self.p_ch[tied - 1], self.p_dis[tied] == self.p_dis[tied - 1]]
        if exclusive is not None and len(exclusive):
            z = cp.Variable(len(exclusive), boolean=True, name="charging")
            cons += [
                self.p_ch[exclusive] <= spec.p_charge_max_kw * z,
                self.p_dis[exclusive] <= spec.p_discharge_max_kw * (1 - z),
            ]
        revenue = scale * (self.price @ (self.p_dis - self.p_ch))
        wear = spec.degradation_cost_eur_per_mwh * scale * cp.sum(self.p_ch + self.p_dis)
        terminal = self.v_term * self.energy[n_steps] / KWH_PER_MWH
        self.problem = cp.Problem(cp.Maximize(revenue - wear + terminal), cons)
        self.is_milp = exclusive is not None and len(exclusive) > 0

    def solve(
        self, price: FloatArray, e_init: float, e_term_min: float, v_term: float
    ) -> tuple[FloatArray, FloatArray, float]:
        """Set the parameters (prices [EUR/MWh], energies [kWh], terminal value [EUR/MWh]) and solve.

        Returns
        -------
        p_charge_kw, p_discharge_kw : np.ndarray, shape (T,)
        objective_eur : float
            As :meth:`twin.ems.highs_lp.HighsDispatchLp.solve`.

        Raises
        ------
        InfeasibleDispatchError
            If HiGHS fails or reports no optimum.
        """
        self.price.value = price
        self.e_init.value = e_init
        self.e_term_min.value = e_term_min
        self.v_term.value = v_term
        try:
            self.problem.solve(solver=SOLVER, **SOLVER_OPTIONS, **({"mip_rel_gap": 1e-9} if self.is_milp else {}))
        except cp.SolverError as err:
            raise InfeasibleDispatchError(f"HiGHS failed on the dispatch problem: {err}") from err
        if self.problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise InfeasibleDispatchError(
                f"dispatch problem is {self.problem.status} (initial energy {e_init:.3f} kWh, "
                f"terminal minimum {e_term_min:.3f} kWh); check the SoC window and terminal_soc"
            )
        if self.p_ch.value is None or self.p_dis.value is None:
            raise InfeasibleDispatchError("solver returned no values")
        return np.asarray(self.p_ch.value), np.asarray(self.p_dis.value), float(self.problem.value)
