"""The live twin as the API sees it: the latest state of each site, an event stream, operator setpoints.

``bess-twin serve --live SCENARIO`` runs :func:`actors.live.loop.run_live` in
the server's event loop; every tick's rows land here. Subscribers of the event
stream each get a bounded queue; a subscriber too slow to keep up loses the
oldest events (counted in ``dropped``), never the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from actors.live.etrm import LiveEtrmClient
from actors.live.exchange import LiveExchangeClient
from actors.live.loop import run_live
from actors.live.site import LiveSiteClient
from twin.config import Scenario, SiteConfig

log = logging.getLogger("bess_twin.api")
QUEUE_EVENTS = 1000


class LiveHub:
    """Latest rows, subscribers and the site clients of a live run."""

    def __init__(self, scenario: Scenario, on_row: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.scenario = scenario
        self.on_row = on_row
        self.capacity_kwh = {s.site_id: s.battery.energy_kwh for s in scenario.sites}
        self.latest: dict[str, dict[str, Any]] = {}
        self.sites: dict[str, LiveSiteClient] = {}
        self.etrm: LiveEtrmClient | None = None
        self.exchange: LiveExchangeClient | None = None
        self.devices: dict[str, Any] = {}  # device configurations changed at run time, by site
        self.seq = 0
        self.dropped = 0
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.stop = asyncio.Event()
        self.task: asyncio.Task[Any] | None = None

    def site_config(self, site_id: str) -> SiteConfig:
        """The configuration of ``site_id`` as it runs now (a device changed through the API included)."""
        if site_id in self.devices:
            site = next(s for s in self.scenario.sites if s.site_id == site_id)
            return site.model_copy(update={"device": self.devices[site_id]})
        return next(s for s in self.scenario.sites if s.site_id == site_id)

    async def reconfigure(self, site_id: str, device: Any, user: str) -> None:
        """Switch a running site to a new device configuration.

        Raises
        ------
        ValueError
            If the site is not running or the device cannot be opened.
        """
        client = self.sites.get(site_id)
        if client is None:
            raise ValueError(f"site {site_id} is not running yet")
        await client.reconfigure(device)
        self.devices[site_id] = device
        self.publish("device", site_id, {"kind": device.kind, "by": user})

    def attach(
        self, sites: dict[str, LiveSiteClient], etrm: LiveEtrmClient | None = None, exchange: LiveExchangeClient | None = None
    ) -> None:
        """Keep the started site clients (setpoints, strategy), the ETRM service (risk, credit, grid, invoices) and the exchange."""
        self.sites, self.etrm, self.exchange = sites, etrm, exchange

    def on_tick(self, rows: list[dict[str, Any]]) -> None:
        """Keep each site's latest row and publish it as a ``state`` event."""
        for row in rows:
            self.latest[row["site_id"]] = row
            if self.on_row is not None:
                self.on_row(row)
            self.publish("state", row["site_id"], row)

    def publish(self, kind: str, site_id: str | None, data: dict[str, Any]) -> None:
        """Send one event to every subscriber (the oldest is dropped from a full queue)."""
        self.seq += 1
        event = {"seq": self.seq, "kind": kind, "site_id": site_id, "data": data}
        for queue in self._subscribers:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                    self.dropped += 1
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of every event from now on, for as long as the context lasts."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_EVENTS)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def set_setpoint(self, site_id: str, power_kw: float, user: str) -> float:
        """Send an operator setpoint to a site; returns its lifetime. [s]

        Raises
        ------
        ValueError
            If the site is not running or the power is not finite.
        """
        client = self.sites.get(site_id)
        if client is None:
            raise ValueError(f"site {site_id} is not running yet")
        expires_s = await client.set_setpoint(power_kw)
        self.publish("setpoint", site_id, {"power_kw": power_kw, "expires_in_s": expires_s, "by": user})
        return expires_s

    async def run(self, scenario_path: Path, runtime: str) -> None:
        """Run the live twin until :attr:`stop` is set (started by the app's lifespan)."""
        from api.cli.children import Children
        from twin.io.prices import load_prices

        prices = load_prices(self.scenario.market)
        try:
            await run_live(self.scenario, prices, runtime=runtime, on_tick=self.on_tick,
                           children=Children(self.scenario, scenario_path), stop=self.stop, on_started=self.attach,
                           on_event=self.publish)  # fmt: skip
        except Exception:
            log.exception("the live run stopped with an error")
            raise
