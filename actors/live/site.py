"""Live site actor: the EMS of one site against a real (or simulated) device.

Each control tick reads the device through the safety guard, re-plans the
dispatch from the measured SoC whenever a new market time unit (MTU) starts,
and writes the guarded setpoint of the current MTU. The device comes from the
registry, so the same code drives a SimPy battery, a Modbus device or an MQTT
device.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections import deque
from typing import Any

import numpy as np
import pandas as pd
import ray

from actors.client import ServiceClient, remote_async
from hardware.clock import VirtualClock
from hardware.errors import DeviceError
from hardware.protocol import BatteryDevice
from hardware.registry import open_device
from hardware.safety import DeviceGuard
from twin.config import SiteConfig, StrategyConfig
from twin.ems.live_strategy import LiveStrategy
from twin.errors import TwinError

log = logging.getLogger(__name__)
OPTIMISATIONS_KEPT = 1000


class LiveSiteService:
    """EMS of one site in a live run.

    Parameters
    ----------
    site : SiteConfig
    strategy : StrategyConfig
    dt_h : float
        Market time unit. [h]
    n_horizon : int
        Planning horizon in MTUs.
    clock : VirtualClock
        The fleet's market clock.
    """

    def __init__(
        self,
        site: SiteConfig,
        strategy: StrategyConfig,
        dt_h: float,
        n_horizon: int,
        clock: VirtualClock,
    ) -> None:
        self.site = site
        self.dt_h = dt_h
        self.clock = clock
        self.strategy = LiveStrategy(site, strategy, n_horizon, dt_h)
        self.traded_kw: dict[Any, float] = {}  # MTU start (UTC) -> power the site's trades add [kW]
        self.device: BatteryDevice | None = None
        self.guard: DeviceGuard | None = None
        self.replans = 0
        self.optimisations: deque[dict[str, Any]] = deque(maxlen=OPTIMISATIONS_KEPT)
        self._plan_start: Any = None
        self._replan_due = False
        self._plan_kw: np.ndarray | None = None
        self._plan_soc = np.zeros(0)
        self._plan_prices = np.zeros(0)
        self._plan_known = 0
        self._io = asyncio.Lock()  # one device exchange at a time: a tick never overlaps stop()
        self.stopped = False

    async def start(self) -> str:
        """Open the device (inside the actor's event loop); returns its kind."""
        self.device = open_device(self.site, self.clock)
        self.guard = DeviceGuard(
            self.device, self.site.battery, self.site.safety, clock=self.clock.now
        )
        return self.site.device.kind

    def _planned_kw(self, mtu_start: Any) -> float:
        if self._plan_kw is None or self._plan_start is None:
            return 0.0
        offset = round((mtu_start - self._plan_start).total_seconds() / (self.dt_h * 3600.0))
        return float(self._plan_kw[offset]) if 0 <= offset < len(self._plan_kw) else 0.0

    def _schedule_kw(self, mtu_start: Any) -> float:
        """Plan plus the site's trades in the MTU, within the power limits (the pre-trade check kept it deliverable)."""
        b = self.site.battery
        total = self._planned_kw(mtu_start) + self.traded_kw.get(mtu_start, 0.0)
        return min(max(total, -b.p_charge_max_kw), b.p_discharge_max_kw)

    def _replan(self, window: dict) -> None:
        reading = self.guard.last_good if self.guard else None
        prices = window["price_eur_per_mwh"]
        if reading is None or not np.isfinite(prices).all():
            return
        previous_kw = reading.power_kw if np.isfinite(reading.power_kw) else 0.0
        try:
            result = self.strategy.plan(prices, reading.soc, previous_kw)
        except (TwinError, ValueError) as err:
            log.warning("%s: re-plan failed, keeping the previous plan: %s", self.site.site_id, err)
            return
        self._plan_kw, self._plan_start = result.power_kw.copy(), window["mtu_start_utc"]
        self._replan_due = False
        for past in [t for t in self.traded_kw if t < self._plan_start]:  # delivered: no longer part of any schedule
            del self.traded_kw[past]
        self._plan_soc = result.energy_kwh[1:] / self.site.battery.energy_kwh
        self._plan_prices, self._plan_known = np.asarray(prices, dtype=float).copy(), int(window.get("known_steps", 0))
        self.replans += 1
        n_day = round(24 / self.dt_h)
        self.optimisations.append({
            "market_utc": self.clock.now().isoformat(), "mtu_start_utc": str(window["mtu_start_utc"]),
            "strategy": self.strategy.kind, "auto": self.strategy.auto, "soc": float(reading.soc),
            "expected_revenue_24h_eur": float(self._plan_prices[:n_day] @ self._plan_kw[:n_day]) * self.dt_h / 1000.0,
            "values_eur": dict(self.strategy.values_eur), "published_steps": self._plan_known,
        })  # fmt: skip

    async def tick(self, window: dict) -> dict[str, Any]:
        """One control step: read, re-plan on a new MTU, write the guarded setpoint.

        Parameters
        ----------
        window : dict
            The market's price window (see ``LiveMarketService.window``).

        Returns
        -------
        dict
            One history row (see ``twin.io.history.COLUMNS``).
        """
        assert self.guard is not None, "call start() first"
        async with self._io:
            if self.stopped:  # a tick that was in flight when stop() ran writes nothing
                return self._row("tick skipped: site stopped")
            reading = await self.guard.read()
            if window["mtu_start_utc"] != self._plan_start or self._plan_kw is None or self._replan_due:
                self._replan(window)
            schedule_kw = 0.0 if self.guard.safe else self._schedule_kw(window["mtu_start_utc"])
            state = await self.guard.apply(schedule_kw)
        return self._row(
            "tick",
            soc=_finite_or_none(reading.soc),
            power_kw=_finite_or_none(reading.power_kw),
            temperature_c=_finite_or_none(reading.temperature_c),
            source=str(reading.source),
            quality=str(reading.quality),
            reason=reading.reason,
            schedule_kw=schedule_kw,
            setpoint_kw=state.setpoint_kw,
            commanded_kw=state.commanded_kw,
            setpoint_confirmed=int(state.confirmed),
            external=int(state.external),
            safe=int(state.safe),
            safe_reason=state.reason,
            price_eur_per_mwh=float(window["price_eur_per_mwh"][0]),
            replans=self.replans,
            rejected=sum(self.guard.rejected.values()),
            strategy=self.strategy.kind,
            traded_kw=self.traded_kw.get(window["mtu_start_utc"], 0.0),
        )

    async def plan(self) -> dict[str, Any] | None:
        """The current plan: from which MTU, power, trades and SoC per MTU, the prices it used (published, then forecast)."""
        if self._plan_kw is None or self._plan_start is None:
            return None
        step = pd.Timedelta(hours=self.dt_h)
        traded = [self.traded_kw.get(self._plan_start + i * step, 0.0) for i in range(len(self._plan_kw))]
        return {
            "mtu_start_utc": str(self._plan_start), "dt_h": self.dt_h, "power_kw": self._plan_kw.tolist(), "traded_kw": traded,
            "soc": self._plan_soc.tolist(), "price_eur_per_mwh": self._plan_prices.tolist(),
            "published_steps": self._plan_known, "strategy": self.strategy.kind,
        }  # fmt: skip

    async def optimisation_history(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` re-plans, newest first: when, from which SoC, with which strategy, what it expected."""
        return list(self.optimisations)[::-1][:limit]

    async def strategy_state(self) -> dict[str, Any]:
        """The strategy in force, whether auto mode chooses it, what is available and the last forecast values."""
        s = self.strategy
        return {"strategy": s.kind, "auto": s.auto, "available": s.available(), "candidates": s.candidates(),
                "values_eur": dict(s.values_eur), "switch_threshold": s.strategy.switch_threshold}  # fmt: skip

    async def set_strategy(self, kind: str) -> dict[str, Any]:
        """Plan with ``kind`` from now on (auto mode off): the site re-plans at once.

        Raises
        ------
        ValueError
            If ``kind`` does not apply to this site.
        """
        self.strategy.set(kind)
        self._replan_due = True  # the next tick re-plans
        return await self.strategy_state()

    async def set_auto(self, enabled: bool) -> dict[str, Any]:
        """Switch auto mode on or off; on re-plans at once."""
        self.strategy.set_auto(enabled)
        if enabled:
            self._replan_due = True
        return await self.strategy_state()

    async def add_trades(self, trades_kw: dict[str, float]) -> None:
        """Add the power of new internal-exchange trades to the MTUs they deliver in. [kW by UTC MTU start]"""
        for start, power_kw in trades_kw.items():
            key = pd.Timestamp(start).tz_convert("UTC")
            self.traded_kw[key] = self.traded_kw.get(key, 0.0) + float(power_kw)

    async def trading_state(self) -> dict[str, Any]:
        """The plan as the exchange's pre-trade check reads it: SoC at each MTU start and base power. [fraction, kW]"""
        if self._plan_kw is None or self._plan_start is None:
            return {"mtu_start_utc": None, "soc_start": [], "base_power_kw": []}
        step = pd.Timedelta(hours=self.dt_h)
        starts = [self._plan_start + i * step for i in range(len(self._plan_kw))]
        soc_start = [self.guard.last_good.soc if self.guard and self.guard.last_good else float("nan"),
                     *self._plan_soc[:-1].tolist()]  # fmt: skip
        base = [self._plan_kw[i] + self.traded_kw.get(s, 0.0) for i, s in enumerate(starts)]
        return {"mtu_start_utc": [str(s) for s in starts], "soc_start": soc_start, "base_power_kw": base}

    async def push_telemetry(self, body: Any) -> float:
        """A REST telemetry push for this site's device; returns the setpoint for the device. [kW]

        Raises
        ------
        ValueError
            If the site's device is not a REST device, or the body does not validate.
        """
        from hardware.rest import RestDevice

        if not isinstance(self.device, RestDevice):
            raise ValueError(f"site {self.site.site_id} has no REST telemetry device (device.kind: rest)")
        return self.device.push(body)

    async def set_setpoint(self, power_kw: float) -> float:
        """An operator setpoint that overrides the schedule until it expires; returns its lifetime. [kW, s]

        Raises
        ------
        ValueError
            If ``power_kw`` is not finite, or the site has not started.
        """
        if self.guard is None or self.stopped:
            raise ValueError(f"site {self.site.site_id} is not running")
        self.guard.set_external(power_kw)
        return float(self.site.safety.external_setpoint_expiry_s)

    async def reconfigure(self, device: Any) -> str:
        """Switch to a new device configuration at run time; returns its kind.

        The old device is commanded 0 kW (best effort) and closed, the new one
        opened with a fresh guard: the site reads as starting until its first good
        reading, and a device that does not answer holds it safe.

        Raises
        ------
        ValueError
            If the site has stopped or the new device cannot be opened.
        """
        async with self._io:
            if self.stopped or self.device is None:
                raise ValueError(f"site {self.site.site_id} is not running")
            site = self.site.model_copy(update={"device": device})
            try:
                new = open_device(site, self.clock)
            except (TwinError, DeviceError, OSError, ValueError) as err:
                raise ValueError(f"site {self.site.site_id}: cannot open the new device: {err}") from None
            try:
                await self.device.write_setpoint(0.0)
            except (DeviceError, OSError) as err:
                log.warning("%s: could not command 0 kW before switching devices: %s", self.site.site_id, err)
            await self.device.close()
            self.site, self.device = site, new
            self.guard = DeviceGuard(new, site.battery, site.safety, clock=self.clock.now)
            return site.device.kind

    async def stop(self) -> dict[str, Any]:
        """Command 0 kW, close the device and return the final history row.

        Waits for a tick in flight to finish; no setpoint follows the 0 kW.
        """
        setpoint_ok = False
        async with self._io:
            self.stopped = True
            if self.device is not None:
                try:
                    await self.device.write_setpoint(0.0)
                    setpoint_ok = True
                except (DeviceError, OSError) as err:
                    log.warning("%s: could not command 0 kW on stop: %s", self.site.site_id, err)
                await self.device.close()
        return self._row(
            "stopped" if setpoint_ok else "stopped (0 kW not confirmed)",
            setpoint_kw=0.0 if setpoint_ok else None,
            commanded_kw=0.0,
            setpoint_confirmed=int(setpoint_ok),
            replans=self.replans,
            rejected=sum(self.guard.rejected.values()) if self.guard else 0,
        )

    def _row(self, event: str, **fields: Any) -> dict[str, Any]:
        """One history row of this site (see ``twin.io.history.COLUMNS``), stamped now."""
        return {
            "wall_utc": dt.datetime.now(dt.UTC).isoformat(),
            "market_utc": self.clock.now().isoformat(),
            "site_id": self.site.site_id,
            **fields,
            "event": event,
        }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


LiveSiteActor = ray.remote(LiveSiteService)


class LiveSiteClient(ServiceClient):
    """Typed client of one :class:`LiveSiteService`; its methods are awaited."""

    service = LiveSiteService
    actor = LiveSiteActor
    start = remote_async(LiveSiteService.start)
    tick = remote_async(LiveSiteService.tick)
    stop = remote_async(LiveSiteService.stop)
    set_setpoint = remote_async(LiveSiteService.set_setpoint)
    push_telemetry = remote_async(LiveSiteService.push_telemetry)
    plan = remote_async(LiveSiteService.plan)
    strategy_state = remote_async(LiveSiteService.strategy_state)
    optimisation_history = remote_async(LiveSiteService.optimisation_history)
    set_strategy = remote_async(LiveSiteService.set_strategy)
    set_auto = remote_async(LiveSiteService.set_auto)
    add_trades = remote_async(LiveSiteService.add_trades)
    trading_state = remote_async(LiveSiteService.trading_state)
    reconfigure = remote_async(LiveSiteService.reconfigure)

