"""Intraday re-optimisation of a day's schedule against forecast intraday prices.

After the day-ahead auction a site holds a schedule for its delivery day (the
award, plus what it has already traded intraday). In each intraday session it
re-optimises the day around that base schedule against its *forecast* of the
intraday prices: every kW it sells on top earns ``f_t - c``, every kW it buys
costs ``f_t + c``, where ``c`` is what a trade costs per MWh (the fee, plus the
liquidity provider's half spread in continuous trading). Only products still
open may change. The stored energy at the end of the day stays what the base
schedule leaves: the next day's day-ahead plan was made
from it, so intraday trades neither borrow from nor lend to that plan.

Formulation (T steps of dt hours, kW at the PCC, E in kWh)::

    maximise  sum_t [(f_t - c) s_t - (f_t + c) b_t] dt / 1000 - c_deg (p_ch,t + p_dis,t) dt / 1000
    s.t.      p_dis,t - p_ch,t = a_t + s_t - b_t
              E_{t+1} = (1-l)^dt E_t + eta_c p_ch,t dt - p_dis,t dt / eta_d,  E_0 = E_init
              E_low,t - u_t <= E_{t+1} <= E_high,t + v_t,  E_T = E_end
              0 <= p_ch,t <= P_ch,t,  0 <= p_dis,t <= P_dis,t
              0 <= s_t, b_t <= open_t * (P_ch + P_dis),  u, v >= 0

``u`` and ``v``, and a miss of the end energy, are penalised at
``REPAIR_PENALTY_EUR_PER_MWH``: when earlier fills left the base schedule
outside the SoC window or off its end energy (an order of a hedging pair
filled, its partner did not), the LP repairs it as far as the open products
allow instead of giving up; a feasible base never uses them.

The LP's trades are then put on the exchange's lot grid by :func:`round_to_lots`,
which keeps every step inside the power limits and the running position within
one lot of the LP's. The SoC bounds keep that one lot (``margin_kwh``) free for
the trades only: each bound is relaxed to the base schedule where the base
itself uses the full range, so a full-power award is never forced into a
loss-making trade back, and the power limits are not tightened at all. The base
schedule (s = b = 0) is therefore feasible whenever it is physically feasible,
and the optimum earns at least 0 against the forecast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from twin.config import BatterySpec
from twin.ems.dispatch_model import SOLVER, SOLVER_OPTIONS
from twin.errors import InfeasibleDispatchError
from twin.physics.battery import BatteryState, Trajectory, simulate
from twin.types import FloatArray
from twin.units import KWH_PER_MWH

if TYPE_CHECKING:
    import cvxpy as cp
else:
    from twin.ems.lazy_cvxpy import cp


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


_END_TOLERANCE_KWH = 1e-6
"""Slack of the end-of-day energy, for the solver's tolerance only. [kWh]"""

REPAIR_PENALTY_EUR_PER_MWH = 100_000.0
"""Cost of each MWh the re-optimised schedule lies outside the SoC window: above any
price, so the LP leaves the window only where no trade can keep it. [EUR/MWh]"""


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
        Kept free at the SoC bounds by the trades, so that quantities rounded to
        the exchange's lot (:func:`round_to_lots`) still pass its pre-trade
        checks. [kWh]
    """

    def __init__(
        self, spec: BatterySpec, n_steps: int, dt_h: float, margin_kwh: float = 0.0
    ) -> None:
        self.spec, self.n_steps, self.dt_h, self.margin_kwh = spec, n_steps, dt_h, margin_kwh
        self.price = cp.Parameter(n_steps, name="forecast_eur_per_mwh")
        self.base = cp.Parameter(n_steps, name="base_kw")
        self.cost = cp.Parameter(nonneg=True, name="cost_eur_per_mwh")
        self.e_init = cp.Parameter(nonneg=True, name="e_init_kwh")
        self.e_end = cp.Parameter(nonneg=True, name="e_end_kwh")
        self.e_low = cp.Parameter(n_steps, name="e_low_kwh")
        self.e_high = cp.Parameter(n_steps, name="e_high_kwh")
        self.trade_max = cp.Parameter(n_steps, nonneg=True, name="trade_max_kw")
        self.sell = cp.Variable(n_steps, nonneg=True, name="sell_kw")
        self.buy = cp.Variable(n_steps, nonneg=True, name="buy_kw")
        p_ch = cp.Variable(n_steps, nonneg=True)
        p_dis = cp.Variable(n_steps, nonneg=True)
        energy = cp.Variable(n_steps + 1)
        end_miss = cp.Variable(nonneg=True, name="end_miss_kwh")
        under = cp.Variable(n_steps, nonneg=True, name="below_window_kwh")
        over = cp.Variable(n_steps, nonneg=True, name="above_window_kwh")
        decay = (1.0 - spec.standing_loss_per_h) ** dt_h
        scale = dt_h / KWH_PER_MWH
        cons = [
            p_dis - p_ch == self.base + self.sell - self.buy,
            energy[0] == self.e_init,
            energy[1:] == decay * energy[:-1] + spec.eta_charge * dt_h * p_ch
            - (dt_h / spec.eta_discharge) * p_dis,
            energy[1:] >= self.e_low - under,
            energy[1:] <= self.e_high + over,
            energy[n_steps] >= self.e_end - _END_TOLERANCE_KWH - end_miss,
            energy[n_steps] <= self.e_end + _END_TOLERANCE_KWH + end_miss,
            p_ch <= spec.p_charge_max_kw,
            p_dis <= spec.p_discharge_max_kw,
            self.sell <= self.trade_max,
            self.buy <= self.trade_max,
        ]
        revenue = scale * (
            cp.sum(cp.multiply(self.price, self.sell - self.buy))
            - self.cost * cp.sum(self.sell + self.buy)
        )
        wear = spec.degradation_cost_eur_per_mwh * scale * cp.sum(p_ch + p_dis)
        repair = REPAIR_PENALTY_EUR_PER_MWH / KWH_PER_MWH * (cp.sum(under + over) + end_miss)
        self.problem = cp.Problem(cp.Maximize(revenue - wear - repair), cons)

    def solve(
        self,
        price_eur_per_mwh: FloatArray,
        base_kw: FloatArray,
        start: BatteryState,
        end_kwh: float,
        cost_eur_per_mwh: float,
        tradable: npt.NDArray[np.bool_] | None = None,
        base_path: Trajectory | None = None,
    ) -> FloatArray:
        """Net intraday trade per step that maximises the day's value at the forecast prices.

        Parameters
        ----------
        price_eur_per_mwh : np.ndarray, shape (n_steps,)
            Forecast intraday price of each product. [EUR/MWh]
        base_kw : np.ndarray, shape (n_steps,)
            Schedule held so far (award plus earlier intraday fills); positive
            discharges. [kW]
        start : BatteryState
            Projected state at the start of the day (see :func:`award_path`).
        end_kwh : float
            Stored energy the day must end with: what the day-ahead award
            leaves, which the next day was planned from. [kWh]
        cost_eur_per_mwh : float
            Cost of trading one MWh either way (fee plus half spread). [EUR/MWh]
        tradable : np.ndarray of bool, shape (n_steps,), optional
            Products still open; default all.
        base_path : Trajectory, optional
            The base schedule simulated from ``start`` (default: simulated
            here); where the base uses the full SoC range, the trades' margin is
            waived. [kWh]

        Returns
        -------
        np.ndarray, shape (n_steps,)
            Net intraday sell per step (negative: buy); zero where not tradable,
            and everywhere when the solver finds no optimum. [kW]

        Raises
        ------
        InfeasibleDispatchError
            If the solver fails.
        """
        spec, dt_h, m = self.spec, self.dt_h, self.margin_kwh
        base = np.asarray(base_kw, dtype=float)
        if base_path is None:
            base_path = simulate(spec, start, base, dt_h)
        e_base = np.asarray(base_path.energy_kwh, dtype=float)
        is_open = np.ones(self.n_steps, bool) if tradable is None else np.asarray(tradable, bool)
        self.price.value = np.asarray(price_eur_per_mwh, dtype=float)
        self.base.value = base
        self.cost.value = float(cost_eur_per_mwh)
        self.e_init.value = start.energy_kwh
        e_high_trade = spec.e_max_kwh - m
        self.e_end.value = max(0.0, float(end_kwh))
        self.e_low.value = np.minimum(spec.e_min_kwh + m, np.maximum(e_base, spec.e_min_kwh))
        self.e_high.value = np.maximum(e_high_trade, np.minimum(e_base, spec.e_max_kwh))
        self.trade_max.value = np.where(
            is_open, spec.p_charge_max_kw + spec.p_discharge_max_kw, 0.0
        )
        try:
            self.problem.solve(solver=SOLVER, **SOLVER_OPTIONS)
        except cp.SolverError as err:
            raise InfeasibleDispatchError(f"intraday re-optimisation failed: {err}") from err
        if self.problem.status not in ("optimal", "optimal_inaccurate"):
            return np.zeros(self.n_steps)  # keep the base (e.g. it is infeasible itself)
        sell = np.asarray(self.sell.value, dtype=np.float64)
        net = sell - np.asarray(self.buy.value, dtype=np.float64)
        net[~is_open] = 0.0
        return net


def round_to_lots(
    trade_kw: FloatArray,
    base_kw: FloatArray,
    spec: BatterySpec,
    dt_h: float,
    lot_mwh: float,
    tradable: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Put a trade schedule on the lot grid, inside the power limits, without drift.

    Step by step, the quantity is the running target (the LP's cumulative
    position) minus what is already traded, rounded to whole lots and clipped to
    what the power limits leave beside the base schedule (and to 0 where the
    product is closed). The running position so stays within about one lot of
    the LP's, and no step needs a power margin.

    Parameters
    ----------
    trade_kw : np.ndarray, shape (n,)
        Net sell per step from the LP (negative: buy). [kW]
    base_kw : np.ndarray, shape (n,)
        The schedule already held. [kW]
    spec : BatterySpec
    dt_h : float
        [h]
    lot_mwh : float
        [MWh]
    tradable : np.ndarray of bool, shape (n,), optional
        Open products; default all.

    Returns
    -------
    np.ndarray, shape (n,)
        Net sell per product, a whole number of lots. [MWh]
    """
    trade = np.asarray(trade_kw, dtype=float)
    base = np.asarray(base_kw, dtype=float)
    is_open = np.ones(len(trade), bool) if tradable is None else np.asarray(tradable, bool)
    per_lot_kw = lot_mwh * KWH_PER_MWH / dt_h
    eps = 1e-9
    low = np.minimum(np.ceil((-spec.p_charge_max_kw - base) / per_lot_kw - eps), 0.0)
    high = np.maximum(np.floor((spec.p_discharge_max_kw - base) / per_lot_kw + eps), 0.0)
    low[~is_open] = 0.0
    high[~is_open] = 0.0
    target = np.cumsum(trade / per_lot_kw)
    lots = np.zeros(len(trade))
    held = 0.0
    for k in range(len(trade)):
        lots[k] = min(max(float(np.round(target[k] - held)), low[k]), high[k])
        held += lots[k]
    out: FloatArray = lots * lot_mwh
    return out
