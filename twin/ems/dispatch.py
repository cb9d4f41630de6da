"""Day-ahead arbitrage dispatch as a linear programme (cvxpy + HiGHS).

The problem is built once per battery and horizon length with cvxpy
``Parameter`` objects (disciplined parametrised programming, DPP) for the
prices, the initial energy and the terminal condition, so a rolling backtest
re-solves without recompiling (build-then-solve, as PyPSA's
``create_model``/``solve_model``).

Formulation (T steps of ``dt_h`` hours, all powers at the PCC, kW)::

    maximise   sum_t price_t * (p_dis_t - p_ch_t) * dt / 1000            [EUR]
             - c_deg * sum_t (p_ch_t + p_dis_t) * dt / 1000                 [EUR]
             + v_term * E_T / 1000                                          [EUR]
    s.t.       E_0 = E_init
               E_{t+1} = (1 - l)^dt E_t + eta_c p_ch_t dt - p_dis_t dt / eta_d
               E_min <= E_t <= E_max,  E_T >= E_term_min
               0 <= p_ch_t <= P_ch_max,  0 <= p_dis_t <= P_dis_max
               p_t = p_{t-1}  inside each block of ``block_steps`` steps

Blocks. When the backtest runs at 15 min (for 15-min intraday products) while the
day-ahead auction is hourly, a day-ahead bid holds one power for each hour:
``block_steps = 4`` ties the four quarter hours of each hour together.

Negative prices. With ``eta_c * eta_d < 1`` the LP relaxation may charge and
discharge in the same step to burn energy when the price is negative (it is
paid to consume). A battery cannot do that. Where the LP solution does it:

* at steps with price >= 0 the overlap is removed exactly (lower both powers so
  the stored energy is unchanged; the export rises, so revenue does not fall);
* at steps with price < 0 the problem is re-solved as a MILP with a binary per
  step (``p_ch <= P_ch_max z``, ``p_dis <= P_dis_max (1 - z)``).

So a schedule never charges and discharges at once; at negative prices the
battery charges as far as its headroom allows and otherwise idles.

References
----------
.. [1] S. Diamond, S. Boyd, "CVXPY: A Python-embedded modeling language for
   convex optimization", JMLR 17(83), 2016; A. Agrawal et al., "Differentiable
   convex optimization layers" (DPP), NeurIPS 2019.
.. [2] Q. Huangfu, J. A. J. Hall, "Parallelizing the dual revised simplex
   method", Math. Prog. Comp. 10, 2018 (HiGHS).
.. [3] PyPSA ``define_storage_unit_constraints`` (state-of-charge equation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from twin.config import BatterySpec, TerminalSocConfig
from twin.ems.dispatch_model import CvxpyDispatchModel
from twin.ems.highs_lp import HighsDispatchLp
from twin.ems.terminal import terminal_bounds
from twin.errors import InfeasibleDispatchError
from twin.types import FloatArray
from twin.units import KWH_PER_MWH

_OVERLAP_TOL_KW = 1e-6


@dataclass(frozen=True)
class DispatchResult:
    """An optimal schedule over T steps.

    Attributes
    ----------
    power_kw : np.ndarray, shape (T,)
        Net power at the PCC; positive discharges. [kW]
    p_charge_kw, p_discharge_kw : np.ndarray, shape (T,)
        Split powers, both >= 0 and never both > 0 in a step. [kW]
    energy_kwh : np.ndarray, shape (T + 1,)
        Stored energy at each step boundary; ``energy_kwh[0]`` is the start. [kWh]
    objective_eur : float
        Revenue minus degradation cost plus terminal value, at the given prices. [EUR]
    used_milp : bool
        True when the negative-price MILP fallback was needed.
    """

    power_kw: FloatArray
    p_charge_kw: FloatArray
    p_discharge_kw: FloatArray
    energy_kwh: FloatArray
    objective_eur: float
    used_milp: bool


def remove_overlap(
    spec: BatterySpec,
    p_ch: FloatArray,
    p_dis: FloatArray,
    where: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Lower both powers where they overlap (and ``where``), keeping the stored energy unchanged.

    Parameters
    ----------
    spec : BatterySpec
    p_ch, p_dis : np.ndarray, shape (T,)
        Charge and discharge power, changed in place. [kW]
    where : np.ndarray of bool, shape (T,), optional
        Steps allowed to change; default all.
    """
    both = _overlap(p_ch, p_dis)
    if where is not None:
        both &= where
    if not both.any():
        return
    round_trip = spec.eta_charge * spec.eta_discharge
    cut_dis = np.minimum(p_dis[both], p_ch[both] * round_trip)
    p_dis[both] -= cut_dis
    p_ch[both] -= cut_dis / round_trip
    np.clip(p_ch, 0.0, None, out=p_ch)
    np.clip(p_dis, 0.0, None, out=p_dis)


def _overlap(p_ch: FloatArray, p_dis: FloatArray) -> npt.NDArray[np.bool_]:
    return (p_ch > _OVERLAP_TOL_KW) & (p_dis > _OVERLAP_TOL_KW)


class DispatchProblem:
    """Arbitrage dispatch of one battery over a fixed number of steps.

    Build once, then call :meth:`solve` for every planning round; only parameter
    values change, so cvxpy never recompiles.

    Parameters
    ----------
    spec : BatterySpec
    n_steps : int
        Horizon length T in steps.
    dt_h : float
        Step length. [h]
    terminal : TerminalSocConfig
        Terminal SoC policy.
    binaries : {'all', 'negative'}
        cvxpy backend: where the negative-price MILP fallback puts a binary: at
        every step (built once and re-used, for rolling re-solves) or only at the
        steps whose price is negative (built for the prices at hand, for one-shot
        year-long problems). The HiGHS model does the latter on every solve (it
        changes each switch's integrality in place), so it ignores this.
    backend : {'highs', 'cvxpy'}
        Who solves the LP: ``highs`` (default) keeps the model alive in HiGHS and
        updates it in place (:mod:`twin.ems.highs_lp`), the MILP fallback too;
        ``cvxpy`` re-solves the cvxpy models, the reference the fast path is
        tested against. Only the cvxpy backend imports cvxpy.

    Raises
    ------
    ValueError
        If ``n_steps < 1`` or ``dt_h <= 0``.
    """

    def __init__(
        self,
        spec: BatterySpec,
        n_steps: int,
        dt_h: float,
        terminal: TerminalSocConfig,
        binaries: Literal["all", "negative"] = "all",
        block_steps: int = 1,
        backend: Literal["highs", "cvxpy"] = "highs",
    ) -> None:
        if backend not in ("highs", "cvxpy"):
            raise ValueError(f"backend must be 'highs' or 'cvxpy', got {backend!r}")
        if block_steps < 1:
            raise ValueError(f"block_steps must be >= 1, got {block_steps}")
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        if not dt_h > 0:
            raise ValueError(f"dt_h must be > 0 h, got {dt_h}")
        self.spec = spec
        self.n_steps = n_steps
        self.dt_h = dt_h
        self.terminal = terminal
        self.binaries = binaries
        self.block_steps = block_steps
        self.backend = backend
        self._lp: CvxpyDispatchModel | HighsDispatchLp = (
            HighsDispatchLp(spec, n_steps, dt_h, block_steps)
            if backend == "highs"
            else CvxpyDispatchModel(spec, n_steps, dt_h, exclusive=None, block_steps=block_steps)
        )
        self._milp: CvxpyDispatchModel | HighsDispatchLp | None = None  # built on first need, then reused
        self.milp_solves = 0

    def _terminal_bounds(self, price: FloatArray, e_init: float) -> tuple[float, float]:
        return terminal_bounds(self.spec, self.terminal, price, e_init, self.dt_h, self.n_steps)

    def _milp_for(self, price: FloatArray) -> CvxpyDispatchModel | HighsDispatchLp:
        if self.binaries == "negative" and self.backend == "cvxpy":
            negative = np.flatnonzero(price < 0)
            return CvxpyDispatchModel(self.spec, self.n_steps, self.dt_h, negative, self.block_steps)
        if self._milp is None:
            self._milp = (
                HighsDispatchLp(self.spec, self.n_steps, self.dt_h, self.block_steps, exclusive=True)
                if self.backend == "highs"
                else CvxpyDispatchModel(self.spec, self.n_steps, self.dt_h, np.arange(self.n_steps), self.block_steps)
            )
        return self._milp

    def solve(self, price_eur_per_mwh: npt.ArrayLike, soc_initial: float) -> DispatchResult:
        """Optimise the schedule for the given prices and start SoC.

        Parameters
        ----------
        price_eur_per_mwh : array-like, shape (T,)
            Prices of the horizon (forecast or realised). [EUR/MWh]
        soc_initial : float
            SoC at the start of the horizon; clipped into ``[soc_min, soc_max]``. [fraction]

        Returns
        -------
        DispatchResult

        Raises
        ------
        ValueError
            If the price vector has the wrong length or holds NaN/inf.
        InfeasibleDispatchError
            If the solver finds no optimal schedule.
        """
        price = np.asarray(price_eur_per_mwh, dtype=float)
        if price.shape != (self.n_steps,):
            raise ValueError(
                f"price_eur_per_mwh must have shape ({self.n_steps},), got {price.shape}"
            )
        if not np.isfinite(price).all():
            raise ValueError("price_eur_per_mwh holds NaN or infinite values")
        spec = self.spec
        soc = min(max(float(soc_initial), spec.soc_min), spec.soc_max)
        e_init = soc * spec.energy_kwh
        e_term, v_term = self._terminal_bounds(price, e_init)
        p_ch, p_dis, _ = self._lp.solve(price, e_init, e_term, v_term)
        p_ch, p_dis = _clean(p_ch), _clean(p_dis)
        remove_overlap(spec, p_ch, p_dis, price >= 0)
        used_milp = False
        if _overlap(p_ch, p_dis).any():
            p_ch, p_dis, _ = self._milp_for(price).solve(price, e_init, e_term, v_term)
            p_ch, p_dis = _clean(p_ch), _clean(p_dis)
            remove_overlap(spec, p_ch, p_dis, price >= 0)
            used_milp = True
            self.milp_solves += 1
        if self.block_steps > 1:  # exactly one power per block (the solver's is within tolerance)
            p_ch, p_dis = block_mean(p_ch, self.block_steps), block_mean(p_dis, self.block_steps)
        return _result(spec, self.dt_h, price, e_init, p_ch, p_dis, v_term, used_milp)


def block_mean(values: FloatArray, block_steps: int) -> FloatArray:
    """Each block of ``block_steps`` values (from the first) replaced by its mean."""
    starts = np.arange(0, len(values), block_steps)
    means = np.add.reduceat(values, starts) / np.diff(np.r_[starts, len(values)])
    return np.repeat(means, np.diff(np.r_[starts, len(values)]))


def _clean(values: FloatArray | None) -> FloatArray:
    if values is None:
        raise InfeasibleDispatchError("solver returned no values")
    out = np.asarray(values, dtype=float).copy()
    out[out < _OVERLAP_TOL_KW] = 0.0
    return out


def energy_path(
    spec: BatterySpec, e_init_kwh: float, p_ch: FloatArray, p_dis: FloatArray, dt_h: float
) -> FloatArray:
    """Stored energy at each step boundary of a schedule (the LP's state-of-charge equation).

    Returns
    -------
    np.ndarray, shape (T + 1,)
        ``[0]`` is ``e_init_kwh``. [kWh]
    """
    decay = (1.0 - spec.standing_loss_per_h) ** dt_h
    energy = np.empty(len(p_ch) + 1)
    energy[0] = e_init_kwh
    delta = spec.eta_charge * dt_h * p_ch - dt_h / spec.eta_discharge * p_dis
    for t in range(len(p_ch)):
        energy[t + 1] = decay * energy[t] + delta[t]
    return energy


def _result(
    spec: BatterySpec,
    dt_h: float,
    price: FloatArray,
    e_init: float,
    p_ch: FloatArray,
    p_dis: FloatArray,
    v_term: float,
    used_milp: bool,
) -> DispatchResult:
    p_ch = np.minimum(p_ch, spec.p_charge_max_kw)
    p_dis = np.minimum(p_dis, spec.p_discharge_max_kw)
    energy = energy_path(spec, e_init, p_ch, p_dis, dt_h)
    scale = dt_h / KWH_PER_MWH
    objective = float(
        scale * price @ (p_dis - p_ch)
        - spec.degradation_cost_eur_per_mwh * scale * np.sum(p_ch + p_dis)
        + v_term * energy[-1] / KWH_PER_MWH
    )
    return DispatchResult(
        power_kw=p_dis - p_ch,
        p_charge_kw=p_ch,
        p_discharge_kw=p_dis,
        energy_kwh=energy,
        objective_eur=objective,
        used_milp=used_milp,
    )


def solve_dispatch(
    spec: BatterySpec,
    price_eur_per_mwh: npt.ArrayLike,
    dt_h: float,
    soc_initial: float | None = None,
    terminal: TerminalSocConfig | None = None,
    block_steps: int = 1,
) -> DispatchResult:
    """Solve one dispatch problem over a whole price vector (no re-use).

    Used for the perfect-foresight benchmark: one LP over the backtest period.
    Only steps with a negative price get a binary in the MILP fallback, so a
    year-long problem stays a fast LP except where exclusivity binds.

    Parameters
    ----------
    spec : BatterySpec
    price_eur_per_mwh : array-like, shape (T,)
        Prices. [EUR/MWh]
    dt_h : float
        Step length. [h]
    soc_initial : float, optional
        Start SoC; default ``spec.soc_initial``. [fraction]
    terminal : TerminalSocConfig, optional
        Default ``free``: the energy left at the end is worth nothing, which makes
        the result an upper bound on any schedule's revenue.
    block_steps : int
        Steps per day-ahead MTU (see :class:`DispatchProblem`).

    Returns
    -------
    DispatchResult

    Raises
    ------
    InfeasibleDispatchError
        If the solver finds no optimal schedule.
    """
    price = np.asarray(price_eur_per_mwh, dtype=float)
    terminal = terminal or TerminalSocConfig(policy="free")
    soc = spec.soc_initial if soc_initial is None else soc_initial
    problem = DispatchProblem(
        spec, len(price), dt_h, terminal, binaries="negative", block_steps=block_steps
    )
    return problem.solve(price, soc)
