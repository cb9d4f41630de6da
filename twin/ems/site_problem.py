"""The EMS of one site as one linear programme: every value stream is an objective term.

One cvxpy problem per site, built once with parameters (DPP) for every input
and every term weight, re-solved each day; a strategy only sets which weights
are non-zero (:mod:`twin.ems.strategies`), so all strategies of a site share
one compiled problem.

Formulation (T steps of ``dt`` hours; powers in kW, energies in kWh; ``s = dt/1000``)::

    maximise   s * sum_t a_t (d_t - c_t)                       arbitrage at price a  [EUR]
             - s * sum_t (pi_t m_t - pe_t x_t)                 energy bill (tariff)
             - sum_k C_k P_k                                   demand charge, periods k = 1, 2
             - w * sum_t |g_t - g_{t-1}|                       load balancing (L1)
             + s * sum_t f_t r_t                               FCR capacity (price per MW and hour)
             - (omega + lambda) * s * sum_t (c_t + d_t)        wear + cycle-pacing shadow price
             + v E_T / 1000                                    terminal value
    s.t.       g_t = m_t - x_t = L_t - u_t - d_t + c_t          PCC balance, u_t <= PV_t (curtailment)
               E_{t+1} = (1 - l)^dt E_t + eta_c c_t dt - d_t dt / eta_d
               E_min <= E_t <= E_max,  E_T >= E_term
               c_t + r_t <= P_ch,  d_t + r_t <= P_dis             power left beside the FCR band
               E_t - r_t D / eta_d >= E_min,  E_t + r_t D eta_c <= E_max   (both ends of step t)
               r_t <= R_t,  r_t = r_{t-1} inside an FCR block
               P_k >= mask_k,t m_t,  P_k >= floor_k                  (EMHASS's current_period_peak)
               m_t + r_t <= M_imp,  x_t + r_t <= M_exp

with ``c, d`` charge and discharge, ``m, x`` import and export, ``r`` the FCR
band, ``D`` the prequalified full-activation duration (15 min: SO GL Art. 156),
``pe_t = min(pe_t, pi_t)`` (a meter nets import and export in a step, so the LP
is never paid to import and export at once).

The battery's own simultaneous charge and discharge (an LP artefact where energy
has a negative value) is removed afterwards as in :mod:`twin.ems.dispatch`:
both powers are lowered, the stored energy path is unchanged.

References
----------
.. [1] Commission Regulation (EU) 2017/1485 (System Operation Guideline),
   Art. 156(9)-(11): FCR of limited energy reservoirs, full activation for at
   least 15 min (the period chosen by the Continental Europe TSOs).
.. [2] EMHASS optimisation (``optimization.py``): peak cost with the current
   period's peak as a floor; PyPSA ``StorageUnit`` (state-of-charge equation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin.config import BatterySpec, TerminalSocConfig
from twin.ems.dispatch import block_mean, energy_path, remove_overlap
from twin.ems.dispatch_model import SOLVER
from twin.ems.site_inputs import SiteInputs, SitePlan
from twin.ems.terminal import terminal_bounds
from twin.errors import InfeasibleDispatchError
from twin.types import FloatArray
from twin.units import KWH_PER_MWH

if TYPE_CHECKING:
    import cvxpy as cp
else:
    from twin.ems.lazy_cvxpy import cp

UNSERVED_PENALTY_EUR_PER_MWH = 10_000.0
"""Cost of load the import limit cannot serve (keeps the LP feasible and reports it). [EUR/MWh]"""

_TOL_KW = 1e-6

__all__ = ["SOLVER_OPTIONS", "SiteInputs", "SitePlan", "SiteProblem"]

SOLVER_OPTIONS: dict[str, object] = {"threads": 1, "simplex_dual_edge_weight_strategy": 1}
"""HiGHS options: one thread (a fleet solves sites in parallel processes) and Devex
pricing, about 25 % faster than the default on this problem (``bench/ems.py``)."""


class SiteProblem:
    """The stacked EMS LP of one site, built once and re-solved with new parameters.

    Parameters
    ----------
    spec : BatterySpec
    n_steps : int
        Horizon length T.
    dt_h : float
        Step length. [h]
    terminal : TerminalSocConfig
        Terminal SoC policy.
    import_max_kw, export_max_kw : float, optional
        PCC limits (export: the tightest of export and feed-in limits). [kW]
    fcr_duration_h : float
        Full FCR activation each way the SoC must allow for. [h]
    block_steps : int
        Steps per day-ahead MTU: the battery power is constant inside a block.
    period_of_step : np.ndarray of int, shape (T,), optional
        Demand-charge period (0..K-1) of each step, fixed at build time (a one-shot
        problem over many billing periods, e.g. a year's perfect foresight).
        Without it the problem has two periods, the current and the next, and
        ``SiteInputs.period_mask`` says which step is in which (a daily re-solve).
    fcr_blocks : tuple of int, optional
        First step of each FCR block, fixed at build time: the band is one value
        per block and its headroom at a block's start is checked there only (a
        smaller LP). Without it, ``SiteInputs.fcr_tie`` ties the steps (any
        block layout, one problem). ``(0,)``: one block, for a site without FCR.
    balancing : bool
        Build the load-balancing rows (off: the term is left out of the LP).

    Raises
    ------
    ValueError
        If ``n_steps < 1``, ``dt_h <= 0`` or ``block_steps < 1``.
    """

    def __init__(
        self,
        spec: BatterySpec,
        n_steps: int,
        dt_h: float,
        terminal: TerminalSocConfig,
        import_max_kw: float | None = None,
        export_max_kw: float | None = None,
        fcr_duration_h: float = 0.25,
        block_steps: int = 1,
        period_of_step: np.ndarray | None = None,
        fcr_blocks: tuple[int, ...] | None = None,
        balancing: bool = True,
    ) -> None:
        if n_steps < 1 or not dt_h > 0 or block_steps < 1:
            raise ValueError(
                f"need n_steps >= 1, dt_h > 0 and block_steps >= 1; got {n_steps}, {dt_h}, {block_steps}"
            )
        self.spec, self.n_steps, self.dt_h, self.terminal = spec, n_steps, dt_h, terminal
        self.block_steps = block_steps
        n = n_steps
        par = cp.Parameter
        self.arb = par(n, name="arbitrage_eur_per_mwh")
        self.imp_price = par(n, name="import_eur_per_mwh")
        self.exp_price = par(n, name="export_eur_per_mwh")
        self.load = par(n, name="load_kw")
        self.pv = par(n, nonneg=True, name="pv_kw")
        self.fcr_price = par(n, name="fcr_eur_per_mw_h")
        self.fcr_max = par(n, nonneg=True, name="fcr_max_kw")
        self.fcr_tie = par(n, nonneg=True, name="fcr_tie")
        self.fixed_periods = period_of_step is not None
        k = int(np.max(period_of_step)) + 1 if period_of_step is not None else 2
        self.n_periods = k
        self.mask = par(n, nonneg=True, name="period_mask")
        self.mask_next = par(n, nonneg=True, name="period_mask_next")
        self.charge = par(k, nonneg=True, name="demand_charge_eur_per_kw")
        self.floor = par(k, nonneg=True, name="peak_floor_kw")
        self.w_lb = par(nonneg=True, name="load_balancing_eur_per_kw")
        self.g_prev = par(name="grid_prev_kw")
        self.wear = par(nonneg=True, name="wear_eur_per_mwh")
        self.e_init = par(nonneg=True, name="e_init_kwh")
        self.e_term = par(nonneg=True, name="e_terminal_min_kwh")
        self.v_term = par(name="terminal_value_eur_per_mwh")

        var = cp.Variable
        self.p_ch = var(n, nonneg=True, name="p_charge_kw")
        self.p_dis = var(n, nonneg=True, name="p_discharge_kw")
        self.energy = var(n + 1, name="energy_kwh")
        self.imp = var(n, nonneg=True, name="import_kw")
        self.exp = var(n, nonneg=True, name="export_kw")
        self.pv_used = var(n, nonneg=True, name="pv_used_kw")
        self.band = var(n, nonneg=True, name="fcr_band_kw")
        self.peak = var(k, nonneg=True, name="peak_import_kw")
        self.ramp = var(n, nonneg=True, name="grid_change_down_kw")
        self.ramp_up = var(n, nonneg=True, name="grid_change_up_kw")
        self.balancing = balancing
        self.unserved = var(n, nonneg=True, name="unserved_kw") if import_max_kw is not None else None
        unserved = self.unserved if self.unserved is not None else 0.0

        decay = (1.0 - spec.standing_loss_per_h) ** dt_h
        grid = self.imp - self.exp
        e_lo, e_hi = spec.e_min_kwh, spec.e_max_kwh
        down, up = fcr_duration_h / spec.eta_discharge, fcr_duration_h * spec.eta_charge
        cons = [
            self.energy[0] == self.e_init,
            self.energy[1:]
            == decay * self.energy[:-1]
            + spec.eta_charge * dt_h * self.p_ch
            - (dt_h / spec.eta_discharge) * self.p_dis,
            self.energy[1:] >= e_lo,
            self.energy[1:] <= e_hi,
            self.energy[n] >= self.e_term,
            grid == self.load - unserved - self.pv_used - self.p_dis + self.p_ch,
            self.pv_used <= self.pv,
            self.p_ch + self.band <= spec.p_charge_max_kw,
            self.p_dis + self.band <= spec.p_discharge_max_kw,
            self.energy[1:] - down * self.band >= e_lo,
            self.energy[1:] + up * self.band <= e_hi,
            self.band <= self.fcr_max,
            self.peak >= self.floor,
        ]
        if fcr_blocks is None:  # ties from the inputs; headroom at every step's start
            cons += [
                cp.multiply(self.fcr_tie[1:], self.band[1:] - self.band[:-1]) == 0,
                self.energy[:-1] - down * self.band >= e_lo,
                self.energy[:-1] + up * self.band <= e_hi,
            ]
        else:
            starts = np.asarray(sorted(set(fcr_blocks) | {0}), dtype=int)
            inner = np.setdiff1d(np.arange(1, n), starts)
            if len(inner):
                cons.append(self.band[inner] == self.band[inner - 1])
            cons += [
                self.energy[starts] - down * self.band[starts] >= e_lo,
                self.energy[starts] + up * self.band[starts] <= e_hi,
            ]
        self.fcr_blocks = fcr_blocks
        if balancing:  # |g_t - g_{t-1}| = up_t + down_t
            cons += [
                grid[0] - self.g_prev == self.ramp_up[0] - self.ramp[0],
                grid[1:] - grid[:-1] == self.ramp_up[1:] - self.ramp[1:],
            ]
        if period_of_step is None:
            cons += [
                self.peak[0] >= cp.multiply(self.mask, self.imp),
                self.peak[1] >= cp.multiply(self.mask_next, self.imp),
            ]
        else:
            periods = np.asarray(period_of_step, dtype=int)
            for j in range(k):
                steps = np.flatnonzero(periods == j)
                if len(steps):
                    cons.append(self.peak[j] >= self.imp[steps])
        if import_max_kw is not None:
            cons.append(self.imp + self.band <= import_max_kw)
        if export_max_kw is not None:
            cons.append(self.exp + self.band <= export_max_kw)
        tied = np.flatnonzero(np.arange(n) % block_steps != 0)
        if len(tied):
            cons += [self.p_ch[tied] == self.p_ch[tied - 1], self.p_dis[tied] == self.p_dis[tied - 1]]
        s = dt_h / KWH_PER_MWH
        objective = (
            s * (self.arb @ (self.p_dis - self.p_ch))
            - s * (self.imp_price @ self.imp)
            + s * (self.exp_price @ self.exp)
            - self.charge @ self.peak
            - (self.w_lb * cp.sum(self.ramp + self.ramp_up) if balancing else 0.0)
            + s * (self.fcr_price @ self.band)
            - s * self.wear * cp.sum(self.p_ch + self.p_dis)
            + self.v_term * self.energy[n] / KWH_PER_MWH
        )
        if self.unserved is not None:
            objective = objective - s * UNSERVED_PENALTY_EUR_PER_MWH * cp.sum(self.unserved)
        self.problem = cp.Problem(cp.Maximize(objective), cons)
        assert self.problem.is_dpp()

    def solve(self, inputs: SiteInputs, soc_initial: float) -> SitePlan:
        """Optimise the horizon for ``inputs`` from ``soc_initial``.

        Parameters
        ----------
        inputs : SiteInputs
            Arrays of shape (T,).
        soc_initial : float
            SoC at the start; clipped into the battery's window. [fraction]

        Returns
        -------
        SitePlan

        Raises
        ------
        ValueError
            If an input has the wrong shape or holds NaN/inf.
        InfeasibleDispatchError
            If the solver finds no optimal schedule.
        """
        n, spec = self.n_steps, self.spec
        arrays = {
            "arbitrage_eur_per_mwh": inputs.arbitrage_eur_per_mwh,
            "import_eur_per_mwh": inputs.import_eur_per_mwh,
            "export_eur_per_mwh": inputs.export_eur_per_mwh,
            "load_kw": inputs.load_kw,
            "pv_kw": inputs.pv_kw,
            "fcr_eur_per_mw_h": inputs.fcr_eur_per_mw_h,
            "fcr_max_kw": inputs.fcr_max_kw,
            "period_mask": inputs.period_mask,
        }
        for name, values in arrays.items():
            arr = np.asarray(values, dtype=float)
            if arr.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
            if not np.isfinite(arr).all():
                raise ValueError(f"{name} holds NaN or infinite values")
        soc = min(max(float(soc_initial), spec.soc_min), spec.soc_max)
        e_init = soc * spec.energy_kwh
        value_price = inputs.arbitrage_eur_per_mwh
        if not np.any(value_price):
            value_price = inputs.import_eur_per_mwh
        e_term, v_term = terminal_bounds(spec, self.terminal, value_price, e_init, self.dt_h, n)
        imp = np.asarray(inputs.import_eur_per_mwh, dtype=float)
        self.arb.value = np.asarray(inputs.arbitrage_eur_per_mwh, dtype=float)
        self.imp_price.value = imp
        self.exp_price.value = np.minimum(np.asarray(inputs.export_eur_per_mwh, dtype=float), imp)
        self.load.value = np.asarray(inputs.load_kw, dtype=float)
        self.pv.value = np.clip(np.asarray(inputs.pv_kw, dtype=float), 0.0, None)
        self.fcr_price.value = np.asarray(inputs.fcr_eur_per_mw_h, dtype=float)
        self.fcr_max.value = np.clip(np.asarray(inputs.fcr_max_kw, dtype=float), 0.0, None)
        self.fcr_tie.value = np.asarray(inputs.fcr_tie, dtype=float)
        mask = np.asarray(inputs.period_mask, dtype=float)
        self.mask.value, self.mask_next.value = mask, 1.0 - mask
        charge = np.asarray(inputs.demand_charge_eur_per_kw, dtype=float)
        floor = np.asarray(inputs.peak_floor_kw, dtype=float)
        if charge.shape != (self.n_periods,) or floor.shape != (self.n_periods,):
            raise ValueError(
                f"demand_charge_eur_per_kw and peak_floor_kw need {self.n_periods} values, got "
                f"{charge.shape} and {floor.shape}"
            )
        self.charge.value, self.floor.value = charge, np.clip(floor, 0.0, None)
        self.w_lb.value = float(inputs.load_balancing_eur_per_kw)
        self.g_prev.value = float(inputs.grid_prev_kw)
        self.wear.value = float(inputs.wear_eur_per_mwh)
        self.e_init.value, self.e_term.value, self.v_term.value = e_init, e_term, v_term
        try:
            self.problem.solve(solver=SOLVER, warm_start=True, **SOLVER_OPTIONS)
        except cp.SolverError as err:
            raise InfeasibleDispatchError(f"HiGHS failed on the site problem: {err}") from err
        if self.problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise InfeasibleDispatchError(
                f"site problem is {self.problem.status} (initial energy {e_init:.3f} kWh); "
                "check the SoC window, terminal_soc and the grid limits"
            )
        return self._plan(inputs, e_init)

    def _plan(self, inputs: SiteInputs, e_init: float) -> SitePlan:
        spec, dt_h = self.spec, self.dt_h
        p_ch, p_dis = _value(self.p_ch), _value(self.p_dis)
        band = np.clip(_value(self.band), 0.0, min(spec.p_charge_max_kw, spec.p_discharge_max_kw))
        remove_overlap(spec, p_ch, p_dis)  # keep the stored energy, lower both powers
        if self.block_steps > 1:
            p_ch = block_mean(p_ch, self.block_steps)
            p_dis = block_mean(p_dis, self.block_steps)
        energy = energy_path(spec, e_init, p_ch, p_dis, dt_h)
        power = p_dis - p_ch
        pv_used = np.minimum(_value(self.pv_used), np.asarray(inputs.pv_kw, dtype=float))
        unserved = _value(self.unserved) if self.unserved is not None else np.zeros(self.n_steps)
        grid = np.asarray(inputs.load_kw, dtype=float) - unserved - pv_used - power
        return SitePlan(
            power_kw=power,
            p_charge_kw=p_ch,
            p_discharge_kw=p_dis,
            energy_kwh=energy,
            fcr_band_kw=band,
            grid_kw=grid,
            pv_used_kw=pv_used,
            unserved_kw=unserved,
            objective_eur=float(self.problem.value),
        )


def _value(variable: cp.Variable) -> FloatArray:
    if variable.value is None:
        raise InfeasibleDispatchError("solver returned no values")
    out = np.asarray(variable.value, dtype=float).copy()
    out[np.abs(out) < _TOL_KW] = 0.0
    return out
