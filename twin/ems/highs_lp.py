"""The arbitrage LP kept alive in HiGHS: costs and bounds updated in place, warm-started re-solves.

:class:`twin.ems.dispatch.DispatchProblem` models the LP with cvxpy (the
reference). Each cvxpy re-solve still pays for parameter canonicalisation, the
data copies into HiGHS and a cold start; on a 36-step day-ahead problem that is
about three quarters of the re-solve time. :class:`HighsDispatchLp` builds the
same LP once as a sparse matrix in ``highspy`` and, per re-solve, changes only
what moves (the price costs, the initial energy, the terminal bound and value),
so HiGHS starts from the previous optimal basis.

Columns ``[p_ch (T), p_dis (T), E (T + 1)]``; rows: the storage balance
``E_{t+1} - decay E_t - eta_c dt p_ch_t + dt / eta_d p_dis_t = 0`` and the
block ties ``p_t - p_{t-1} = 0``. The initial energy and the terminal minimum
are column bounds of ``E_0`` and ``E_T``. Minimises the negated objective of
:class:`~twin.ems.dispatch.DispatchProblem`.

References
----------
.. [1] Q. Huangfu, J. A. J. Hall, "Parallelizing the dual revised simplex
   method", Math. Prog. Comp. 10, 2018 (HiGHS; warm start from a basis).
"""

from __future__ import annotations

import highspy
import numpy as np

from twin.config import BatterySpec
from twin.errors import InfeasibleDispatchError
from twin.types import FloatArray
from twin.units import KWH_PER_MWH


def _silent_highs() -> highspy._core._Highs:
    """A HiGHS instance that logs nothing, not even its version banner.

    highspy's ``Highs()`` enables its callbacks in the constructor, which logs
    the banner before ``output_flag`` can be set (HiGHS issue #2749); the core
    binding it wraps does not, and has every method the LP here calls.
    """
    h: highspy._core._Highs
    try:
        from highspy._core import _Highs
    except ImportError:  # another highspy layout: the banner, once per process
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    else:
        h = _Highs()
    h.setOptionValue("output_flag", False)
    return h


MIP_OPTIONS: dict[str, bool | float | str] = {
    "mip_rel_gap": 1e-9,
    "presolve": "off",
    "mip_root_presolve_only": True,
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_detect_symmetry": False,
}
"""HiGHS options of the MILP fallback: solved to optimality (no 1e-4 gap), without presolve and heuristics.

The feasibility-jump heuristic runs even at zero heuristic effort; on the
36-step day-ahead MILPs of 2023 it took about 3.4 of 5.8 ms per solve, and the
root LP with cuts closes these problems anyway (``bench/milp.py``).
"""


class HighsDispatchLp:
    """The arbitrage LP of one battery and horizon, built once in HiGHS.

    Parameters
    ----------
    spec : BatterySpec
    n_steps : int
        Horizon length T. [steps]
    dt_h : float
        Step length. [h]
    block_steps : int
        Steps tied to one power (an hourly auction on a 15-min grid: 4).
    exclusive : bool
        Add a switch ``z`` per step so the battery never charges and discharges
        at once (``p_ch <= P_ch z``, ``p_dis <= P_dis (1 - z)``): the MILP
        fallback for negative prices. ``z`` is binary at the steps whose price
        is negative and continuous elsewhere (at a price >= 0 burning energy
        never pays, and any overlap left is removed exactly by the caller).
    """

    def __init__(self, spec: BatterySpec, n_steps: int, dt_h: float, block_steps: int = 1, exclusive: bool = False) -> None:
        self.spec, self.n_steps, self.dt_h = spec, n_steps, dt_h
        t = n_steps
        n_cols = 3 * t + 1 + (t if exclusive else 0)
        self._e0, self._et = 2 * t, 3 * t
        decay = (1.0 - spec.standing_loss_per_h) ** dt_h
        rows: list[list[tuple[int, float]]] = []
        for k in range(t):  # E_{k+1} - decay E_k - eta_c dt p_ch_k + dt/eta_d p_dis_k = 0
            rows.append([(2 * t + k + 1, 1.0), (2 * t + k, -decay), (k, -spec.eta_charge * dt_h),
                         (t + k, dt_h / spec.eta_discharge)])  # fmt: skip
        for k in range(1, t):
            if k % block_steps:
                rows.append([(k, 1.0), (k - 1, -1.0)])
                rows.append([(t + k, 1.0), (t + k - 1, -1.0)])
        row_lower, row_upper = [0.0] * len(rows), [0.0] * len(rows)
        if exclusive:  # z_k = 1: charging allowed; z_k = 0: discharging allowed
            for k in range(t):
                z = 3 * t + 1 + k
                rows.append([(k, 1.0), (z, -spec.p_charge_max_kw)])  # p_ch - P_ch z <= 0
                rows.append([(t + k, 1.0), (z, spec.p_discharge_max_kw)])  # p_dis + P_dis z <= P_dis
                row_lower += [-highspy.kHighsInf, -highspy.kHighsInf]
                row_upper += [0.0, spec.p_discharge_max_kw]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols, len(rows)
        lp.col_cost_ = np.zeros(n_cols)
        lower = np.zeros(n_cols)
        upper = np.r_[np.full(t, spec.p_charge_max_kw), np.full(t, spec.p_discharge_max_kw), np.full(t + 1, spec.e_max_kwh),
                      np.ones(n_cols - 3 * t - 1)]  # fmt: skip
        lower[2 * t : 3 * t + 1] = spec.e_min_kwh
        lp.col_lower_, lp.col_upper_ = lower, upper
        lp.row_lower_ = np.array(row_lower)
        lp.row_upper_ = np.array(row_upper)
        if exclusive:
            lp.integrality_ = [highspy.HighsVarType.kContinuous] * (3 * t + 1) + [highspy.HighsVarType.kInteger] * t
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.r_[0, np.cumsum([len(r) for r in rows])].astype(np.int32)
        lp.a_matrix_.index_ = np.array([c for r in rows for c, _ in r], dtype=np.int32)
        lp.a_matrix_.value_ = np.array([v for r in rows for _, v in r], dtype=float)
        self._h = _silent_highs()
        self._h.setOptionValue("threads", 1)
        if exclusive:  # the root LP decides nearly every case: skip the MIP machinery's fixed costs
            for option, value in MIP_OPTIONS.items():
                self._h.setOptionValue(option, value)
        self._h.passModel(lp)
        scale = dt_h / KWH_PER_MWH
        self._wear = spec.degradation_cost_eur_per_mwh * scale
        self._scale = scale
        self._price_cols = np.arange(2 * t, dtype=np.int32)
        self._z_cols = np.arange(3 * t + 1, 4 * t + 1, dtype=np.int32) if exclusive else None
        self._integer, self._continuous = int(highspy.HighsVarType.kInteger), int(highspy.HighsVarType.kContinuous)
        self.solves = 0

    def solve(
        self, price_eur_per_mwh: FloatArray, e_init_kwh: float, e_term_min_kwh: float, v_term_eur_per_mwh: float
    ) -> tuple[FloatArray, FloatArray, float]:
        """Re-solve for new prices, initial energy and terminal condition.

        Parameters
        ----------
        price_eur_per_mwh : np.ndarray, shape (T,)
        e_init_kwh : float
            Stored energy at the start. [kWh]
        e_term_min_kwh : float
            Lowest stored energy at the end of the horizon. [kWh]
        v_term_eur_per_mwh : float
            Value of energy left at the end. [EUR/MWh]

        Returns
        -------
        p_charge_kw, p_discharge_kw : np.ndarray, shape (T,)
        objective_eur : float
            Revenue minus wear plus terminal value (the maximised objective). [EUR]

        Raises
        ------
        InfeasibleDispatchError
            If HiGHS reports anything but an optimum.
        """
        t, h = self.n_steps, self._h
        costs = np.r_[self._scale * price_eur_per_mwh + self._wear, -self._scale * price_eur_per_mwh + self._wear]
        h.changeColsCost(2 * t, self._price_cols, costs)
        h.changeColCost(self._et, -v_term_eur_per_mwh / KWH_PER_MWH)
        h.changeColBounds(self._e0, e_init_kwh, e_init_kwh)
        h.changeColBounds(self._et, max(self.spec.e_min_kwh, e_term_min_kwh), self.spec.e_max_kwh)
        if self._z_cols is not None:  # binaries only where the price is negative: elsewhere burning energy never pays
            kinds = np.where(price_eur_per_mwh < 0, self._integer, self._continuous).astype(np.uint8)
            h.changeColsIntegrality(t, self._z_cols, kinds)
        h.run()
        self.solves += 1
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise InfeasibleDispatchError(
                f"dispatch problem is {h.modelStatusToString(status)} (initial energy {e_init_kwh:.3f} kWh, "
                f"terminal minimum {e_term_min_kwh:.3f} kWh); check the SoC window and terminal_soc"
            )
        x = np.asarray(h.getSolution().col_value)
        return x[:t].copy(), x[t : 2 * t].copy(), -float(h.getInfo().objective_function_value)
