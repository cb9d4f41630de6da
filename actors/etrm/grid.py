"""Grid actor: frequency events from the replayed samples, constraint alerts on each day's schedules."""

from __future__ import annotations

import pandas as pd
import ray

from actors.client import ServiceClient, remote
from actors.etrm.metrics import EtrmMetrics
from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.grid.service import GridService


class GridDesk:
    """The :class:`~twin.grid.service.GridService` of a run.

    Parameters
    ----------
    service : GridService
    step : pd.Timedelta
        Schedule step.
    """

    def __init__(self, service: GridService, step: pd.Timedelta, metrics: EtrmMetrics | None = None) -> None:
        self.service, self.step = service, step
        self.metrics = metrics or EtrmMetrics()

    def on_day(self, day: DeliveryDay, *site_days: SiteDay) -> int:
        """Check the day's schedules (grid exchange, importing positive) and frequency; returns the events found."""
        grid = {d.site_id: d.grid_kw if d.grid_kw is not None else -d.schedule_kw for d in site_days}
        found = self.service.on_day(day.date, day.start_utc, self.step, grid)
        for e in found:
            self.metrics.grid_events.labels(e.kind, e.level).inc()
        frequency = self.service.frequency
        if frequency is not None and self.service.start_utc is not None:
            self.metrics.frequency.set(frequency.at((day.end_utc - self.service.start_utc).total_seconds() - 1e-6))
        return len(found)

    def results(self) -> pd.DataFrame:
        """``grid_events.parquet``: one row per event."""
        columns = ["kind", "level", "subject", "start_utc", "end_utc", "value", "message"]
        return pd.DataFrame([e.__dict__ for e in self.service.events()], columns=columns)

    def metrics_text(self) -> bytes:
        """Prometheus exposition of the grid gauges."""
        return self.metrics.text()


GridActor = ray.remote(GridDesk)


class GridClient(ServiceClient):
    """Typed client of one :class:`GridDesk`."""

    service = GridDesk
    actor = GridActor
    on_day = remote(GridDesk.on_day)
    results = remote(GridDesk.results)
    metrics_text = remote(GridDesk.metrics_text)
