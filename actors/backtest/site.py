"""Site actor: the EMS of one battery site (plan, bid, deliver, settle).

``SiteService`` is a plain class, unit-testable without Ray; ``SiteActor`` is the
same class as a Ray actor, defined once at module level.

Delivery runs through the SimPy plant (:class:`hardware.simulated.SimulatedBattery`)
in virtual time: the awarded schedule is the setpoint of each MTU, the plant's
physics (ramp, response delay, thermal derating, capacity fade, SoC window)
decides what is delivered, and the deviation settles at the imbalance price.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import ray

from actors.backtest.ems_site import EmsSite
from actors.client import ServiceClient, remote
from hardware.simulated import SimulatedBattery
from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.config import BatterySpec, SiteConfig, StrategyConfig
from twin.config.intraday import IntradayConfig
from twin.ems.dispatch import DispatchProblem, DispatchResult, solve_dispatch
from twin.ems.intraday import IntradayProblem, award_path, round_to_lots
from twin.ems.multimarket import MultiMarketBound, solve_multimarket_bound
from twin.ems.planner import SitePlanner, SiteSeries
from twin.ems.site_problem import SitePlan
from twin.grid.frequency import FrequencyReplay
from twin.markets.calendar import PublicationCalendar
from twin.markets.day_ahead import Bid, Clearing
from twin.markets.exchange.pretrade import PeriodState, SiteTradingState
from twin.markets.exchange.session import IntradayIntent, SessionResult
from twin.markets.imbalance import imbalance_prices, settle_imbalance
from twin.markets.intraday_rounds import IntradayRound
from twin.markets.products import day_products
from twin.physics.battery import BatteryState, initial_state, simulate
from twin.types import FloatArray
from twin.units import KWH_PER_MWH

_RERATE_THRESHOLD = 0.005
"""Capacity fade (fraction of nominal) after which the planner is rebuilt."""

_REPAIR_TOLERANCE_KW = 0.5
"""A base schedule the battery misses by more than this needs repair. [kW]"""

_REPAIR_END_FRACTION = 0.01
"""A base ending the day further than this fraction of the capacity off its end energy needs repair."""

_DEVIATION_FLOOR_KWH = 1e-9
"""Deviations smaller than this are float round-off, not imbalance. [kWh]"""


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
    intraday : IntradayConfig, optional
        Intraday trading rules; the site trades intraday when ``enabled``.
    market : str
        Bidding zone, for product ids.
    calendar : PublicationCalendar, optional
        When the next day's gate closes: intraday trades after it are not yet
        known when the next day is planned. Without it every trade counts.
    block_steps : int
        Steps per day-ahead MTU (4 when an hourly auction is planned at 15 min).
    series : SiteSeries, optional
        The site's load, PV, FCR prices and billing periods over the price
        series: given, the site runs the EMS (:mod:`actors.backtest.ems_site`)
        instead of plain day-ahead arbitrage.
    fcr_duration_h : float
        FCR full-activation duration kept free each way. [h]
    fcr_forecast : {'persistence', 'perfect'}
    frequency : FrequencyReplay, optional
        Grid frequency replayed from the first delivery day's start: a site
        holding an FCR band follows its droop in the plant.
    droop_mhz : (float, float)
        FCR deadband and full-activation deviation. [mHz]
    """

    def __init__(
        self,
        site: SiteConfig,
        strategy: StrategyConfig,
        dt_h: float,
        n_horizon: int,
        intraday: IntradayConfig | None = None,
        market: str = "DE-LU",
        calendar: PublicationCalendar | None = None,
        block_steps: int = 1,
        series: SiteSeries | None = None,
        fcr_duration_h: float = 0.25,
        fcr_forecast: str = "persistence",
        frequency: FrequencyReplay | None = None,
        droop_mhz: tuple[float, float] = (10.0, 200.0),
    ) -> None:
        self.frequency, self.droop_mhz = frequency, droop_mhz
        self.site_id = site.site_id
        self.spec = site.battery
        self.dynamics = site.dynamics
        self.dt_h = dt_h
        self._strategy = strategy
        self._n_horizon = n_horizon
        self.plan_spec = self.spec
        """The battery as the planner sees it: nominal, then re-rated as the plant ages."""
        self.block_steps = block_steps
        self.problem = DispatchProblem(
            self.spec, n_horizon, dt_h, strategy.terminal_soc, block_steps=block_steps
        )
        self.state: BatteryState = initial_state(self.spec)
        self.plant: SimulatedBattery | None = None
        self._plant_t0: pd.Timestamp | None = None
        self._prev_soc: FloatArray | None = None  # SoC measured at each MTU end of D-1
        self._prev_start_soc = self.state.soc
        self._prev_schedule_kw: FloatArray | None = None
        self._plan: DispatchResult | None = None
        self._forecast: FloatArray | None = None
        self.intraday = intraday or IntradayConfig()
        self.market = market
        self.calendar = calendar
        self._intraday_problems: dict[tuple[int, float], IntradayProblem] = {}
        self._id_day: dt.date | None = None
        self._id_base_kw: FloatArray = np.zeros(0)
        self._id_start_soc = self.state.soc
        self._id_end_kwh = 0.0
        self._id_base_at_gate_kw: FloatArray = np.zeros(0)
        self._id_award_socs: FloatArray = np.zeros(0)
        self.ems: EmsSite | None = None
        if series is not None:
            planner = SitePlanner(
                site, strategy, series, dt_h, n_horizon, fcr_duration_h,
                "perfect" if fcr_forecast == "perfect" else "persistence", block_steps,
                calendar.timezone if calendar is not None else "Europe/Berlin",
            )  # fmt: skip
            self.ems = EmsSite(planner)

    def projected_soc(self, day: DeliveryDay) -> float:
        """SoC expected at the start of ``day``, as known at its gate closure.

        At gate closure (D-1, 12:00) the first ``day.gate_step_prev_day`` steps of
        D-1 are delivered and their SoC measured; the rest of D-1's committed
        schedule is projected through the planner's battery model. [fraction]
        """
        if self._prev_soc is None or self._prev_schedule_kw is None:
            return self.state.soc
        gate = min(max(day.gate_step_prev_day, 0), len(self._prev_soc))
        soc = self._prev_start_soc if gate == 0 else float(self._prev_soc[gate - 1])
        spec = self.plan_spec
        soc = min(max(soc, spec.soc_min), spec.soc_max)
        measured = BatteryState(energy_kwh=soc * spec.energy_kwh, soc=soc)
        rest = simulate(spec, measured, self._prev_schedule_kw[gate:], self.dt_h)
        return rest.final.soc

    def _rerate(self) -> None:
        """Rebuild the planner on the plant's usable capacity once it has faded by 0.5 %.

        The BMS reports SoC against the faded capacity; planning on the nominal one
        would promise energy the battery no longer holds.
        """
        if self.plant is None:
            return
        usable_kwh = self.spec.energy_kwh * self.plant.soh
        if abs(usable_kwh - self.plan_spec.energy_kwh) < _RERATE_THRESHOLD * self.spec.energy_kwh:
            return
        self.plan_spec = self.spec.model_copy(update={"energy_kwh": usable_kwh})
        if self.ems is not None:  # the EMS plans with its own LP
            self.ems.planner.rerate(self.plan_spec)
            return
        self.problem = DispatchProblem(
            self.plan_spec,
            self._n_horizon,
            self.dt_h,
            self._strategy.terminal_soc,
            block_steps=self.block_steps,
        )

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
        self._rerate()
        if self.ems is not None:
            bid = self.ems.plan_day(day, forecast_eur_per_mwh, self.projected_soc(day))
            return Bid(self.site_id, day.date, bid)
        self._plan = self.problem.solve(forecast_eur_per_mwh, self.projected_soc(day))
        self._forecast = np.asarray(forecast_eur_per_mwh[: day.n_steps], dtype=float)
        return Bid(self.site_id, day.date, self._plan.power_kw[: day.n_steps].copy())

    def _trading_spec(self) -> BatterySpec:
        """The planner's battery inside the exchange policy's SoC window."""
        policy = self.intraday.policy
        return self.plan_spec.model_copy(
            update={
                "soc_min": max(self.plan_spec.soc_min, policy.soc_min),
                "soc_max": min(self.plan_spec.soc_max, policy.soc_max),
            }
        )

    def intraday_intent(
        self,
        day: DeliveryDay,
        clearing: Clearing,
        session: IntradayRound,
        forecast_eur_per_mwh: FloatArray,
        *previous: SessionResult,
    ) -> IntradayIntent:
        """Re-optimise ``day`` against the intraday forecast; what to order in ``session``.

        The base schedule is the day-ahead award plus the fills of the day's
        earlier sessions (``previous``, passed in time order, each only once).
        The day ends with the energy the award leaves, or, once the next day's
        gate has passed, with the energy the next day's plan started from.
        The forecast is made at ``session.at_utc`` from what is public then; the
        limits make an order trade only where the market is at least as good as
        the forecast (continuous: ``forecast -+ half spread``; auction: ``forecast
        -+ auction_limit_margin``, or any price without a margin). When the base
        schedule is not deliverable or ends the day more than 1 % of the
        capacity off its end energy, the orders repair it at any price.

        Returns
        -------
        IntradayIntent
            The site's trading state (SoC window, power limits, temperature, the
            base schedule), its wanted net sell per product [MWh] and the limits.
            [EUR/MWh]
        """
        n, dt_h = day.n_steps, self.dt_h
        if self._id_day != day.date:
            self._id_day = day.date
            self._id_base_kw = np.array(clearing.awards_kw[self.site_id], dtype=float)
            self._id_start_soc = self.projected_soc(day)
            award_start, award = award_path(
                self._trading_spec(), self._id_start_soc, self._id_base_kw, dt_h
            )
            self._id_end_kwh = float(award.final.energy_kwh)
            self._id_award_socs = np.r_[award_start.soc, award.soc[:-1]]
            self._id_base_at_gate_kw = self._id_base_kw.copy()
        for result in previous:
            mine = result.participants.get(self.site_id)
            if mine is not None:
                self._id_base_kw = self._id_base_kw + mine.sell_mwh * KWH_PER_MWH / dt_h
            if self._before_next_gate(day, result.opened_ns):
                self._id_base_at_gate_kw = self._id_base_kw.copy()
        base = self._id_base_kw
        spec = self._trading_spec()
        end_kwh = self._id_end_kwh
        if not self._before_next_gate(day, session.at_ns):
            # the next day is planned: keep the end energy its plan started from
            _, at_gate = award_path(spec, self._id_start_soc, self._id_base_at_gate_kw, dt_h)
            end_kwh = float(at_gate.final.energy_kwh)
        lot = self.intraday.lot_mwh
        key = (n, spec.energy_kwh)
        if key not in self._intraday_problems:
            self._intraday_problems[key] = IntradayProblem(spec, n, dt_h, lot * KWH_PER_MWH)
        forecast = np.asarray(forecast_eur_per_mwh, dtype=float)
        start, path = award_path(spec, self._id_start_soc, base, dt_h)
        delta_kw = self._intraday_problems[key].solve(
            forecast, base, start, end_kwh, session.cost_eur_per_mwh, session.tradable, path
        )
        sell_mwh = round_to_lots(delta_kw, base, spec, dt_h, lot, session.tradable)
        # The exchange adds the site's fills on it to the schedule it is told, so it
        # is told the day-ahead award and the award's SoC path, not the base.
        award_kw = clearing.awards_kw[self.site_id]
        products = day_products(self.market, day.start_utc, n, dt_h)
        periods = {
            p.product_id: PeriodState(float(self._id_award_socs[k]), float(award_kw[k]))
            for k, p in enumerate(products)
        }
        state = SiteTradingState(
            site_id=self.site_id,
            energy_kwh=spec.energy_kwh,
            soc_min=spec.soc_min,
            soc_max=spec.soc_max,
            p_charge_max_kw=spec.p_charge_max_kw,
            p_discharge_max_kw=spec.p_discharge_max_kw,
            eta_charge=spec.eta_charge,
            eta_discharge=spec.eta_discharge,
            temperature_c=self.plant.temperature_c if self.plant is not None else 25.0,
            periods=periods,
        )
        # A base the battery cannot follow, or that ends the day off the energy the
        # next day needs (one order of a pair filled, its partner did not), is
        # repaired at any price: an imbalance, or a next day that cannot deliver
        # its award, costs more.
        undeliverable = bool(np.any(np.abs(path.power_kw - base) > _REPAIR_TOLERANCE_KW))
        off_end = abs(float(path.final.energy_kwh) - end_kwh) > _REPAIR_END_FRACTION * spec.energy_kwh
        repair = undeliverable or off_end
        limits = self._limits(session, forecast, sell_mwh, repair)
        return IntradayIntent(state, sell_mwh, limits)

    def _before_next_gate(self, day: DeliveryDay, ts_ns: int) -> bool:
        """Whether ``ts_ns`` is before the day-ahead gate of the day after ``day``.

        A trade then is known when that day is planned. Without a calendar every
        trade counts as known.
        """
        if self.calendar is None:
            return True
        gate = self.calendar.gate_closure_utc(day.date + dt.timedelta(days=1))
        return ts_ns < int(gate.value)

    def _limits(
        self, session: IntradayRound, forecast: FloatArray, sell_mwh: FloatArray, repair: bool
    ) -> FloatArray:
        """Worst acceptable price per order: the forecast net of the expected cost. [EUR/MWh]"""
        if repair:
            return np.full(len(forecast), np.nan)
        if session.kind == "auction":
            margin = self.intraday.auction_limit_margin_eur_per_mwh
            if margin is None:
                return np.full(len(forecast), np.nan)  # price-independent orders
        else:
            margin = session.half_spread_eur_per_mwh
        return np.where(sell_mwh > 0, forecast - margin, forecast + margin)

    def _plant_at(self, day: DeliveryDay) -> tuple[SimulatedBattery, float]:
        """The plant, advanced to the start of ``day``, and that start in SimPy seconds."""
        if self.plant is None or self._plant_t0 is None:
            self._plant_t0 = day.start_utc
            self.plant = SimulatedBattery(
                self.spec, self.dynamics, start_utc=day.start_utc.to_pydatetime(),
                frequency=self.frequency if self.ems is not None and self.ems.planner.series.has_fcr else None,
                deadband_mhz=self.droop_mhz[0], full_activation_mhz=self.droop_mhz[1],
            )  # fmt: skip
        t0 = (day.start_utc - self._plant_t0).total_seconds()
        self.plant.advance(t0)
        return self.plant, t0

    def deliver_day(
        self, day: DeliveryDay, clearing: Clearing, *sessions: SessionResult
    ) -> SiteDay:
        """Follow the schedule (award plus intraday trades) through the SimPy plant.

        Parameters
        ----------
        day : DeliveryDay
        clearing : Clearing
            The day-ahead auction result of ``day``.
        *sessions : SessionResult
            The intraday sessions of ``day``; their fills move the schedule, their
            cash and fees join the revenue.

        Returns
        -------
        SiteDay
        """
        if self.ems is not None:
            plant, t0 = self._plant_at(day)
            start_soc = plant.soc
            result, schedule = self.ems.deliver_day(day, clearing, plant, t0, self.dt_h)
            self._prev_start_soc, self._prev_soc = start_soc, result.soc
            self._prev_schedule_kw = schedule
            return result
        da_award = clearing.awards_kw[self.site_id]
        n = day.n_steps
        intraday_kw, intraday_eur, fees_eur = np.zeros(n), np.zeros(n), np.zeros(n)
        known_at_next_gate = da_award.copy()
        for session in sessions:
            mine = session.participants.get(self.site_id)
            if mine is None:
                continue
            kw = mine.sell_mwh * KWH_PER_MWH / self.dt_h
            intraday_kw = intraday_kw + kw
            intraday_eur, fees_eur = intraday_eur + mine.cash_eur, fees_eur + mine.fees_eur
            if self._before_next_gate(day, session.opened_ns):
                known_at_next_gate = known_at_next_gate + kw
        award = da_award + intraday_kw
        plant, t0 = self._plant_at(day)
        start_soc = plant.soc
        mtu_s = self.dt_h * 3600.0
        delivered, energy, soc, temperature, soh = (np.empty(n) for _ in range(5))
        net_kwh = plant.energy_discharged_kwh - plant.energy_charged_kwh
        keepalive = plant.dynamics.setpoint_timeout_s is not None  # the device falls back without writes
        for k in range(n):
            if k == 0 or award[k] != award[k - 1] or keepalive:  # an unchanged setpoint needs no write
                plant.set_setpoint(float(award[k]))
            plant.advance(t0 + (k + 1) * mtu_s)
            now_kwh = plant.energy_discharged_kwh - plant.energy_charged_kwh
            delivered[k] = (now_kwh - net_kwh) / self.dt_h
            net_kwh = now_kwh
            energy[k], soc[k] = plant.energy_kwh, plant.soc
            temperature[k], soh[k] = plant.temperature_c, plant.soh
        price = clearing.price_eur_per_mwh
        deviation_kwh = (delivered - award) * self.dt_h
        deviation_kwh[np.abs(deviation_kwh) < _DEVIATION_FLOOR_KWH] = 0.0
        prices = clearing.imbalance or imbalance_prices(price, 0.0)
        imbalance_price, imbalance_eur = settle_imbalance(deviation_kwh, prices)
        day_ahead = price * da_award * self.dt_h / KWH_PER_MWH
        self._prev_start_soc = start_soc
        self._prev_soc = soc
        # D+1 is planned at its gate (D 12:00) from the schedule as known then:
        # intraday trades after that gate are not known yet.
        self._prev_schedule_kw = known_at_next_gate
        forecast = self._forecast if self._forecast is not None else np.full(n, np.nan)
        return SiteDay(
            site_id=self.site_id,
            delivery_date=day.date,
            schedule_kw=award,
            power_kw=delivered,
            energy_kwh=energy,
            soc=soc,
            revenue_eur=day_ahead + intraday_eur - fees_eur + imbalance_eur,
            day_ahead_revenue_eur=day_ahead,
            day_ahead_kw=da_award.copy(),
            intraday_kw=intraday_kw,
            intraday_revenue_eur=intraday_eur,
            fees_eur=fees_eur,
            imbalance_kwh=deviation_kwh,
            imbalance_price_eur_per_mwh=imbalance_price,
            imbalance_eur=imbalance_eur,
            temperature_c=temperature,
            soh=soh,
            forecast_eur_per_mwh=forecast,
            used_milp=bool(self._plan.used_milp) if self._plan is not None else False,
        )

    def perfect_foresight(
        self, price_eur_per_mwh: FloatArray, first_step: int = 0
    ) -> DispatchResult | SitePlan:
        """Solve the perfect-foresight benchmark over the backtest period.

        Parameters
        ----------
        price_eur_per_mwh : np.ndarray, shape (T,)
            Realised prices of every step of the period. [EUR/MWh]

        first_step : int
            Position of the period's first step in the price series (EMS sites
            read their load, PV and FCR prices from there).

        Returns
        -------
        DispatchResult or SitePlan
            One LP over the period from ``soc_initial`` with a free terminal SoC:
            an upper bound on what any schedule can earn (an EMS site: the
            stacked LP on realised data, :meth:`EmsSite.bound`).
        """
        if self.ems is not None:
            return self.ems.bound(first_step, len(price_eur_per_mwh), self.dt_h, self.block_steps)
        return solve_dispatch(
            self.spec, price_eur_per_mwh, self.dt_h, block_steps=self.block_steps
        )

    def multimarket_bound(
        self,
        day_ahead_eur_per_mwh: FloatArray,
        intraday_eur_per_mwh: FloatArray,
        cost_eur_per_mwh: float,
    ) -> MultiMarketBound:
        """Solve the day-ahead plus intraday perfect-foresight bound over the period.

        See :func:`twin.ems.multimarket.solve_multimarket_bound`; arrays of shape
        (T,), intraday NaN where the period is not traded intraday. [EUR/MWh]
        """
        return solve_multimarket_bound(
            self.spec,
            day_ahead_eur_per_mwh,
            intraday_eur_per_mwh,
            self.dt_h,
            cost_eur_per_mwh,
            self.block_steps,
        )


SiteActor = ray.remote(SiteService)


class SiteClient(ServiceClient):
    """Typed client of one :class:`SiteService` (in-process or its Ray actor)."""

    service = SiteService
    actor = SiteActor
    plan_day = remote(SiteService.plan_day)
    intraday_intent = remote(SiteService.intraday_intent)
    deliver_day = remote(SiteService.deliver_day)
    perfect_foresight = remote(SiteService.perfect_foresight)
    multimarket_bound = remote(SiteService.multimarket_bound)

