"""Site actor: the EMS of one battery site (plan, bid, deliver, settle).

``SiteService`` is a plain class, unit-testable without Ray; ``SiteActor`` is the
same class as a Ray actor, defined once at module level.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import ray

from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.battery import BatteryState, initial_state, simulate
from twin.config import SiteConfig, StrategyConfig
from twin.ems.dispatch import DispatchProblem, DispatchResult, solve_dispatch
from twin.market.day_ahead import Bid, Clearing
from twin.units import KWH_PER_MWH

FloatArray = npt.NDArray[np.float64]


class SiteService:
    """EMS of one site: plans each day before gate closure, then delivers and settles it.

    Parameters
    ----------
    site : SiteConfig
    strategy : StrategyConfig
    dt_h : float
        Market time unit. [h]
    n_horizon : int
        Planning horizon in steps (from the start of the delivery day).
    """

    def __init__(
        self, site: SiteConfig, strategy: StrategyConfig, dt_h: float, n_horizon: int
    ) -> None:
        self.site_id = site.site_id
        self.spec = site.battery
        self.dt_h = dt_h
        self.problem = DispatchProblem(self.spec, n_horizon, dt_h, strategy.terminal_soc)
        self.state: BatteryState = initial_state(self.spec)
        self._prev_energy_kwh: FloatArray | None = None  # delivered trajectory of D-1
        self._prev_start_kwh = self.state.energy_kwh
        self._prev_schedule_kw: FloatArray | None = None
        self._plan: DispatchResult | None = None
        self._forecast: FloatArray | None = None

    def projected_soc(self, day: DeliveryDay) -> float:
        """SoC expected at the start of ``day``, as known at its gate closure.

        At gate closure (D-1, 12:00) the first ``day.gate_step_prev_day`` steps of
        D-1 are delivered and measured; the rest of D-1's committed schedule is
        projected through the battery model. [fraction]
        """
        if self._prev_energy_kwh is None or self._prev_schedule_kw is None:
            return self.state.soc
        gate = min(max(day.gate_step_prev_day, 0), len(self._prev_energy_kwh))
        energy = self._prev_start_kwh if gate == 0 else float(self._prev_energy_kwh[gate - 1])
        measured = BatteryState(energy_kwh=energy, soc=energy / self.spec.energy_kwh)
        rest = simulate(self.spec, measured, self._prev_schedule_kw[gate:], self.dt_h)
        return rest.final.soc

    def plan_day(self, day: DeliveryDay, forecast_eur_per_mwh: FloatArray) -> Bid:
        """Optimise the horizon starting at ``day`` and bid its first day.

        Parameters
        ----------
        day : DeliveryDay
        forecast_eur_per_mwh : np.ndarray, shape (n_horizon,)
            Price forecast made at gate closure. [EUR/MWh]

        Returns
        -------
        Bid
            Volume bids for the ``day.n_steps`` MTUs of the day. [kW]
        """
        self._plan = self.problem.solve(forecast_eur_per_mwh, self.projected_soc(day))
        self._forecast = np.asarray(forecast_eur_per_mwh[: day.n_steps], dtype=float)
        return Bid(self.site_id, day.date, self._plan.power_kw[: day.n_steps].copy())

    def deliver_day(self, day: DeliveryDay, clearing: Clearing) -> SiteDay:
        """Follow the awarded schedule through the battery model and settle it.

        Parameters
        ----------
        day : DeliveryDay
        clearing : Clearing
            The day-ahead auction result of ``day``.

        Returns
        -------
        SiteDay
        """
        award = clearing.awards_kw[self.site_id]
        start_kwh = self.state.energy_kwh
        traj = simulate(self.spec, self.state, award, self.dt_h)
        revenue = clearing.price_eur_per_mwh * traj.power_kw * self.dt_h / KWH_PER_MWH
        self.state = traj.final
        self._prev_start_kwh = start_kwh
        self._prev_energy_kwh = traj.energy_kwh
        self._prev_schedule_kw = award
        forecast = self._forecast if self._forecast is not None else np.full(day.n_steps, np.nan)
        return SiteDay(
            site_id=self.site_id,
            delivery_date=day.date,
            schedule_kw=award,
            power_kw=traj.power_kw,
            energy_kwh=traj.energy_kwh,
            soc=traj.soc,
            revenue_eur=revenue,
            forecast_eur_per_mwh=forecast,
            used_milp=bool(self._plan.used_milp) if self._plan is not None else False,
        )

    def perfect_foresight(self, price_eur_per_mwh: FloatArray) -> DispatchResult:
        """Solve the perfect-foresight benchmark over the backtest period.

        Parameters
        ----------
        price_eur_per_mwh : np.ndarray, shape (T,)
            Realised prices of every step of the period. [EUR/MWh]

        Returns
        -------
        DispatchResult
            One LP over the period from ``soc_initial`` with a free terminal SoC:
            an upper bound on what any schedule can earn.
        """
        return solve_dispatch(self.spec, price_eur_per_mwh, self.dt_h)


SiteActor = ray.remote(SiteService)
