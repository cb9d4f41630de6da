"""The four ETRM services of a run, spawned together and called once per delivery day.

Each day, after the sites' deliveries are queued, the driver submits one call
to each service with the day's clearing, intraday sessions and site results as
arguments (``ObjectRef`` s under Ray, resolved by Ray, never by the driver), so
the services run alongside the next day's planning and add no ``ray.get``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from actors.client import Ref, Runtime
from actors.etrm.billing import BillingClient
from actors.etrm.credit import CreditClient
from actors.etrm.grid import GridClient
from actors.etrm.risk import RiskClient
from twin.backtest.clock import DeliveryDay
from twin.config import Scenario
from twin.etrm.run_files import EtrmResults
from twin.grid.constraints import SharedLimit
from twin.grid.frequency import AlertLevels, FrequencyReplay
from twin.grid.service import GridService


@dataclass
class EtrmServices:
    """Clients of the ETRM services a scenario enables (None: off)."""

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
        risk = RiskClient.spawn(runtime, etrm, site_ids, published, step, tz) if etrm.risk.enabled else None
        credit = CreditClient.spawn(runtime, etrm, published, step, tz, participants) if etrm.credit.enabled else None
        billing = BillingClient.spawn(runtime, etrm.billing, step, tz) if etrm.billing.enabled else None
        grid = None
        if etrm.grid.enabled:
            f = etrm.grid.frequency
            levels = AlertLevels(f.watch_mhz, f.fcr_full_mhz, f.emergency_mhz) if f is not None else AlertLevels()
            service = GridService(
                {s.site_id: (s.grid.import_max_kw, s.feed_in_limit_kw) for s in scenario.sites},
                [SharedLimit(x.name, tuple(x.site_ids), x.import_max_kw, x.export_max_kw) for x in etrm.grid.shared_limits],
                frequency, start_utc, levels,
            )  # fmt: skip
            grid = GridClient.spawn(runtime, service, step)
        return cls(risk, credit, billing, grid, frequency is not None)

    def on_day(self, day: DeliveryDay, clearing: Any, sessions: list[Any], delivered: list[Any]) -> tuple[Any, Any, list[Ref[Any]]]:
        """Submit the day to every service.

        Returns
        -------
        (risk update ref or None, credit update ref or None, every ref)
            The first two feed the exchange's limits; all are gathered with the day.
        """
        refs: list[Ref[Any]] = []
        risk = self.risk.on_day(day, clearing) if self.risk is not None else None
        credit = self.credit.on_day(day, clearing, len(sessions), *sessions, *delivered) if self.credit is not None else None
        refs += [r for r in (risk, credit) if r is not None]
        if self.billing is not None:
            refs.append(self.billing.on_day(day, *delivered))
        if self.grid is not None:
            refs.append(self.grid.on_day(day, *delivered))
        return risk, credit, refs

    def results(self, runtime: Runtime) -> EtrmResults:
        """Collect every service's results (one ``runtime.get``)."""
        clients = [self.risk, self.credit, self.billing, self.grid]
        refs = [c.results() for c in clients if c is not None]
        got = iter(runtime.get(refs))
        risk = next(got) if self.risk is not None else (None, None, None)
        credit = next(got) if self.credit is not None else None
        invoices = next(got) if self.billing is not None else None
        grid = next(got) if self.grid is not None else None
        return EtrmResults(risk[0], risk[1], risk[2], credit, invoices, grid, self.frequency_replayed)
