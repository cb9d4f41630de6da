"""Site groups: several sites in one actor, still one round of calls per day.

A fleet of 1,000 sites need not be 1,000 processes, each importing cvxpy and
pandas (about 1.5 s apiece) and each taking its own scheduling slot. A
:class:`SiteGroupService` holds ``k`` :class:`~actors.backtest.site.SiteService`
instances and answers each driver call for all of them; the call returns ``k``
results, which Ray hands out as ``k`` separate ``ObjectRef`` s
(``num_returns``), so the market, the exchange and the ETRM services still see
one result per site and the driver loop does not change.

:class:`SiteFleet` is the driver's view: per-site lists in scenario order,
whatever the grouping. ``sites_per_actor=1`` is one actor per site; ``None``
(auto) spreads the sites over as many groups as the cluster has CPUs. Results
are identical for every grouping and for the local runtime (each site keeps
its own state; a group only shares a process).

The perfect-foresight LP depends on the battery and the prices only, so the
fleet solves it once per distinct battery among the plain arbitrage sites and
hands the same result to every identical one (the same holds for the
day-ahead plus intraday bound).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import ray

from actors.backtest.site import SiteService
from actors.client import Ref, Runtime
from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.ems.dispatch import DispatchResult
from twin.ems.multimarket import MultiMarketBound
from twin.ems.site_problem import SitePlan
from twin.markets.day_ahead import Bid, Clearing
from twin.markets.exchange.session import IntradayIntent, SessionResult
from twin.markets.intraday_rounds import IntradayRound
from twin.types import FloatArray


def _results(values: list[Any]) -> Any:
    """A group call's results: one per site, or the value itself for one (Ray's ``num_returns=1``)."""
    return values[0] if len(values) == 1 else tuple(values)


class SiteGroupService:
    """Several sites in one process; every method answers for all of them, in order.

    Each method returns one result per site, as a tuple, or the result itself
    when there is one (Ray hands a ``num_returns=1`` call's value out whole).

    Parameters
    ----------
    *site_args : tuple
        One tuple of :class:`SiteService` constructor arguments per site.
    """

    def __init__(self, *site_args: tuple[Any, ...]) -> None:
        if not site_args:
            raise ValueError("a site group needs at least one site")
        self.sites = [SiteService(*args) for args in site_args]
        self.threads = solver_threads()
        self._pool: ThreadPoolExecutor | None = None

    def _each(self, call: Callable[[int], Any], which: Sequence[int] | None = None, threaded: bool = False) -> Any:
        """``call(i)`` for the site positions ``which`` (default all), results in order, as :func:`_results`.

        ``threaded``: with several CPUs the sites run on a thread each. Only for
        calls that solve in HiGHS directly (plain arbitrage sites' day-ahead LP
        and MILP): HiGHS releases the GIL, so on two cores a group's planning
        takes about half the time. Each site keeps its own state and solver,
        so the results do not depend on the threads. The cvxpy problems (EMS
        sites, intraday, the multi-market bound) are solved one site at a time.
        """
        positions = range(len(self.sites)) if which is None else which
        if not threaded or self.threads < 2 or len(positions) < 2:
            return _results([call(i) for i in positions])
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="site-solve")
        return _results(list(self._pool.map(call, positions)))

    def _in_highs(self, positions: Sequence[int]) -> bool:
        """Whether the sites at ``positions`` all solve in HiGHS directly (plain arbitrage)."""
        return all(self.sites[i].ems is None for i in positions)

    def node_id(self) -> str:
        """The Ray node this group runs on (``local`` outside Ray)."""
        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"

    def plan_day(self, day: DeliveryDay, forecast_of: Sequence[int], *forecasts: FloatArray) -> Any:
        """Each site's bid; site ``i`` plans with ``forecasts[forecast_of[i]]``. [EUR/MWh]"""
        if len(forecast_of) != len(self.sites):
            raise ValueError(f"forecast_of has {len(forecast_of)} entries for {len(self.sites)} sites")
        everyone = range(len(self.sites))
        return self._each(lambda i: self.sites[i].plan_day(day, forecasts[forecast_of[i]]), everyone, self._in_highs(everyone))

    def intraday_intent(
        self, day: DeliveryDay, clearing: Clearing, session: IntradayRound, forecast: FloatArray, *previous: SessionResult
    ) -> Any:
        """Each site's intent for ``session`` (see :meth:`SiteService.intraday_intent`)."""
        return self._each(lambda i: self.sites[i].intraday_intent(day, clearing, session, forecast, *previous))

    def deliver_day(self, day: DeliveryDay, clearing: Clearing, *sessions: SessionResult) -> Any:
        """Each site's delivered day (see :meth:`SiteService.deliver_day`)."""
        return _results([site.deliver_day(day, clearing, *sessions) for site in self.sites])

    def perfect_foresight(
        self, price_eur_per_mwh: FloatArray, first_step: int, which: Sequence[int]
    ) -> Any:
        """The perfect-foresight bound of the sites at positions ``which`` (see :meth:`SiteService.perfect_foresight`)."""
        return self._each(lambda i: self.sites[i].perfect_foresight(price_eur_per_mwh, first_step), which)

    def multimarket_bound(
        self, day_ahead: FloatArray, intraday: FloatArray, cost_eur_per_mwh: float, which: Sequence[int]
    ) -> Any:
        """The day-ahead plus intraday bound of the sites at positions ``which``."""
        return self._each(lambda i: self.sites[i].multimarket_bound(day_ahead, intraday, cost_eur_per_mwh), which)


SiteGroupActor = ray.remote(SiteGroupService)


def solver_threads() -> int:
    """Threads a site group solves on: the CPUs Ray assigned to its actor (at least 1), or this process's CPUs outside Ray.

    ``BESS_TWIN_SOLVER_THREADS`` overrides it (1: every site in turn).
    """
    forced = os.environ.get("BESS_TWIN_SOLVER_THREADS")
    if forced:
        return max(int(forced), 1)
    if ray.is_initialized():
        context = ray.get_runtime_context()
        if context.get_actor_id() is not None:
            return max(int(context.get_assigned_resources().get("CPU", 1)), 1)
    return len(os.sched_getaffinity(0))


def group_sizes(n_sites: int, sites_per_actor: int | None, cpus: int) -> int:
    """Sites per group: ``sites_per_actor``, or (auto) enough groups to fill ``cpus``.

    Raises
    ------
    ValueError
        If ``sites_per_actor`` is given and below 1.
    """
    if sites_per_actor is not None:
        if sites_per_actor < 1:
            raise ValueError(f"sites_per_actor must be >= 1, got {sites_per_actor}; leave it unset for one group per CPU")
        return sites_per_actor
    return max(math.ceil(n_sites / max(cpus, 1)), 1)


@dataclass(frozen=True)
class _Group:
    handle: Any
    positions: list[int]
    """Scenario positions of the group's sites, in the group's order."""
    forecasters: list[str]
    """The day-ahead forecasters the group's sites plan with, each once."""
    forecast_of: list[int]
    """Per site of the group, its forecaster's position in ``forecasters``."""


class SiteFleet:
    """Every site of a run, grouped into actors; calls take and return per-site lists in scenario order.

    Parameters
    ----------
    runtime : Runtime
    site_args : list of tuple
        :class:`SiteService` constructor arguments per site, scenario order.
    options : list of dict
        Ray options per site; only consecutive sites with equal options share a group.
    bound_keys : list
        Per site, a key equal for sites whose bounds are equal (same battery,
        plain arbitrage), or None to solve the site's own.
    forecasters : list of str
        Per site, the day-ahead forecaster it plans with.
    sites_per_actor : int, optional
        Default: auto (one group per CPU of the runtime).
    """

    def __init__(
        self,
        runtime: Runtime,
        site_args: list[tuple[Any, ...]],
        options: list[dict[str, Any]],
        bound_keys: list[Any],
        forecasters: list[str],
        sites_per_actor: int | None = None,
    ) -> None:
        self.runtime = runtime
        self.forecasters = forecasters
        self.n_sites = len(site_args)
        size = group_sizes(self.n_sites, sites_per_actor, runtime.cpus())
        self.groups: list[_Group] = []
        chunk: list[int] = []
        for i in range(self.n_sites):
            if chunk and (len(chunk) == size or options[i] != options[chunk[0]]):
                self._spawn(chunk, site_args, options[chunk[0]])
                chunk = []
            chunk.append(i)
        if chunk:
            self._spawn(chunk, site_args, options[chunk[0]])
        self.bound_keys = bound_keys
        self._site_args = site_args

    def _spawn(self, positions: list[int], site_args: list[tuple[Any, ...]], options: dict[str, Any]) -> None:
        # spread the groups over the cluster's nodes unless the scenario places the sites
        placed = options or {"scheduling_strategy": "SPREAD"}
        handle = self.runtime.create(SiteGroupService, SiteGroupActor, placed, *(site_args[i] for i in positions))
        names = [self.forecasters[i] for i in positions]
        unique = list(dict.fromkeys(names))
        self.groups.append(_Group(handle, list(positions), unique, [unique.index(n) for n in names]))

    def node_ids(self) -> list[Ref[str]]:
        """Per site, the node its group runs on."""
        out: list[Any] = [None] * self.n_sites
        for g in self.groups:
            ref = self.runtime.call(g.handle, "node_id")
            for pos in g.positions:
                out[pos] = ref
        return out

    @property
    def sites_per_actor(self) -> int:
        """The largest group's size."""
        return max(len(g.positions) for g in self.groups)

    def _fan(self, method: str, *args: Any, per_group: Any = None) -> list[Any]:
        out: list[Any] = [None] * self.n_sites
        for g in self.groups:
            extra = per_group(g) if per_group is not None else ()
            refs = self.runtime.call_many(g.handle, method, len(g.positions), *args, *extra)
            for pos, ref in zip(g.positions, refs, strict=True):
                out[pos] = ref
        return out

    def plan_day(self, day: DeliveryDay, forecasts: dict[str, Ref[Any]]) -> list[Ref[Bid]]:
        """Every site's bid; each plans with ``forecasts[<its forecaster>]``, each forecast sent once per group."""
        return self._fan("plan_day", day, per_group=lambda g: (g.forecast_of, *(forecasts[n] for n in g.forecasters)))

    def intraday_intent(
        self, day: DeliveryDay, clearing: Any, session: IntradayRound, forecast: Any, *previous: Any
    ) -> list[Ref[IntradayIntent]]:
        """Every site's intraday intent for ``session``."""
        return self._fan("intraday_intent", day, clearing, session, forecast, *previous)

    def deliver_day(self, day: DeliveryDay, clearing: Any, *sessions: Any) -> list[Ref[SiteDay]]:
        """Every site's delivered day."""
        return self._fan("deliver_day", day, clearing, *sessions)

    def _bounds(self, method: str, *args: Any, aside: bool = False) -> list[Any]:
        """Solve ``method`` once per bound key (and for every site without one); share the refs.

        Each key is solved by one of its sites in the group with the fewest
        solves so far, so the groups share the bounds' work (the first day
        waits for the slowest group). ``aside``: the solving sites get a group
        of their own (under Ray an actor that reserves no CPU), whose solves run
        beside the day loop (:meth:`~actors.client.Runtime.call_many_aside`),
        on the CPU time the day loop leaves idle.
        """
        group_of = {pos: k for k, g in enumerate(self.groups) for pos in g.positions}
        load = [0] * len(self.groups)
        solver_of: dict[Any, int] = {}
        holders: dict[Any, list[int]] = {}
        for i, key in enumerate(self.bound_keys):
            if key is None:
                solver_of[("site", i)] = i
                load[group_of[i]] += 1
            else:
                holders.setdefault(key, []).append(i)
        for key, positions in sorted(holders.items(), key=lambda item: len(item[1])):  # forced choices first
            solver_of[key] = min(positions, key=lambda pos: (load[group_of[pos]], pos))
            load[group_of[solver_of[key]]] += 1
        solving = set(solver_of.values())
        out: list[Any] = [None] * self.n_sites
        if aside:  # a group of its own, so the bounds share nothing with the day loop
            positions = sorted(solving)
            handle = self.runtime.create(SiteGroupService, SiteGroupActor, {"num_cpus": 0},
                                         *(self._site_args[i] for i in positions))  # fmt: skip
            refs = self.runtime.call_many_aside(handle, method, len(positions), *args, list(range(len(positions))))
            for pos, ref in zip(positions, refs, strict=True):
                out[pos] = ref
        for g in [] if aside else self.groups:
            which = [k for k, pos in enumerate(g.positions) if pos in solving]
            if not which:
                continue
            refs = self.runtime.call_many(g.handle, method, len(which), *args, which)
            for k, ref in zip(which, refs, strict=True):
                out[g.positions[k]] = ref
        for i, key in enumerate(self.bound_keys):
            if out[i] is None:
                out[i] = out[solver_of[key]]
        return out

    def perfect_foresight(self, period: Any, first_step: int) -> list[Ref[DispatchResult | SitePlan]]:
        """Every site's perfect-foresight bound (identical batteries solved once).

        A fleet of plain arbitrage sites solves them beside the day loop, in a
        group of their own: the bound's MILP is HiGHS's alone.
        """
        return self._bounds("perfect_foresight", period, first_step, aside=all(k is not None for k in self.bound_keys))

    def multimarket_bound(self, day_ahead: Any, intraday: Any, cost_eur_per_mwh: float) -> list[Ref[MultiMarketBound]]:
        """Every site's day-ahead plus intraday bound (identical batteries solved once)."""
        return self._bounds("multimarket_bound", day_ahead, intraday, cost_eur_per_mwh)
