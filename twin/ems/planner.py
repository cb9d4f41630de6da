"""The daily EMS plan of one site: forecasts of load, PV and FCR prices, the strategy, the LP.

:class:`SitePlanner` holds what a site knows over the backtest (its load and PV
series, tariff, FCR prices, the peaks it has reached, the cycle-pacing price)
and, at each day-ahead gate, builds the inputs of :class:`SiteProblem` from
what is public then, picks the strategy and solves.

What the plan of day D may use (decided at D-1's gate, e.g. 12:00 local):

* day-ahead prices: the forecast service's forecast (made at the gate); a
  behind-the-meter site does not bid, so it plans once the auction result is
  published (D-1, about 12:45) and uses the published prices of D, the forecast
  only beyond D;
* load and PV (``forecast: persistence``): for each step, the value 24 h, 48 h, ...
  earlier, the first that was measured before the gate (UTC days: on the two DST
  days the shape is one hour off); ``weekly``: 7, 14, ... days earlier (same
  weekday); ``week_max``: the highest of the last 7 measured days at that
  time; ``perfect``: the realised series (an upper bound);
* FCR prices (``persistence``): the same step 24 h earlier: D-1's blocks, public
  since D-2's auction, before D's FCR gate (D-1 08:00); blocks without a
  published price are not offered;
* the peak import already reached in the billing period: measured until the gate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from twin.config import BatterySpec, StrategyConfig
from twin.config.ems import ProfileForecast
from twin.config.site import SiteConfig
from twin.ems.pacing import CyclePacer
from twin.ems.site_problem import SiteInputs, SitePlan, SiteProblem
from twin.ems.strategies import (
    SiteTerms,
    applies,
    choose,
    idle_plan,
    plan_value,
    solve_candidates,
)
from twin.ems.tariff import export_price_eur_per_mwh, import_price_eur_per_mwh, monthly_peaks_kw
from twin.forecast.profile import ProfileGbm, forecast_profile
from twin.types import FloatArray

NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class SiteSeries:
    """What a site's EMS reads over the whole price series (T steps, aligned to the prices).

    Attributes
    ----------
    index_ns : np.ndarray of int64, shape (T,)
        UTC interval starts. [ns]
    load_kw, pv_kw : np.ndarray, shape (T,)
        Realised load and available PV (zeros: none). [kW]
    day_ahead_eur_per_mwh : np.ndarray, shape (T,)
        Realised day-ahead prices (for the tariff's settlement). [EUR/MWh]
    fcr_eur_per_mw_h : np.ndarray, shape (T,)
        Realised FCR capacity prices (NaN: no tender result; all NaN: no FCR). [EUR/MW/h]
    fcr_tie : np.ndarray of bool, shape (T,)
        Same FCR block as the step before.
    period : np.ndarray of int, shape (T,)
        Billing period (month) of each step.
    """

    index_ns: np.ndarray
    load_kw: FloatArray
    pv_kw: FloatArray
    day_ahead_eur_per_mwh: FloatArray
    fcr_eur_per_mw_h: FloatArray
    fcr_tie: np.ndarray
    period: np.ndarray

    @property
    def has_fcr(self) -> bool:
        """Whether any FCR price exists."""
        return bool(np.isfinite(self.fcr_eur_per_mw_h).any())


def _window(values: FloatArray, positions: np.ndarray) -> FloatArray:
    """Realised values at ``positions``; past the end the last value repeats."""
    out: FloatArray = np.asarray(values, dtype=float)[np.clip(positions, 0, len(values) - 1)]
    return out


@dataclass
class SitePlanner:
    """Plans one site each day (see the module docstring).

    Parameters
    ----------
    site : SiteConfig
    strategy : StrategyConfig
    series : SiteSeries
    dt_h : float
        Step length. [h]
    n_horizon : int
        Planning horizon. [steps]
    fcr_duration_h : float
        FCR full-activation duration the SoC must allow each way. [h]
    fcr_forecast : {'persistence', 'perfect'}
    block_steps : int
        Steps per day-ahead MTU (a grid-scale site bids one power per MTU).
    """

    site: SiteConfig
    strategy: StrategyConfig
    series: SiteSeries
    dt_h: float
    n_horizon: int
    fcr_duration_h: float = 0.25
    fcr_forecast: ProfileForecast = "persistence"
    block_steps: int = 1
    timezone: str = "Europe/Berlin"
    """Local time of the calendar features of the ``lightgbm`` load/PV forecaster."""
    spec: BatterySpec = field(init=False)
    profile_models: dict[str, ProfileGbm] = field(init=False)
    problems: dict[tuple[int, ...], SiteProblem] = field(init=False)
    pacer: CyclePacer = field(init=False)
    current: str | None = None
    peaks_kw: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pacer = CyclePacer(self.strategy.cycles_per_year, self.strategy.cycle_pacing_gain_eur_per_mwh)
        country = self.site.load.holidays_country if self.site.load is not None else "DE"
        self.profile_models = {name: ProfileGbm(self.timezone, country) for name in ("load", "pv")}
        self.rerate(self.site.battery)

    @property
    def terms(self) -> SiteTerms:
        """Which objective terms exist at this site."""
        tariff = self.site.tariff
        return SiteTerms(
            behind_the_meter=tariff is not None,
            demand_charge=tariff is not None and tariff.demand_charge_eur_per_kw_per_year > 0,
            fcr=self.series.has_fcr,
            load_balancing=self.strategy.load_balancing_eur_per_kw > 0,
        )

    def rerate(self, spec: BatterySpec) -> None:
        """Plan with ``spec`` from now on (the planner's battery, re-rated as the plant ages)."""
        self.spec = spec
        self.problems = {}

    def problem(self, fcr_tie: np.ndarray) -> SiteProblem:
        """The LP for the horizon's FCR block layout (one per layout: DST days differ), built once."""
        blocks = tuple(int(i) for i in np.flatnonzero(~np.asarray(fcr_tie, dtype=bool))) or (0,)
        if not self.series.has_fcr:
            blocks = (0,)
        if blocks not in self.problems:
            self.problems[blocks] = SiteProblem(
                self.spec,
                self.n_horizon,
                self.dt_h,
                self.strategy.terminal_soc,
                import_max_kw=self.site.grid.import_max_kw,
                export_max_kw=self.site.feed_in_limit_kw,
                fcr_duration_h=self.fcr_duration_h,
                block_steps=1 if self.site.behind_the_meter else self.block_steps,
                fcr_blocks=blocks,
                balancing=self.strategy.load_balancing_eur_per_kw > 0,
            )
        return self.problems[blocks]

    def inputs(
        self,
        first_step: int,
        decision_ns: int,
        forecast_eur_per_mwh: FloatArray,
        published_steps: int = 0,
    ) -> tuple[SiteInputs, SiteInputs]:
        """The LP inputs with every term on, and the same inputs as money (for valuation).

        Parameters
        ----------
        first_step : int
            Position of the horizon's first step in the series.
        decision_ns : int
            The gate: nothing measured after it is used. [ns]
        forecast_eur_per_mwh : np.ndarray, shape (n_horizon,)
            Day-ahead price forecast. [EUR/MWh]
        published_steps : int
            Leading steps whose day-ahead price is published at the decision
            (a behind-the-meter site plans after the auction): those use the
            published price instead of the forecast.
        """
        s, site = self.series, self.site
        pos = first_step + np.arange(self.n_horizon)
        price = np.asarray(forecast_eur_per_mwh, dtype=float).copy()
        if published_steps:
            price[:published_steps] = _window(s.day_ahead_eur_per_mwh, pos[:published_steps])
        load = self._profile("load", s.load_kw, pos, decision_ns, site.load.forecast if site.load else "perfect")
        pv = self._profile("pv", s.pv_kw, pos, decision_ns, site.pv.forecast if site.pv else "perfect")
        zeros = np.zeros(self.n_horizon)
        tariff = site.tariff
        imp = import_price_eur_per_mwh(tariff, price) if tariff is not None else zeros
        exp = export_price_eur_per_mwh(tariff, price) if tariff is not None else zeros
        fcr_price, fcr_max = zeros, zeros
        if s.has_fcr:
            realised = _window(s.fcr_eur_per_mw_h, pos)
            if self.fcr_forecast == "perfect":
                fcr_price = realised
            else:
                steps_per_day = round(24 / self.dt_h)
                fcr_price = _window(s.fcr_eur_per_mw_h, pos - steps_per_day)
            offered = np.isfinite(realised) & np.isfinite(fcr_price)
            fcr_price = np.where(offered, fcr_price, 0.0)
            limit = min(self.spec.p_charge_max_kw, self.spec.p_discharge_max_kw)
            fcr_max = np.where(offered, limit, 0.0)
        period = _window(s.period, pos)
        current = int(period[0])
        mask = (period == current).astype(float)
        charge = tariff.demand_charge_eur_per_kw_per_month if tariff is not None else 0.0
        nxt = int(period[period != current][0]) if (period != current).any() else current + 1
        full = SiteInputs(
            arbitrage_eur_per_mwh=price,
            import_eur_per_mwh=imp,
            export_eur_per_mwh=exp,
            load_kw=load,
            pv_kw=pv,
            fcr_eur_per_mw_h=fcr_price,
            fcr_max_kw=fcr_max,
            fcr_tie=_window(s.fcr_tie, pos).astype(bool) & (np.arange(self.n_horizon) > 0),
            period_mask=mask,
            demand_charge_eur_per_kw=(charge, charge),
            peak_floor_kw=(self.peaks_kw.get(current, 0.0), self.peaks_kw.get(nxt, 0.0)),
            load_balancing_eur_per_kw=self.strategy.load_balancing_eur_per_kw,
            wear_eur_per_mwh=self.spec.degradation_cost_eur_per_mwh + self.pacer.price_eur_per_mwh,
        )
        money = dataclasses.replace(
            full,
            arbitrage_eur_per_mwh=zeros if tariff is not None else price,
            load_balancing_eur_per_kw=0.0,
        )
        return full, money

    def _profile(self, series: str, values: FloatArray, pos: np.ndarray, decision_ns: int, how: str) -> FloatArray:
        if how in ("perfect", "weather"):  # weather: pvlib on the DWD weather that also made the PV
            return _window(values, pos)
        return forecast_profile(how, values, self.series.index_ns, pos, decision_ns, self.profile_models[series])

    @property
    def _steps_per_day(self) -> int:
        return round(24 / self.dt_h)

    def candidates(self) -> list[str]:
        """Strategies this site may run today."""
        kind = self.strategy.kind
        names = self.strategy.candidates if kind == "auto" else [kind]
        return [n for n in names if applies(n, self.terms)] or ["arbitrage"]

    def plan(
        self,
        first_step: int,
        decision_ns: int,
        forecast_eur_per_mwh: FloatArray,
        soc_initial: float,
        published_steps: int = 0,
    ) -> tuple[SitePlan, str, dict[str, float]]:
        """Plan the horizon starting at ``first_step`` (``published_steps``: see :meth:`inputs`).

        Returns
        -------
        (SitePlan, str, dict of str to float)
            The plan, the strategy that made it, and each candidate's forecast
            value (money, EUR; ``idle``: the battery left idle).
        """
        full, money = self.inputs(first_step, decision_ns, forecast_eur_per_mwh, published_steps)
        plans, values = solve_candidates(self.problem(full.fcr_tie), full, money, self.candidates(), self.terms, soc_initial,
                                         self.dt_h, self.spec.degradation_cost_eur_per_mwh)  # fmt: skip
        idle = plan_value(idle_plan(money, soc_initial * self.spec.energy_kwh), money, self.dt_h, 0.0)
        name = choose(values, idle, self.current, self.strategy.switch_threshold)
        self.current = name
        return plans[name], name, {**values, "idle": idle}

    def record_peaks(self, period: np.ndarray, grid_kw: FloatArray) -> None:
        """Book measured imports: the peak of each billing period only ever rises."""
        for p, peak in monthly_peaks_kw(grid_kw, period).items():
            self.peaks_kw[p] = max(self.peaks_kw.get(p, 0.0), peak)
