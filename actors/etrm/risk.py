"""Risk actor: VaR/ES of each site's day-ahead position at its gate, realised P&L, limits, VaR backtest."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import ray

from actors.client import ServiceClient, remote
from actors.etrm.metrics import EtrmMetrics
from twin.backtest.clock import DeliveryDay
from twin.config.etrm import EtrmConfig
from twin.etrm.risk_service import Alert, RiskLimits, RiskService
from twin.etrm.slots import published_days, to_local_slots
from twin.markets.day_ahead import Clearing
from twin.units import KWH_PER_MWH


@dataclass(frozen=True)
class RiskUpdate:
    """What the exchange's pre-trade check needs of the risk service, and the day's alerts."""

    sigma_eur_per_mwh: float
    alerts: tuple[Alert, ...]


class RiskDesk:
    """The :class:`~twin.etrm.risk_service.RiskService` of a run, fed one cleared day at a time.

    Parameters
    ----------
    config : EtrmConfig
    site_ids : list of str
    published : pd.Series
        Day-ahead prices published before the first delivery day (UTC index). [EUR/MWh]
    step : pd.Timedelta
        Market time unit.
    tz : str
        Local time zone of the delivery days.
    """

    def __init__(
        self, config: EtrmConfig, site_ids: list[str], published: pd.Series, step: pd.Timedelta, tz: str, metrics: EtrmMetrics | None = None) -> None:
        risk = config.risk
        limits = {}
        for participant in [*site_ids, "fleet"]:
            lim = config.limits_of(participant)
            limits[participant] = RiskLimits(lim.var_eur, lim.var_confidence, lim.position_mwh, lim.loss_eur)
        levels = tuple(sorted({*risk.confidence_levels, *(lim.var_confidence for lim in limits.values() if lim.var_eur)}))
        self.service = RiskService(limits, levels, risk.horizon_days, risk.lookback_days, risk.mc_paths, risk.seed)
        self.step, self.tz, self.dt_h = step, tz, step / pd.Timedelta(hours=1)
        self.metrics = metrics or EtrmMetrics()
        for row in published_days(published, tz, step, risk.lookback_days + risk.horizon_days + 1):
            self.service.publish(row)

    def on_day(self, day: DeliveryDay, clearing: Clearing) -> RiskUpdate:
        """Assess the day's awards as positions at its gate, realise them at its prices; the update for the exchange."""
        positions = {
            site: to_local_slots(award * self.dt_h / KWH_PER_MWH, day.start_utc, self.step, self.tz)
            for site, award in clearing.awards_kw.items()
        }
        prices = to_local_slots(clearing.price_eur_per_mwh, day.start_utc, self.step, self.tz, "mean")
        seen = len(self.service.days())
        alerts = self.service.on_day(day.date, positions, prices)
        for d in self.service.days()[seen:]:
            self.metrics.pnl.labels("day-ahead", d.participant).inc(d.realised_pnl_eur)
            for r in d.rows:
                labels = (d.participant, r.method, f"{r.confidence:g}")
                self.metrics.var.labels(*labels).set(r.var_eur)
                self.metrics.es.labels(*labels).set(r.es_eur)
                if r.utilisation_pct is not None and r.method == "historical":
                    self.metrics.utilisation.labels(d.participant, "var").set(r.utilisation_pct)
        return RiskUpdate(self.service.sigma_eur_per_mwh, tuple(alerts))

    def results(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """``risk.parquet`` rows, the alerts and the VaR backtest (Kupiec per participant, method, level)."""
        rows = [
            {"date": d.date, "participant": d.participant, "gross_position_mwh": d.gross_position_mwh,
             "realised_pnl_eur": d.realised_pnl_eur, "method": r.method, "confidence": r.confidence,
             "var_eur": r.var_eur, "es_eur": r.es_eur, "utilisation_pct": r.utilisation_pct}  # fmt: skip
            for d in self.service.days()
            for r in d.rows
        ]
        alerts = [{"date": a.date, "participant": a.participant, "limit": a.limit, "value": a.value,
                   "limit_value": a.limit_value, "message": a.message} for a in self.service.alerts()]  # fmt: skip
        tests = [{"participant": p, "method": m, "confidence": c, "observations": k.observations,
                  "exceedances": k.exceedances, "expected_exceedances": k.expected_exceedances,
                  "lr_statistic": k.lr_statistic, "p_value": k.p_value} for p, m, c, k in self.service.var_backtests()]  # fmt: skip
        return pd.DataFrame(rows), pd.DataFrame(alerts), pd.DataFrame(tests)

    def metrics_text(self) -> bytes:
        """Prometheus exposition of the risk gauges."""
        return self.metrics.text()


RiskActor = ray.remote(RiskDesk)


class RiskClient(ServiceClient):
    """Typed client of one :class:`RiskDesk`."""

    service = RiskDesk
    actor = RiskActor
    on_day = remote(RiskDesk.on_day)
    results = remote(RiskDesk.results)
    metrics_text = remote(RiskDesk.metrics_text)
