"""Credit actor: exposure to each external venue and each internal-exchange participant, day by day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import ray

from actors.client import ServiceClient, remote
from actors.etrm.metrics import EtrmMetrics
from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.config.etrm import EtrmConfig
from twin.etrm.credit_service import CreditService
from twin.etrm.slots import published_days, to_local_slots
from twin.markets.day_ahead import Clearing
from twin.markets.exchange.session import SessionResult
from twin.units import KWH_PER_MWH


@dataclass(frozen=True)
class CreditUpdate:
    """What the exchange's pre-trade check needs of the credit service, and the day's breaches."""

    exposure_eur: dict[str, float]
    move_eur_per_mwh: float
    breaches: tuple[str, ...]


def day_amounts(site_days: tuple[SiteDay, ...], dt_h: float) -> tuple[dict[str, float], dict[str, float]]:
    """What each external counterparty owes the fleet for a day, and the volume traded with it. [EUR, MWh]"""
    amounts: dict[str, float] = {}
    volume: dict[str, float] = {}

    def add(name: str, eur: float, mwh: float = 0.0) -> None:
        amounts[name] = amounts.get(name, 0.0) + eur
        volume[name] = volume.get(name, 0.0) + mwh

    for d in site_days:
        add("day-ahead exchange", float(d.day_ahead_revenue_eur.sum()), float(np.abs(d.day_ahead_kw).sum() * dt_h / KWH_PER_MWH))
        add("TSO (imbalance)", float(d.imbalance_eur.sum()))
        if d.fcr_revenue_eur is not None:
            add("TSO (FCR)", float(d.fcr_revenue_eur.sum()))
        if d.energy_bill_eur is not None:
            add("supplier (energy bill)", -float(d.energy_bill_eur.sum()))
    return amounts, volume


class CreditDesk:
    """The :class:`~twin.etrm.credit_service.CreditService` of a run.

    Parameters
    ----------
    config : EtrmConfig
    published : pd.Series
        Day-ahead prices published before the first delivery day (UTC index). [EUR/MWh]
    step : pd.Timedelta
    tz : str
    participants : list of str
        Internal-exchange participants with their own credit limit looked up in ``config.limits``.
    """

    def __init__(
        self, config: EtrmConfig, published: pd.Series, step: pd.Timedelta, tz: str, participants: list[str], metrics: EtrmMetrics | None = None) -> None:
        limits = dict(config.credit.limits_eur)
        for p in participants:
            lim = config.limits_of(p).credit_eur
            if lim is not None:
                limits[p] = lim
        self.service = CreditService(dict(config.credit.settlement_days), limits, config.credit.pfe_confidence,
                                     config.risk.lookback_days)  # fmt: skip
        self.step, self.tz, self.dt_h = step, tz, step / pd.Timedelta(hours=1)
        self.metrics = metrics or EtrmMetrics()
        for row in published_days(published, tz, step, config.risk.lookback_days + 1):
            self.service.publish(row)

    def on_day(self, day: DeliveryDay, clearing: Clearing, n_sessions: int, *results: SessionResult | SiteDay) -> CreditUpdate:
        """Book a delivered day: ``n_sessions`` intraday sessions (each participant's trade cash), then the sites' days (the venues' amounts)."""
        sessions = [r for r in results[:n_sessions] if isinstance(r, SessionResult)]
        site_days = tuple(r for r in results[n_sessions:] if isinstance(r, SiteDay))
        amounts, volume = day_amounts(site_days, self.dt_h)
        for session in sessions:
            for who, r in session.participants.items():
                owes = -float(r.cash_eur.sum() - r.fees_eur.sum())  # the exchange is owed what a participant bought
                amounts[who] = amounts.get(who, 0.0) + owes
                volume[who] = volume.get(who, 0.0) + float(np.abs(r.sell_mwh).sum())
        prices = to_local_slots(clearing.price_eur_per_mwh, day.start_utc, self.step, self.tz, "mean")
        found = self.service.on_day(day.date, amounts, volume, prices)
        for e in found:
            self.metrics.exposure.labels(e.counterparty).set(e.total_eur)
            if e.utilisation_pct is not None:
                self.metrics.utilisation.labels(e.counterparty, "credit").set(e.utilisation_pct)
        breaches = tuple(f"{day.date}: exposure to {e.counterparty} {e.total_eur:,.2f} EUR over its limit {e.limit_eur:,.2f} EUR"
                         for e in found if e.breached)  # fmt: skip
        return CreditUpdate(self.service.current_eur(), self.service.move_eur_per_mwh, breaches)

    def results(self) -> pd.DataFrame:
        """``credit.parquet``: one row per counterparty and day."""
        return pd.DataFrame([r.__dict__ for r in self.service.rows()])

    def metrics_text(self) -> bytes:
        """Prometheus exposition of the credit gauges."""
        return self.metrics.text()


CreditActor = ray.remote(CreditDesk)


class CreditClient(ServiceClient):
    """Typed client of one :class:`CreditDesk`."""

    service = CreditDesk
    actor = CreditActor
    on_day = remote(CreditDesk.on_day)
    results = remote(CreditDesk.results)
    metrics_text = remote(CreditDesk.metrics_text)
