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
    """The day's :data:`SETTLEMENT_COLUMNS`, as ``sites.parquet`` holds them."""
    frames = []
    for d in site_days:
        n = len(d.power_kw)
        zeros = np.zeros(n)

        def get(name: str, d: SiteDay = d, zeros: np.ndarray = zeros) -> np.ndarray:
            value = getattr(d, name)
            return value if value is not None else zeros

        columns = {name: get(name) for name in SETTLEMENT_COLUMNS[2:]}
        columns["grid_kw"] = d.grid_kw if d.grid_kw is not None else -d.power_kw
        frames.append(pd.DataFrame({"timestamp_utc": pd.date_range(day.start_utc, periods=n, freq=step),
                                    "site_id": d.site_id, **columns}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


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
