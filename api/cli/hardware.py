"""``bess-twin live``, ``modbus-sim``, ``mqtt-sim`` and ``mqtt-broker``: the hardware commands.

Registered on the main app by :mod:`api.cli`. Exit codes as there: 2 for bad
input (before anything starts), 1 for a failure during the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from api.cli.output import EXIT_BAD_INPUT, EXIT_RUN_FAILED, console, fail
from twin.errors import ScenarioError

ScenarioOpt = Annotated[Path | None, typer.Option(help="Scenario whose site's battery to simulate")]
SiteOpt = Annotated[str | None, typer.Option(help="site_id in --scenario")]
SpeedUpOpt = Annotated[float, typer.Option(help="Market seconds per wall-clock second")]
StartOpt = Annotated[str | None, typer.Option(help="Market time at start, ISO 8601 UTC")]
Wall0Opt = Annotated[float | None, typer.Option(help="Wall-clock start (Unix s) shared with a live run")]
SocOpt = Annotated[float | None, typer.Option(help="Start SoC [fraction]")]
StateOpt = Annotated[
    Path | None,
    typer.Option(help="Keep the battery's state in this file and resume from it when it exists"),
]


def _site(scenario: Path | None, site_id: str | None) -> Any:
    """The scenario's site, or a default 200 kWh / 100 kW site."""
    from twin.config import SiteConfig, load_scenario

    if scenario is None:
        return SiteConfig(site_id="sim", battery={"energy_kwh": 200, "p_charge_max_kw": 100,
                                                  "p_discharge_max_kw": 100, "soc_min": 0.1, "soc_max": 0.9})
    sc = load_scenario(scenario, check_files=False)
    by_id = {s.site_id: s for s in sc.sites}
    if site_id is None and len(by_id) == 1:
        return next(iter(by_id.values()))
    if site_id not in by_id:
        raise ScenarioError(f"--site {site_id!r} is not in {scenario}; sites: {', '.join(by_id)}")
    return by_id[site_id]


def _plant(site: Any, speed_up: float, start_utc: str | None, wall0: float | None, soc: float | None,
           state_file: Path | None = None):
    from hardware.clock import VirtualClock
    from hardware.sim_state import load_state
    from hardware.simulated import SimulatedBattery

    if speed_up <= 0:
        raise ScenarioError(f"--speed-up must be positive, got {speed_up}")
    start = dt.datetime.fromisoformat(start_utc) if start_utc else dt.datetime.now(dt.UTC)
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    clock = VirtualClock(start, speed_up, wall0 if wall0 is not None else time.time())
    battery = SimulatedBattery(site.battery, site.dynamics, soc=soc, start_utc=start)
    battery.advance(max(clock.elapsed_s(), 0.0))
    if state_file is not None and load_state(battery, state_file):
        console.print(f"resumed from {state_file}: SoC {battery.soc:.4f}, "
                      f"{battery.temperature_c:.1f} °C, SoH {battery.soh:.4f}")
    return battery, clock


@contextlib.asynccontextmanager
async def _saving(
    battery: Any, clock: Any, state_file: Path | None, lock: Any = None
) -> AsyncIterator[None]:
    """Keep ``state_file`` current while the block runs (nothing without a file)."""
    from hardware.sim_state import keep_saving

    if state_file is None:
        yield
        return
    saver = asyncio.create_task(keep_saving(battery, clock, state_file, lock))
    try:
        yield
    finally:
        saver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await saver


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def modbus_sim(
    port: Annotated[int | None, typer.Option(help="TCP port; default the site's, else 5020")] = None,
    host: Annotated[str | None, typer.Option(help="Interface; default the site's, else 127.0.0.1")] = None,
    profile: Annotated[str | None, typer.Option(help="Register profile name or YAML path")] = None,
    device_id: Annotated[int | None, typer.Option(help="Modbus unit id")] = None,
    scenario: ScenarioOpt = None,
    site: SiteOpt = None,
    soc: SocOpt = None,
    speed_up: SpeedUpOpt = 1.0,
    start_utc: StartOpt = None,
    wall0: Wall0Opt = None,
    state_file: StateOpt = None,
) -> None:
    """Serve a simulated battery over Modbus TCP until Ctrl-C."""
    from hardware.errors import ProfileError
    from hardware.modbus.register_map import load_profile
    from hardware.modbus.server import ModbusBatteryServer

    try:
        cfg = _site(scenario, site)
        dev = cfg.device if cfg.device.kind == "modbus" else None
        prof = load_profile(profile or (dev.profile if dev else "seed"))
        battery, clock = _plant(cfg, speed_up, start_utc, wall0, soc, state_file)
    except (ScenarioError, ProfileError) as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    bind_host = host or (dev.host if dev else "127.0.0.1")
    bind_port = port or (dev.port if dev else 5020)
    unit = device_id if device_id is not None else (dev.device_id if dev else 1)

    async def serve() -> None:
        async with ModbusBatteryServer(battery, prof, clock, host=bind_host, port=bind_port, device_id=unit):
            console.print(f"serving profile [bold]{prof.name}[/] of a {cfg.battery.energy_kwh:g} kWh battery on "
                          f"{bind_host}:{bind_port} (unit {unit}), {speed_up:g}x; Ctrl-C stops")
            async with _saving(battery, clock, state_file):
                await _until_signal()

    try:
        asyncio.run(serve())
    except OSError as err:
        raise fail(f"cannot serve on {bind_host}:{bind_port}: {err}", EXIT_RUN_FAILED) from None


def mqtt_sim(
    port: Annotated[int | None, typer.Option(help="Broker port; default the site's, else 1883")] = None,
    host: Annotated[str | None, typer.Option(help="Broker host; default the site's, else 127.0.0.1")] = None,
    prefix: Annotated[str | None, typer.Option(help="Topic prefix; default the site's")] = None,
    interval_s: Annotated[float, typer.Option(help="Publishing period [s]")] = 0.5,
    scenario: ScenarioOpt = None,
    site: SiteOpt = None,
    soc: SocOpt = None,
    speed_up: SpeedUpOpt = 1.0,
    start_utc: StartOpt = None,
    wall0: Wall0Opt = None,
    state_file: StateOpt = None,
) -> None:
    """Publish a simulated battery on an MQTT broker until Ctrl-C."""
    from hardware.mqtt.sim import MqttBatteryPublisher
    from twin.config.devices import MqttDeviceConfig

    try:
        cfg = _site(scenario, site)
        dev = cfg.device if cfg.device.kind == "mqtt" else MqttDeviceConfig(kind="mqtt")
        dev = dev.model_copy(update={k: v for k, v in
                                     {"host": host, "port": port, "prefix": prefix}.items() if v is not None})
        battery, clock = _plant(cfg, speed_up, start_utc, wall0, soc, state_file)
    except ScenarioError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None

    async def serve() -> None:
        publisher = MqttBatteryPublisher(battery, dev, clock, interval_s=interval_s)
        await publisher.start()
        console.print(f"publishing a {cfg.battery.energy_kwh:g} kWh battery to {dev.host}:{dev.port} "
                      f"under {dev.prefix or '(no prefix)'!r}, {speed_up:g}x; Ctrl-C stops")
        try:
            async with _saving(battery, clock, state_file, publisher.lock):
                await _until_signal()
        finally:
            await publisher.stop()

    asyncio.run(serve())


def mqtt_broker(
    port: Annotated[int, typer.Option(help="TCP port")] = 1883,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
) -> None:
    """Run the embedded amqtt broker until Ctrl-C (for machines without Mosquitto)."""
    from hardware.mqtt.broker import EmbeddedBroker

    broker = EmbeddedBroker(port=port, host=host)
    try:
        broker.start()
    except OSError as err:
        raise fail(str(err), EXIT_RUN_FAILED) from None
    console.print(f"amqtt broker on {host}:{port}; Ctrl-C stops")
    try:
        asyncio.run(_until_signal())
    finally:
        broker.stop()


def _live_table(latest: dict[str, dict[str, Any]], market_utc: str) -> Table:
    table = Table(title=f"bess-twin live  market time {market_utc[:16]} UTC", title_justify="left")
    for column in ("site", "source", "quality", "SoC %", "power kW", "setpoint kW", "temp °C",
                   "price EUR/MWh", "state"):
        table.add_column(column, justify="right" if column not in ("site", "source", "quality", "state") else "left")
    for site_id, row in latest.items():
        quality = row.get("quality") or ""
        colour = {"good": "green", "stale": "yellow", "invalid": "red"}.get(quality, "white")

        def num(key: str, fmt: str, scale: float = 1.0, r: dict = row) -> str:
            value = r.get(key)
            return "-" if value is None else format(value * scale, fmt)

        state = f"[red]SAFE[/] {row.get('safe_reason', '')[:40]}" if row.get("safe") else (
            "[cyan]operator[/]" if row.get("external") else "trading")
        table.add_row(site_id, row.get("source") or "", f"[{colour}]{quality}[/]", num("soc", ".1f", 100),
                      num("power_kw", ".1f"), num("setpoint_kw", ".1f"), num("temperature_c", ".1f"),
                      num("price_eur_per_mwh", ".2f"), state)
    return table


def live(
    scenario: Annotated[Path, typer.Argument(help="Live scenario, e.g. scenarios/live_demo.yaml")],
    runtime: Annotated[str, typer.Option(help="ray (actors) or local (in-process)")] = "ray",
    ray_address: Annotated[str | None, typer.Option(help="Address of a running Ray cluster")] = None,
    duration_h: Annotated[float | None, typer.Option(help="Market hours to run; default the scenario's")] = None,
    speed_up: Annotated[float | None, typer.Option(help="Override live.speed_up")] = None,
    history: Annotated[Path | None, typer.Option(help="Override live.history_path")] = None,
) -> None:
    """Run a fleet live: real Modbus/MQTT traffic, the market replayed at a speed-up."""
    from actors.live.loop import run_live
    from api.cli.children import Children
    from twin.config import load_scenario
    from twin.io.prices import load_prices

    if runtime not in ("ray", "local"):
        raise fail(f"--runtime {runtime!r} is not known; choose ray or local", EXIT_BAD_INPUT)
    try:
        sc = load_scenario(scenario)
        updates = {k: v for k, v in {"duration_h": duration_h, "speed_up": speed_up,
                                     "history_path": history}.items() if v is not None}
        if updates:
            sc = sc.model_copy(update={"live": sc.live.model_validate({**sc.live.model_dump(), **updates})})
        prices = load_prices(sc.market)
    except (ScenarioError, ValueError) as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None

    console.print(f"[bold]{sc.name}[/]: {len(sc.sites)} site(s) "
                  f"({', '.join(f'{s.site_id}={s.device.kind}' for s in sc.sites)}), market {sc.market.zone} "
                  f"at {sc.live.speed_up:g}x, runtime {runtime}; history {sc.live.history_path}; Ctrl-C stops")
    latest: dict[str, dict[str, Any]] = {}

    def on_started(children: list[Any]) -> None:
        for child in children:
            console.print(f"  started {child.name} (pid {child.process.pid}); restart by hand with: "
                          f"{' '.join(child.command)}", highlight=False, soft_wrap=True)

    with Live(_live_table(latest, "-"), console=console, refresh_per_second=4, transient=False) as view:
        def on_tick(rows: list[dict[str, Any]]) -> None:
            for row in rows:
                latest[row["site_id"]] = row
            view.update(_live_table(latest, rows[0]["market_utc"]))

        try:
            children = Children(sc, scenario, on_started=on_started)
            summary = asyncio.run(run_live(sc, prices, runtime=runtime, ray_address=ray_address,
                                           on_tick=on_tick, children=children))
        except (OSError, TimeoutError) as err:
            raise fail(f"live run failed: {err}", EXIT_RUN_FAILED) from None
    console.print()
    console.print(f"{summary.stop_reason}: {summary.ticks} ticks, {summary.rows} rows in {summary.history_path}, "
                  f"market {summary.market_start_utc:%Y-%m-%d %H:%M} to {summary.market_end_utc:%Y-%m-%d %H:%M} UTC "
                  f"in {summary.wall_s:.1f} s")
    if summary.etrm is not None:
        e = summary.etrm
        events = sum(e.get("grid", {}).get("events", {}).values())
        console.print(f"ETRM: {e.get('risk', {}).get('days_assessed', 0)} day(s) assessed, "
                      f"{e.get('risk', {}).get('alerts', 0)} risk alert(s), {e.get('billing', {}).get('invoices', 0)} "
                      f"invoice(s), {events} grid event(s); ledger head {e['ledger']['head'][:16]}... "
                      f"({summary.history_path.parent}/etrm.json)", highlight=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the hardware commands to ``app``."""
    app.command("live")(live)
    app.command("modbus-sim")(modbus_sim)
    app.command("mqtt-sim")(mqtt_sim)
    app.command("mqtt-broker")(mqtt_broker)

