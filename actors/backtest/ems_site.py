"""The EMS half of a site actor: plan with :class:`SitePlanner`, deliver behind the meter or to the market.

Used by :class:`actors.backtest.site.SiteService` for every site that is not a
plain day-ahead arbitrage battery (a load, PV, a tariff, FCR, another strategy
or a cycle budget).

What is known when: the plan of day D is made at D-1's gate (a
behind-the-meter site, which does not bid, once the auction result of D is
published); the peaks and cycles it sees are those measured until the gate
(the part of D-1 after the gate is booked at the next gate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hardware.simulated import SimulatedBattery
from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.config import TerminalSocConfig
from twin.ems.planner import SitePlanner
from twin.ems.realtime import corrected_setpoint_kw, pcc_flow
from twin.ems.site_problem import SiteInputs, SitePlan, SiteProblem
from twin.ems.strategies import restrict, terms_of
from twin.ems.tariff import (
    energy_bill_eur,
    export_price_eur_per_mwh,
    import_price_eur_per_mwh,
    monthly_peaks_kw,
)
from twin.markets.day_ahead import Clearing
from twin.markets.imbalance import imbalance_prices, settle_imbalance
from twin.physics.battery import full_cycles
from twin.types import FloatArray
from twin.units import KWH_PER_MWH

_DEVIATION_FLOOR_KWH = 1e-9


@dataclass
class EmsSite:
    """Plan and delivery state of one EMS site (see the module docstring)."""

    planner: SitePlanner
    plan: SitePlan | None = None
    strategy: str = ""
    values: dict[str, float] = field(default_factory=dict)
    forecast: FloatArray | None = None
    forecast_horizon: FloatArray | None = None
    _tail: tuple[np.ndarray, FloatArray] | None = None  # (period, grid) of the last day, unbooked
    _cycles: list[float] = field(default_factory=list)  # cycles of delivered days, unbooked
    _last_day_steps: int = 0  # steps of the last delivered day (the end of the tail)

    def plan_day(self, day: DeliveryDay, forecast_eur_per_mwh: FloatArray, soc: float) -> FloatArray:
        """Plan ``day`` at its gate; return the day-ahead bid (zeros behind the meter). [kW]"""
        planner = self.planner
        if self._tail is not None:  # earlier days' rest, then D-1 up to the gate
            period, grid = self._tail
            cut = min(len(grid) - self._last_day_steps + max(day.gate_step_prev_day, 0), len(grid))
            if cut > 0:
                planner.record_peaks(period[:cut], grid[:cut])
            self._tail = (period[cut:], grid[cut:]) if cut < len(grid) else None
        # cycles of the days fully delivered before the gate (all but the last one)
        while len(self._cycles) > 1:
            planner.pacer.update(self._cycles.pop(0))
        decision_ns = int(day.gate_closure_utc.value)
        self.forecast_horizon = np.asarray(forecast_eur_per_mwh, dtype=float).copy()
        self.forecast = self.forecast_horizon[: day.n_steps].copy()
        published = day.n_steps if planner.site.behind_the_meter else 0
        self.plan, self.strategy, self.values = planner.plan(
            day.first_step, decision_ns, forecast_eur_per_mwh, soc, published
        )
        if planner.site.behind_the_meter:
            return np.zeros(day.n_steps)
        return self.plan.power_kw[: day.n_steps].copy()

    def deliver_day(
        self, day: DeliveryDay, clearing: Clearing, plant: SimulatedBattery, t0_s: float, dt_h: float
    ) -> tuple[SiteDay, FloatArray]:
        """Run ``day`` through the plant and settle it.

        Returns
        -------
        (SiteDay, np.ndarray)
            The day's results and the schedule the plant was given. [kW]
        """
        planner, plan = self.planner, self.plan
        assert plan is not None, "plan_day runs before deliver_day"
        site, series, spec = planner.site, planner.series, planner.spec
        n = day.n_steps
        pos = day.first_step + np.arange(n)
        load, pv = series.load_kw[pos], series.pv_kw[pos]
        period = series.period[pos]
        band = plan.fcr_band_kw[:n]
        btm = site.behind_the_meter
        site_id = site.site_id
        schedule = plan.power_kw[:n].copy() if btm else np.asarray(clearing.awards_kw[site_id], dtype=float)
        export_limit = site.feed_in_limit_kw
        tariff = site.tariff
        guard_peak = btm and tariff is not None and tariff.demand_charge_eur_per_kw_per_year > 0
        planned_grid = plan.grid_kw[:n].copy()
        targets = {
            p: max(peak, planner.peaks_kw.get(p, 0.0))
            for p, peak in monthly_peaks_kw(planned_grid, period).items()
        }
        mtu_s = dt_h * 3600.0
        delivered, energy, soc, temperature, soh, setpoints, fcr_kwh = (np.empty(n) for _ in range(7))
        net_kwh = plant.energy_discharged_kwh - plant.energy_charged_kwh
        fcr_seen, short_seen = plant.fcr_requested_kwh, plant.fcr_shortfall_kwh
        fcr_short = np.empty(n)
        interval = planner.strategy.replan_interval_h
        every = max(round(interval / dt_h), 1) if interval is not None and btm and not band.any() else 0
        for k in range(n):
            if every and k and k % every == 0:
                new = self._replan(day, k, plant.soc, period[:k], load[:k] - pv[:k] - delivered[:k], dt_h)
                schedule[k:], planned_grid[k:] = new.power_kw[: n - k], new.grid_kw[: n - k]
                for p, peak in monthly_peaks_kw(planned_grid[k:], period[k:]).items():
                    targets[p] = max(targets[p], peak)
            setpoint = schedule[k]
            if btm:
                target = targets[int(period[k])] if guard_peak else None
                setpoint = corrected_setpoint_kw(
                    schedule[k], planned_grid[k], load[k], pv[k], band[k], plant.energy_kwh, spec, dt_h,
                    planner.fcr_duration_h, target, export_limit,
                )  # fmt: skip
            setpoints[k] = setpoint
            if plant.frequency is not None:
                plant.set_fcr_band(float(band[k]))
            plant.set_setpoint(float(setpoint))
            plant.advance(t0_s + (k + 1) * mtu_s)
            fcr_kwh[k], fcr_seen = plant.fcr_requested_kwh - fcr_seen, plant.fcr_requested_kwh
            fcr_short[k], short_seen = plant.fcr_shortfall_kwh - short_seen, plant.fcr_shortfall_kwh
            now_kwh = plant.energy_discharged_kwh - plant.energy_charged_kwh
            delivered[k] = (now_kwh - net_kwh) / dt_h
            net_kwh = now_kwh
            energy[k], soc[k] = plant.energy_kwh, plant.soc
            temperature[k], soh[k] = plant.temperature_c, plant.soh
            if guard_peak:
                imp = max(load[k] - pv[k] - delivered[k], 0.0)
                targets[int(period[k])] = max(targets[int(period[k])], imp)
        grid, curtailed = pcc_flow(load, pv, delivered, export_limit)
        grid0, _ = pcc_flow(load, pv, np.zeros(n), export_limit)
        price = clearing.price_eur_per_mwh
        fcr_price = np.nan_to_num(series.fcr_eur_per_mw_h[pos], nan=0.0)
        fcr_eur = fcr_price * band * dt_h / KWH_PER_MWH
        zeros = np.zeros(n)
        if btm:
            assert tariff is not None
            imp_price, exp_price = import_price_eur_per_mwh(tariff, price), export_price_eur_per_mwh(tariff, price)
            bill = energy_bill_eur(grid, imp_price, exp_price, dt_h)
            bill0 = energy_bill_eur(grid0, imp_price, exp_price, dt_h)
            day_ahead, deviation, imb_price, imb_eur, award = zeros, zeros, zeros, zeros, zeros
        else:
            award = schedule
            bill, bill0 = zeros, zeros
            day_ahead = price * award * dt_h / KWH_PER_MWH
            deviation = (delivered - award) * dt_h
            deviation[np.abs(deviation) < _DEVIATION_FLOOR_KWH] = 0.0
            prices = clearing.imbalance or imbalance_prices(price, 0.0)
            imb_price, imb_eur = settle_imbalance(deviation, prices)
        self._last_day_steps = n
        self._tail = (period, grid) if self._tail is None else (
            np.r_[self._tail[0], period], np.r_[self._tail[1], grid]
        )
        charged = float(np.clip(-delivered, 0, None).sum() * dt_h)
        discharged = float(np.clip(delivered, 0, None).sum() * dt_h)
        self._cycles.append(full_cycles(planner.site.battery, charged, discharged))
        result = SiteDay(
            site_id=site_id,
            delivery_date=day.date,
            schedule_kw=setpoints if btm else award,
            power_kw=delivered,
            energy_kwh=energy,
            soc=soc,
            revenue_eur=day_ahead + imb_eur + fcr_eur,
            day_ahead_revenue_eur=day_ahead,
            imbalance_kwh=deviation,
            imbalance_price_eur_per_mwh=imb_price,
            imbalance_eur=imb_eur,
            temperature_c=temperature,
            soh=soh,
            forecast_eur_per_mwh=self.forecast if self.forecast is not None else np.full(n, np.nan),
            used_milp=False,
            day_ahead_kw=award.copy(),
            intraday_kw=zeros,
            intraday_revenue_eur=zeros,
            fees_eur=zeros,
            load_kw=load.copy(),
            pv_kw=pv - curtailed,
            pv_curtailed_kw=curtailed,
            grid_kw=grid,
            fcr_band_kw=band.copy(),
            fcr_revenue_eur=fcr_eur,
            fcr_activation_kwh=fcr_kwh,
            fcr_shortfall_kwh=fcr_short,
            energy_bill_eur=bill,
            energy_bill_without_battery_eur=bill0,
            strategy=self.strategy,
        )
        return result, (setpoints if btm else award)

    def _replan(
        self, day: DeliveryDay, k: int, soc: float, period: np.ndarray, grid_kw: FloatArray, dt_h: float
    ) -> SitePlan:
        """Re-plan from step ``k`` of ``day``: measured SoC, load and PV until now, today's published prices.

        The peaks measured so far today become floors; prices of the rest of the
        day are published, beyond it the gate's forecast is used (repeated a day
        where it ends).
        """
        planner = self.planner
        planner.record_peaks(period, grid_kw)
        base = np.asarray(self.forecast_horizon, dtype=float)
        steps_per_day = round(24 / dt_h)
        idx = k + np.arange(planner.n_horizon)
        while (idx >= len(base)).any():
            idx = np.where(idx >= len(base), idx - steps_per_day, idx)
        decision_ns = int((day.start_utc + pd.Timedelta(hours=k * dt_h)).value)
        plan, _, _ = planner.plan(day.first_step + k, decision_ns, base[idx], soc, day.n_steps - k)
        return plan

    def bound(self, first_step: int, n_steps: int, dt_h: float, block_steps: int) -> SitePlan:
        """Perfect-foresight bound: the stacked LP over the whole period on realised data.

        One LP over ``n_steps`` from ``first_step``: realised prices, load, PV and
        FCR prices, one demand-charge period per month (floor 0), free terminal
        SoC, no cycle pacing. An LP relaxation: an upper bound on any schedule.
        """
        planner = self.planner
        site, series = planner.site, planner.series
        spec = site.battery  # the bound plans on the nameplate battery
        pos = first_step + np.arange(n_steps)
        period = series.period[pos]
        rel = np.unique(period, return_inverse=True)[1]
        tie = series.fcr_tie[pos].astype(bool) & (np.arange(n_steps) > 0)
        blocks = tuple(int(i) for i in np.flatnonzero(~tie)) if series.has_fcr else (0,)
        problem = SiteProblem(
            spec,
            n_steps,
            dt_h,
            TerminalSocConfig(policy="free"),
            import_max_kw=site.grid.import_max_kw,
            export_max_kw=site.feed_in_limit_kw,
            fcr_duration_h=planner.fcr_duration_h,
            block_steps=1 if site.behind_the_meter else block_steps,
            period_of_step=rel,
            fcr_blocks=blocks,
            balancing=planner.strategy.load_balancing_eur_per_kw > 0,
        )
        price = series.day_ahead_eur_per_mwh[pos]
        tariff = site.tariff
        zeros = np.zeros(n_steps)
        fcr = series.fcr_eur_per_mw_h[pos] if series.has_fcr else np.full(n_steps, np.nan)
        offered = np.isfinite(fcr)
        k = int(rel.max()) + 1
        charge = tariff.demand_charge_eur_per_kw_per_month if tariff is not None else 0.0
        full = SiteInputs(
            arbitrage_eur_per_mwh=price,
            import_eur_per_mwh=import_price_eur_per_mwh(tariff, price) if tariff else zeros,
            export_eur_per_mwh=export_price_eur_per_mwh(tariff, price) if tariff else zeros,
            load_kw=series.load_kw[pos],
            pv_kw=series.pv_kw[pos],
            fcr_eur_per_mw_h=np.where(offered, fcr, 0.0),
            fcr_max_kw=np.where(offered, min(spec.p_charge_max_kw, spec.p_discharge_max_kw), 0.0),
            fcr_tie=tie,
            period_mask=np.ones(n_steps),
            demand_charge_eur_per_kw=tuple([charge] * k),
            peak_floor_kw=tuple([0.0] * k),
            load_balancing_eur_per_kw=planner.strategy.load_balancing_eur_per_kw,
            wear_eur_per_mwh=spec.degradation_cost_eur_per_mwh,
        )
        inputs = restrict(full, terms_of("stacked", planner.terms))
        return problem.solve(inputs, spec.soc_initial)
