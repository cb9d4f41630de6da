"""Billing actor: settles each delivered day and issues invoices when a billing period closes."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import ray

from actors.client import ServiceClient, remote
from actors.etrm.metrics import EtrmMetrics
from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.config.etrm import BillingConfig
from twin.etrm.billing import InvoiceBook
from twin.etrm.billing_service import SETTLEMENT_COLUMNS, BillingService, IssuedInvoice


def settlement_rows(day: DeliveryDay, step: pd.Timedelta, site_days: tuple[SiteDay, ...]) -> pd.DataFrame:
    """The day's :data:`SETTLEMENT_COLUMNS` for every site, as ``sites.parquet`` holds them (one frame per day)."""
    n = len(site_days[0].power_kw) if site_days else 0
    ns = day.start_utc.value + step.value * np.arange(n, dtype=np.int64)
    columns: dict[str, object] = {
        "timestamp_utc": pd.to_datetime(np.tile(ns, len(site_days)), utc=True),
        "site_id": np.repeat([d.site_id for d in site_days], n),
    }
    for name in SETTLEMENT_COLUMNS[2:]:
        parts = []
        for d in site_days:
            value = getattr(d, name)
            if name == "grid_kw" and value is None:
                value = -d.power_kw
            parts.append(value if value is not None else np.zeros(n))
        columns[name] = np.concatenate(parts) if parts else np.zeros(0)
    return pd.DataFrame(columns)


class BillingDesk:
    """The :class:`~twin.etrm.billing_service.BillingService` of a run.

    Parameters
    ----------
    config : BillingConfig
    step : pd.Timedelta
    tz : str
        Local time zone of the billing calendar.
    """

    def __init__(self, config: BillingConfig, step: pd.Timedelta, tz: str, metrics: EtrmMetrics | None = None) -> None:
        self.service = BillingService(InvoiceBook(config.prefix, Decimal(config.vat_rate)), config.period, tz)
        self.step = step
        self.metrics = metrics or EtrmMetrics()

    def on_day(self, day: DeliveryDay, *site_days: SiteDay) -> int:
        """Book one delivered day; returns how many invoices it issued (a period closed)."""
        issued = self.service.on_day(day.date, settlement_rows(day, self.step, site_days))
        self.metrics.invoices.inc(len(issued))
        return len(issued)

    def results(self) -> list[IssuedInvoice]:
        """Close the last period; every invoice issued in the run, in number order."""
        self.metrics.invoices.inc(len(self.service.close()))
        return self.service.issued()

    def metrics_text(self) -> bytes:
        """Prometheus exposition of the billing counters."""
        return self.metrics.text()


BillingActor = ray.remote(BillingDesk)


class BillingClient(ServiceClient):
    """Typed client of one :class:`BillingDesk`."""

    service = BillingDesk
    actor = BillingActor
    on_day = remote(BillingDesk.on_day)
    results = remote(BillingDesk.results)
    metrics_text = remote(BillingDesk.metrics_text)
