"""The four ETRM services of a run, spawned together and called once per delivery day.

Each day, after the sites' deliveries are queued, the driver submits the day's
clearing, intraday sessions and site results as arguments (``ObjectRef`` s under
Ray, resolved by Ray, never by the driver), so the services run alongside the
next day's planning and add no ``ray.get``.

Placement (``etrm.placement``): ``one_actor`` (default) hosts the four services
in one actor, one call a day and one process to start; ``per_service`` gives
each its own actor, so they run in parallel on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import ray

from actors.client import Ref, Runtime, ServiceClient, remote
from actors.etrm.billing import BillingClient, BillingDesk
from actors.etrm.credit import CreditClient, CreditDesk, CreditUpdate
from actors.etrm.grid import GridClient, GridDesk
from actors.etrm.metrics import EtrmMetrics
from actors.etrm.risk import RiskClient, RiskDesk, RiskUpdate
from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.config import Scenario
from twin.config.etrm import EtrmConfig
from twin.etrm.run_files import EtrmResults
from twin.grid.constraints import SharedLimit
from twin.grid.frequency import AlertLevels, FrequencyReplay
from twin.grid.service import GridService
from twin.markets.day_ahead import Clearing
from twin.markets.exchange.session import SessionResult


@dataclass(frozen=True)
class EtrmDay:
    """What the services made of one day: the updates the exchange's limits need, and counts."""

    risk: RiskUpdate | None
    credit: CreditUpdate | None
    invoices: int
    events: int


def grid_service(scenario: Scenario, frequency: FrequencyReplay | None, start_utc: pd.Timestamp | None) -> GridService:
    """The scenario's grid service: site connection limits, shared limits, frequency replay and alert levels."""
    etrm = scenario.etrm
    f = etrm.grid.frequency
    levels = AlertLevels(f.watch_mhz, f.fcr_full_mhz, f.emergency_mhz) if f is not None else AlertLevels()
    return GridService(
        {s.site_id: (s.grid.import_max_kw, s.feed_in_limit_kw) for s in scenario.sites},
        [SharedLimit(x.name, tuple(x.site_ids), x.import_max_kw, x.export_max_kw) for x in etrm.grid.shared_limits],
        frequency, start_utc, levels,
    )  # fmt: skip


class EtrmDesks:
    """The four services of a run in one process (``etrm.placement: one_actor``), sharing one metrics registry.

    Parameters
    ----------
    etrm : EtrmConfig
    site_ids : list of str
    published : pd.Series
        Day-ahead prices published before the first delivery day. [EUR/MWh]
    step : pd.Timedelta
    tz : str
    participants : list of str
        Internal-exchange participants (credit limits).
    grid : GridService, optional
        None when the grid service is off.
    """

    def __init__(
        self, etrm: EtrmConfig, site_ids: list[str], published: pd.Series, step: pd.Timedelta, tz: str,
        participants: list[str], grid: GridService | None,
    ) -> None:  # fmt: skip
        m = self.metrics = EtrmMetrics()
        self.risk = RiskDesk(etrm, site_ids, published, step, tz, m) if etrm.risk.enabled else None
        self.credit = CreditDesk(etrm, published, step, tz, participants, m) if etrm.credit.enabled else None
        self.billing = BillingDesk(etrm.billing, step, tz, m) if etrm.billing.enabled else None
        self.grid = GridDesk(grid, step, m) if grid is not None else None

    def on_day(self, day: DeliveryDay, clearing: Clearing, n_sessions: int, *results: SessionResult | SiteDay) -> EtrmDay:
        """Run the day through every service: ``n_sessions`` intraday sessions, then the sites' days."""
        site_days = tuple(r for r in results[n_sessions:] if isinstance(r, SiteDay))
        return EtrmDay(
            self.risk.on_day(day, clearing) if self.risk is not None else None,
            self.credit.on_day(day, clearing, n_sessions, *results) if self.credit is not None else None,
            self.billing.on_day(day, *site_days) if self.billing is not None else 0,
            self.grid.on_day(day, *site_days) if self.grid is not None else 0,
        )

    def results(self) -> tuple[Any, Any, Any, Any]:
        """Each service's results (None for one that is off)."""
        return (
            self.risk.results() if self.risk is not None else None,
            self.credit.results() if self.credit is not None else None,
            self.billing.results() if self.billing is not None else None,
            self.grid.results() if self.grid is not None else None,
        )

    def metrics_text(self) -> bytes:
        """Prometheus exposition of every ETRM gauge."""
        return self.metrics.text()


EtrmActor = ray.remote(EtrmDesks)


class EtrmClient(ServiceClient):
    """Typed client of one :class:`EtrmDesks`."""

    service = EtrmDesks
    actor = EtrmActor
    on_day = remote(EtrmDesks.on_day)
    results = remote(EtrmDesks.results)
    metrics_text = remote(EtrmDesks.metrics_text)


@dataclass
class EtrmServices:
    """Clients of the ETRM services a scenario enables: one actor for all, or one per service."""

    combined: EtrmClient | None
    risk: RiskClient | None
    credit: CreditClient | None
    billing: BillingClient | None
    grid: GridClient | None
    frequency_replayed: bool = False

    @classmethod
    def spawn(
        cls,
        runtime: Runtime,
        scenario: Scenario,
        published: pd.Series,
        step: pd.Timedelta,
        start_utc: pd.Timestamp,
        frequency: FrequencyReplay | None,
        participants: list[str],
    ) -> EtrmServices | None:
        """Start the services ``scenario.etrm`` enables; None when ETRM is off."""
        etrm = scenario.etrm
        if not etrm.enabled:
            return None
        tz = scenario.market.timezone
        site_ids = [s.site_id for s in scenario.sites]
        grid = grid_service(scenario, frequency, start_utc) if etrm.grid.enabled else None
        replayed = frequency is not None
        if etrm.placement == "one_actor":
            combined = EtrmClient.spawn(runtime, etrm, site_ids, published, step, tz, participants, grid)
            return cls(combined, None, None, None, None, replayed)
        return cls(
            None,
            RiskClient.spawn(runtime, etrm, site_ids, published, step, tz) if etrm.risk.enabled else None,
            CreditClient.spawn(runtime, etrm, published, step, tz, participants) if etrm.credit.enabled else None,
            BillingClient.spawn(runtime, etrm.billing, step, tz) if etrm.billing.enabled else None,
            GridClient.spawn(runtime, grid, step) if grid is not None else None,
            replayed,
        )

    def on_day(self, day: DeliveryDay, clearing: Any, sessions: list[Any], delivered: list[Any]) -> tuple[list[Ref[Any]], list[Ref[Any]]]:
        """Submit the day to the services.

        Returns
        -------
        (updates, refs)
            The refs whose values update the exchange's limits, and every ref to
            gather with the day.
        """
        if self.combined is not None:
            ref = self.combined.on_day(day, clearing, len(sessions), *sessions, *delivered)
            return [ref], [ref]
        risk = self.risk.on_day(day, clearing) if self.risk is not None else None
        credit = self.credit.on_day(day, clearing, len(sessions), *sessions, *delivered) if self.credit is not None else None
        updates: list[Ref[Any]] = [r for r in (risk, credit) if r is not None]
        refs = list(updates)
        if self.billing is not None:
            refs.append(self.billing.on_day(day, *delivered))
        if self.grid is not None:
            refs.append(self.grid.on_day(day, *delivered))
        return updates, refs

    def results(self, runtime: Runtime) -> EtrmResults:
        """Collect every service's results (one ``runtime.get``)."""
        if self.combined is not None:
            risk, credit, invoices, grid = runtime.get([self.combined.results()])[0]
        else:
            clients = [self.risk, self.credit, self.billing, self.grid]
            got = iter(runtime.get([c.results() for c in clients if c is not None]))
            risk, credit, invoices, grid = (next(got) if c is not None else None for c in clients)
        risk = risk if risk is not None else (None, None, None)
        return EtrmResults(risk[0], risk[1], risk[2], credit, invoices, grid, self.frequency_replayed)
