"""Live ETRM: the risk, credit, billing and grid services of a live run, on their own cadence.

* every tick: the grid service reads the frequency (an MQTT topic, or a replay
  of recorded samples on the market clock) and each site's metered exchange
  with the grid, and keeps frequency and constraint events;
* every market day (when the market clock crosses local midnight, and at the
  end of the run for the part-day): the day's ticks are averaged per MTU into
  each site's schedule and metered power; the schedule is valued at the
  day-ahead price and the deviation at the same price (a live run has no
  imbalance prices), and the day goes through the same risk, credit and
  billing services as a backtest day. Each closed day's awards, and each
  invoice with its settlement, are appended to the ledger as they happen.

Results go next to the live history: ``risk.parquet``, ``credit.parquet``,
``grid_events.parquet``, ``invoices/``, ``invoices.csv``, ``ledger.sqlite``.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import ray

from actors.client import ServiceClient, remote_async
from actors.etrm.billing import settlement_rows
from actors.etrm.services import EtrmDesks, grid_service
from twin.backtest.clock import DeliveryDay
from twin.backtest.site_day import SiteDay
from twin.config import Scenario
from twin.etrm.ledger import Ledger
from twin.etrm.run_files import EtrmResults, append_invoice, award_payloads, write_tables
from twin.grid.frequency import FrequencyReplay
from twin.markets.day_ahead import Clearing
from twin.units import KWH_PER_MWH

log = logging.getLogger(__name__)


class LiveEtrmService:
    """ETRM of a live run (see the module docstring).

    Parameters
    ----------
    scenario : Scenario
    published : pd.Series
        Day-ahead prices published before the run (risk and credit history). [EUR/MWh]
    step : pd.Timedelta
        Market time unit.
    out_dir : Path
        Folder of the live history; the ETRM files go there.
    start_utc : datetime.datetime
        Market time of the run's start (replay time 0 of a frequency file).
    replay : FrequencyReplay, optional
        Recorded frequency to replay when no MQTT topic is configured.
    """

    def __init__(
        self, scenario: Scenario, published: pd.Series, step: pd.Timedelta, out_dir: Path,
        start_utc: dt.datetime, replay: FrequencyReplay | None = None,
    ) -> None:  # fmt: skip
        etrm = scenario.etrm
        self.tz, self.step, self.out_dir = scenario.market.timezone, step, Path(out_dir)
        self.dt_h = step / pd.Timedelta(hours=1)
        site_ids = [s.site_id for s in scenario.sites]
        desks = EtrmDesks(etrm, site_ids, published, step, self.tz, site_ids, None)  # one metrics registry for all
        self.metrics, self.risk, self.credit, self.billing = desks.metrics, desks.risk, desks.credit, desks.billing
        self.pdf = etrm.billing.pdf
        f = etrm.grid.frequency
        self.grid = grid_service(scenario, None, None) if etrm.grid.enabled else None  # live: readings come by tick
        self.replay, self.start_utc = replay, pd.Timestamp(start_utc)
        self.mqtt: Any = None
        if self.grid is not None and f is not None and f.mqtt_topic is not None:
            from hardware.mqtt.frequency import MqttFrequency
            from twin.config.devices import MqttDeviceConfig

            self.mqtt = MqttFrequency(f.mqtt_broker or MqttDeviceConfig(kind="mqtt"), f.mqtt_topic)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(self.out_dir / "ledger.sqlite")
        self._day: dt.date | None = None
        self._rows: list[dict[str, Any]] = []
        self._invoices: list[dict[str, Any]] = []
        self.frequency_hz: float | None = None

    def _frequency(self, now: pd.Timestamp) -> float | None:
        if self.mqtt is not None:
            return self.mqtt.latest()
        if self.replay is not None:
            return self.replay.at((now - self.start_utc).total_seconds())
        return None

    def on_tick(self, rows: list[dict[str, Any]], now_utc: dt.datetime) -> list[dict[str, Any]]:
        """Take one tick's history rows at market time ``now_utc``; returns the grid events that ended (alerts)."""
        now = pd.Timestamp(now_utc)
        ended = []
        if self.grid is not None:
            self.frequency_hz = self._frequency(now)
            if self.frequency_hz is not None:
                self.metrics.frequency.set(self.frequency_hz)
            grid = {r["site_id"]: -float(r["power_kw"]) for r in rows if r.get("power_kw") is not None}
            ended = self.grid.observe(now, self.frequency_hz, grid)
            for e in ended:
                self.metrics.grid_events.labels(e.kind, e.level).inc()
                log.warning("grid event: %s", e.message)
        date = now.tz_convert(self.tz).date()
        if self._day is not None and date != self._day:
            self._close_day()
        self._day = date
        self._rows += [r for r in rows if r.get("event") == "tick"]
        return [{**e.__dict__, "start_utc": e.start_utc.isoformat(), "end_utc": e.end_utc.isoformat()} for e in ended]

    def _close_day(self) -> None:
        """Settle the buffered day through risk, credit and billing; append it to the ledger."""
        rows, self._rows = self._rows, []
        if not rows or self._day is None:
            return
        date = self._day
        start = pd.Timestamp(date).tz_localize(self.tz).tz_convert("UTC")
        end = pd.Timestamp(date + dt.timedelta(days=1)).tz_localize(self.tz).tz_convert("UTC")
        mtus = pd.date_range(start, end, freq=self.step, inclusive="left")
        n = len(mtus)
        frame = pd.DataFrame(rows)
        frame["mtu"] = pd.to_datetime(frame["market_utc"], utc=True).dt.floor(self.step)
        means = frame.groupby(["site_id", "mtu"])[["power_kw", "schedule_kw", "price_eur_per_mwh", "soc", "temperature_c"]].mean()
        price = frame.groupby("mtu")["price_eur_per_mwh"].mean().reindex(mtus).fillna(0.0).to_numpy()
        site_days = []
        for site_id in sorted(frame["site_id"].unique()):
            part = means.loc[site_id].reindex(mtus)
            schedule = part["schedule_kw"].fillna(0.0).to_numpy()
            power = part["power_kw"].fillna(0.0).to_numpy()
            deviation_kwh = (power - schedule) * self.dt_h
            da = price * schedule * self.dt_h / KWH_PER_MWH
            imbalance = deviation_kwh / KWH_PER_MWH * price
            site_days.append(SiteDay(
                site_id=str(site_id), delivery_date=date, schedule_kw=schedule, power_kw=power,
                energy_kwh=np.full(n, np.nan), soc=part["soc"].to_numpy(), revenue_eur=da + imbalance,
                day_ahead_revenue_eur=da, imbalance_kwh=deviation_kwh, imbalance_price_eur_per_mwh=price,
                imbalance_eur=imbalance, temperature_c=part["temperature_c"].to_numpy(), soh=np.full(n, np.nan),
                forecast_eur_per_mwh=np.full(n, np.nan), used_milp=False, day_ahead_kw=schedule,
                intraday_kw=np.zeros(n), intraday_revenue_eur=np.zeros(n), fees_eur=np.zeros(n),
            ))  # fmt: skip
        day = DeliveryDay(date, start, end, pd.Timestamp(start) - pd.Timedelta(hours=12), 0, n, 0)
        clearing = Clearing(date, price, {d.site_id: d.day_ahead_kw for d in site_days})
        if self.risk is not None:
            self.risk.on_day(day, clearing)
        if self.credit is not None:
            self.credit.on_day(day, clearing, 0, *site_days)
        self.ledger.begin()
        settlement = settlement_rows(day, self.step, tuple(site_days))
        sites = settlement.assign(price_eur_per_mwh=np.tile(price, len(site_days)))
        for payload in award_payloads(sites, self.tz).get(date, []):
            self.ledger.append("day_ahead_award", payload)
        if self.billing is not None:
            self._book(self.billing.service.on_day(date, settlement))
        self.ledger.commit()

    def _book(self, issued: list[Any]) -> None:
        folder = self.out_dir / "invoices" if self.pdf else None
        if folder is not None and issued:
            folder.mkdir(exist_ok=True)
        for inv in issued:
            self._invoices.append(append_invoice(self.ledger, inv, folder))
            self.metrics.invoices.inc()

    def close(self) -> dict[str, Any]:
        """Close the part-day, the billing period and open events; write the files; the ``etrm`` summary."""
        self._close_day()
        if self.billing is not None:
            self.ledger.begin()
            self._book(self.billing.service.close())
            self.ledger.commit()
        if self.grid is not None:
            self.grid.flush()
        risk = self.risk.results() if self.risk is not None else (None, None, None)
        events = pd.DataFrame([e.__dict__ for e in self.grid.events()]) if self.grid is not None else None
        results = EtrmResults(risk[0], risk[1], risk[2], self.credit.results() if self.credit is not None else None,
                              None, events, self.replay is not None and self.mqtt is None)  # fmt: skip
        summary = write_tables(results, self.out_dir)
        if self.billing is not None:
            pd.DataFrame(self._invoices).to_csv(self.out_dir / "invoices.csv", index=False)
            summary["billing"] = {"invoices": len(self._invoices)}
        summary["ledger"] = {"file": "ledger.sqlite", "entries": self.ledger.entries, "head": self.ledger.head}
        self.ledger.close()
        if self.mqtt is not None:
            self.mqtt.close()
        return summary

    def snapshot(self) -> dict[str, Any]:
        """What the services hold now, for the API: latest VaR rows per participant, exposures, events, invoices."""
        risk_rows: list[dict[str, Any]] = []
        if self.risk is not None:
            days = self.risk.service.days()
            latest = {d.participant: d for d in days}
            risk_rows = [
                {"participant": d.participant, "date": str(d.date), "method": r.method, "confidence": r.confidence,
                 "var_eur": r.var_eur, "es_eur": r.es_eur, "utilisation_pct": r.utilisation_pct,
                 "gross_position_mwh": d.gross_position_mwh, "realised_pnl_eur": d.realised_pnl_eur}  # fmt: skip
                for d in latest.values()
                for r in d.rows
            ]
        credit_rows = []
        if self.credit is not None:
            rows = self.credit.service.rows()
            last = {r.counterparty: r for r in rows}
            credit_rows = [{**r.__dict__, "date": str(r.date)} for r in last.values()]
        events = [
            {**e.__dict__, "start_utc": e.start_utc.isoformat(), "end_utc": e.end_utc.isoformat()}
            for e in (self.grid.events()[-200:] if self.grid is not None else [])
        ]
        return {"risk": risk_rows, "credit": credit_rows, "grid_events": events, "invoices": list(self._invoices),
                "frequency_hz": self.frequency_hz, "ledger": {"entries": self.ledger.entries, "head": self.ledger.head},
                "invoice_dir": str(self.out_dir / "invoices")}  # fmt: skip

    def metrics_text(self) -> bytes:
        """Prometheus exposition of every ETRM gauge of the run."""
        return self.metrics.text()


LiveEtrmActor = ray.remote(LiveEtrmService)


class LiveEtrmClient(ServiceClient):
    """Typed client of the :class:`LiveEtrmService`."""

    service = LiveEtrmService
    actor = LiveEtrmActor
    on_tick = remote_async(LiveEtrmService.on_tick)
    close = remote_async(LiveEtrmService.close)
    snapshot = remote_async(LiveEtrmService.snapshot)
    metrics_text = remote_async(LiveEtrmService.metrics_text)
