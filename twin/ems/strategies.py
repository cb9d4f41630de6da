"""Strategies as named sets of objective terms of the site LP, and the daily automatic choice.

=================  ===================================================================
strategy           objective terms (wear and cycle pacing are always on)
=================  ===================================================================
arbitrage          the battery's power valued at the day-ahead price
peak_shaving       the demand charge on the period's peak import
self_consumption   the energy bill at the horizon's mean import and export prices:
                   stores PV surplus and covers deficits, blind to when energy is
                   cheap (the original EMS's rule, as an objective)
load_balancing     the L1 penalty on step-to-step changes of grid power
fcr                FCR capacity revenue
stacked            every term that applies: a grid-scale site arbitrage + FCR; a
                   behind-the-meter site the energy bill at each step's tariff prices
                   (a day-ahead-indexed tariff: self-consumption and arbitrage at once)
                   + demand charge + FCR; + load balancing when its weight is > 0
=================  ===================================================================

A strategy applies to a site when its term exists there (the energy bill and
demand charge need a tariff, FCR a price file, load balancing a weight).
``stacked`` optimises the site's money outcome, so on the same forecast it is at
least as good as every single strategy (each is a restriction of its objective).

Automatic choice (the original EMS's ``selection_mode: auto``): each day every
candidate is solved on the day's forecast and valued in money
(:func:`plan_value`); the site switches to the best only when it beats the
current strategy's value by more than ``switch_threshold`` of its magnitude.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from twin.ems.site_problem import SiteInputs, SitePlan, SiteProblem
from twin.units import KWH_PER_MWH

TIE_BREAK_WEAR_EUR_PER_MWH = 1e-3
"""Throughput cost every strategy carries, so a term that leaves the battery idle
(e.g. peak shaving on a flat day) does not cycle it at random. [EUR/MWh]"""

TERMS: dict[str, frozenset[str]] = {
    "arbitrage": frozenset({"arbitrage"}),
    "peak_shaving": frozenset({"demand"}),
    "self_consumption": frozenset({"bill_flat"}),
    "load_balancing": frozenset({"balancing"}),
    "fcr": frozenset({"fcr"}),
}


@dataclass(frozen=True)
class SiteTerms:
    """Which terms exist at a site."""

    behind_the_meter: bool
    demand_charge: bool
    fcr: bool
    load_balancing: bool


def terms_of(strategy: str, site: SiteTerms) -> frozenset[str]:
    """The objective terms of ``strategy`` at ``site`` (see the module table)."""
    if strategy != "stacked":
        return TERMS[strategy]
    terms = {"bill", "demand"} if site.behind_the_meter else {"arbitrage"}
    if site.behind_the_meter and not site.demand_charge:
        terms.discard("demand")
    if site.fcr:
        terms.add("fcr")
    if site.load_balancing:
        terms.add("balancing")
    return frozenset(terms)


def applies(strategy: str, site: SiteTerms) -> bool:
    """Whether ``strategy`` has a term at ``site``."""
    if strategy == "self_consumption":
        return site.behind_the_meter
    if strategy == "peak_shaving":
        return site.demand_charge
    if strategy == "fcr":
        return site.fcr
    if strategy == "load_balancing":
        return site.load_balancing
    return True


def restrict(full: SiteInputs, terms: frozenset[str]) -> SiteInputs:
    """``full`` (every term on) with the weights of the terms not in ``terms`` set to zero."""
    zeros = np.zeros_like(full.load_kw, dtype=float)
    changes: dict[str, object] = {
        "wear_eur_per_mwh": full.wear_eur_per_mwh + TIE_BREAK_WEAR_EUR_PER_MWH
    }
    if "arbitrage" not in terms:
        changes["arbitrage_eur_per_mwh"] = zeros
    if "bill_flat" in terms:
        changes["import_eur_per_mwh"] = np.full_like(zeros, float(np.mean(full.import_eur_per_mwh)))
        changes["export_eur_per_mwh"] = np.full_like(zeros, float(np.mean(full.export_eur_per_mwh)))
    elif "bill" not in terms:
        changes["import_eur_per_mwh"] = zeros
        changes["export_eur_per_mwh"] = zeros
    if "demand" not in terms:
        changes["demand_charge_eur_per_kw"] = tuple(0.0 for _ in full.demand_charge_eur_per_kw)
    if "fcr" not in terms:
        changes["fcr_eur_per_mw_h"] = zeros
        changes["fcr_max_kw"] = zeros
    if "balancing" not in terms:
        changes["load_balancing_eur_per_kw"] = 0.0
    return dataclasses.replace(full, **changes)  # type: ignore[arg-type]


def plan_value(
    plan: SitePlan, money: SiteInputs, dt_h: float, degradation_eur_per_mwh: float
) -> float:
    """Money a plan earns on ``money`` (arbitrage or bill, demand charge above the floor, FCR, wear).

    Parameters
    ----------
    plan : SitePlan
    money : SiteInputs
        The site's inputs with every money term on (``arbitrage_eur_per_mwh`` zero
        for a behind-the-meter site, whose energy is valued by its bill).
    dt_h : float
        Step length. [h]
    degradation_eur_per_mwh : float
        Wear cost of throughput (without the pacing shadow price). [EUR/MWh]

    Returns
    -------
    float
        [EUR]; the load-balancing penalty is not money and is left out.
    """
    s = dt_h / KWH_PER_MWH
    grid = plan.grid_kw
    imp, exp = np.clip(grid, 0.0, None), np.clip(-grid, 0.0, None)
    export_price = np.minimum(money.export_eur_per_mwh, money.import_eur_per_mwh)
    value = s * float(money.arbitrage_eur_per_mwh @ plan.power_kw)
    value -= s * float(money.import_eur_per_mwh @ imp - export_price @ exp)
    value += s * float(money.fcr_eur_per_mw_h @ plan.fcr_band_kw)
    mask = np.asarray(money.period_mask, dtype=float)
    for k, in_period in enumerate((mask > 0.5, mask <= 0.5)):
        charge = money.demand_charge_eur_per_kw[k]
        if charge and in_period.any():
            peak = float(imp[in_period].max())
            value -= charge * max(peak - money.peak_floor_kw[k], 0.0)
    throughput = float(np.sum(plan.p_charge_kw + plan.p_discharge_kw))
    value -= s * degradation_eur_per_mwh * throughput
    return value


def solve_candidates(
    problem: SiteProblem, full: SiteInputs, money: SiteInputs, names: list[str], site: SiteTerms,
    soc_initial: float, dt_h: float, degradation_eur_per_mwh: float,
) -> tuple[dict[str, SitePlan], dict[str, float]]:  # fmt: skip
    """Solve each strategy of ``names`` on ``full`` and value its plan in money.

    Parameters
    ----------
    problem : SiteProblem
    full, money : SiteInputs
        Every term on; the same as money (see :func:`plan_value`).
    names : list of str
        Strategies that apply at ``site``.
    site : SiteTerms
    soc_initial : float
        [fraction]
    dt_h : float
        Step length. [h]
    degradation_eur_per_mwh : float
        Wear cost of throughput. [EUR/MWh]

    Returns
    -------
    (dict of str to SitePlan, dict of str to float)
        Each strategy's plan and its money value. [EUR]
    """
    plans: dict[str, SitePlan] = {}
    values: dict[str, float] = {}
    for name in names:
        plans[name] = problem.solve(restrict(full, terms_of(name, site)), soc_initial)
        values[name] = plan_value(plans[name], money, dt_h, degradation_eur_per_mwh)
    return plans, values


def choose(
    values: dict[str, float], idle_value: float, current: str | None, threshold: float
) -> str:
    """The strategy to run: the best by value, unless the current one is within the threshold.

    Parameters
    ----------
    values : dict of str to float
        Forecast money value of each candidate's plan. [EUR]
    idle_value : float
        Value of leaving the battery idle (the baseline gains are measured from). [EUR]
    current : str or None
        The strategy of the day before (None: the first day).
    threshold : float
        Switch only when ``gain(best) > gain(current) + threshold * |gain(current)|``.

    Returns
    -------
    str
    """
    best = max(values, key=lambda name: values[name])
    if current is None or current not in values:
        return best
    gain_best, gain_now = values[best] - idle_value, values[current] - idle_value
    return best if gain_best > gain_now + threshold * abs(gain_now) else current


def idle_plan(money: SiteInputs, energy_kwh: float) -> SitePlan:
    """The battery left idle: what the site would do without it (no curtailment)."""
    n = len(money.load_kw)
    zeros = np.zeros(n)
    grid = np.asarray(money.load_kw, dtype=float) - np.asarray(money.pv_kw, dtype=float)
    return SitePlan(
        power_kw=zeros,
        p_charge_kw=zeros,
        p_discharge_kw=zeros,
        energy_kwh=np.full(n + 1, energy_kwh),
        fcr_band_kw=zeros,
        grid_kw=grid,
        pv_used_kw=np.asarray(money.pv_kw, dtype=float),
        unserved_kw=zeros,
        objective_eur=0.0,
    )
