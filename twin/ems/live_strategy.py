"""The strategy of a live site: which objective it plans with, switched by an operator or chosen automatically.

A live site trades day-ahead prices at its PCC (no load, PV or FCR price
reaches it live), so the strategies that apply are those of a grid-scale site
(:func:`twin.ems.strategies.applies`): ``arbitrage``, ``load_balancing`` when
its weight is set, and ``stacked`` (every term that applies). ``auto`` re-runs
the backtest's daily choice (:func:`twin.ems.strategies.choose`) at every
re-plan over the candidates that apply, with the same switch threshold.

The LP is :class:`twin.ems.site_problem.SiteProblem`, the one the backtest
plans behind-the-meter and grid-scale sites with, built once per site.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin.config import SiteConfig, StrategyConfig
from twin.ems.site_inputs import SiteInputs, SitePlan
from twin.ems.site_problem import SiteProblem
from twin.ems.strategies import (
    SiteTerms,
    applies,
    choose,
    idle_plan,
    plan_value,
    solve_candidates,
)
from twin.types import FloatArray

STRATEGIES: tuple[str, ...] = ("arbitrage", "peak_shaving", "self_consumption", "load_balancing", "fcr", "stacked")
"""Every strategy name (``auto`` is a mode over them, not one of them)."""


@dataclass
class LiveStrategy:
    """Plans one live site with its current strategy, or the best candidate in auto mode.

    Parameters
    ----------
    site : SiteConfig
    strategy : StrategyConfig
        The site's strategy from the scenario (``kind: auto`` starts in auto mode).
    n_steps : int
        Horizon length. [MTUs]
    dt_h : float
        MTU length. [h]
    """

    site: SiteConfig
    strategy: StrategyConfig
    n_steps: int
    dt_h: float
    auto: bool = field(init=False)
    kind: str = field(init=False)
    """The strategy in force (in auto mode: the last one chosen)."""
    values_eur: dict[str, float] = field(init=False, default_factory=dict)
    """Forecast money value of each candidate at the last re-plan (auto mode). [EUR]"""
    problem: SiteProblem = field(init=False)

    def __post_init__(self) -> None:
        self.auto = self.strategy.kind == "auto"
        self.kind = "arbitrage" if self.auto else self.strategy.kind
        if not applies(self.kind, self.terms):
            raise ValueError(f"strategy.kind {self.kind!r} does not apply to live site {self.site.site_id}: choose one of {self.available()}")
        self.problem = SiteProblem(
            self.site.battery, self.n_steps, self.dt_h, self.strategy.terminal_soc,
            import_max_kw=self.site.grid.import_max_kw, export_max_kw=self.site.feed_in_limit_kw,
            fcr_blocks=(0,), balancing=self.strategy.load_balancing_eur_per_kw > 0,
        )  # fmt: skip

    @property
    def terms(self) -> SiteTerms:
        """The objective terms a live site has (no tariff, load, PV or FCR price live)."""
        return SiteTerms(behind_the_meter=False, demand_charge=False, fcr=False,
                         load_balancing=self.strategy.load_balancing_eur_per_kw > 0)  # fmt: skip

    def available(self) -> list[str]:
        """Strategies that apply to this site."""
        return [name for name in STRATEGIES if applies(name, self.terms)]

    def candidates(self) -> list[str]:
        """What auto mode chooses from: the configured candidates that apply (else arbitrage)."""
        return [n for n in self.strategy.candidates if applies(n, self.terms)] or ["arbitrage"]

    def set(self, kind: str) -> None:
        """Run ``kind`` from the next re-plan on (auto mode off).

        Raises
        ------
        ValueError
            If ``kind`` is not a strategy or does not apply to this site.
        """
        if kind not in self.available():
            raise ValueError(f"strategy {kind!r} is not available at site {self.site.site_id}: choose one of {self.available()}")
        self.kind, self.auto = kind, False

    def set_auto(self, enabled: bool) -> None:
        """Switch auto mode on (daily choice among :meth:`candidates`) or off (keep the current strategy)."""
        self.auto = bool(enabled)

    def plan(self, price_eur_per_mwh: FloatArray, soc: float, power_prev_kw: float = 0.0) -> SitePlan:
        """Plan the horizon from ``soc`` with the strategy in force (auto: choose it first).

        Parameters
        ----------
        price_eur_per_mwh : np.ndarray, shape (n_steps,)
            Published, then forecast day-ahead prices. [EUR/MWh]
        soc : float
            Measured SoC. [fraction]
        power_prev_kw : float
            Battery power of the step before (load balancing's first change). [kW]

        Raises
        ------
        twin.errors.InfeasibleDispatchError
            If the LP has no solution from ``soc``.
        """
        full, money = self._inputs(np.asarray(price_eur_per_mwh, dtype=float), power_prev_kw)
        names = self.candidates() if self.auto else [self.kind]
        plans, values = solve_candidates(self.problem, full, money, names, self.terms, soc, self.dt_h,
                                         self.site.battery.degradation_cost_eur_per_mwh)  # fmt: skip
        if self.auto:
            idle = plan_value(idle_plan(money, soc * self.site.battery.energy_kwh), money, self.dt_h, 0.0)
            self.kind = choose(values, idle, self.kind, self.strategy.switch_threshold)
            values["idle"] = idle
        self.values_eur = values
        return plans[self.kind]

    def _inputs(self, price: FloatArray, power_prev_kw: float) -> tuple[SiteInputs, SiteInputs]:
        zeros = np.zeros(self.n_steps)
        full = SiteInputs(
            arbitrage_eur_per_mwh=price, import_eur_per_mwh=zeros, export_eur_per_mwh=zeros,
            load_kw=zeros, pv_kw=zeros, fcr_eur_per_mw_h=zeros, fcr_max_kw=zeros,
            fcr_tie=np.zeros(self.n_steps, dtype=bool), period_mask=np.ones(self.n_steps),
            load_balancing_eur_per_kw=self.strategy.load_balancing_eur_per_kw,
            grid_prev_kw=-float(power_prev_kw),
            wear_eur_per_mwh=self.site.battery.degradation_cost_eur_per_mwh,
        )  # fmt: skip
        money = SiteInputs(**{**full.__dict__, "load_balancing_eur_per_kw": 0.0})
        return full, money
