"""Child processes of a live run: device simulators and the MQTT broker.

Each child is an ordinary command (``bess-twin modbus-sim``, ``bess-twin
mqtt-sim``, ``mosquitto`` or ``bess-twin mqtt-broker``) in its own session, so
an operator can kill one and start it again by hand while the fleet runs, and
Ctrl-C in the terminal reaches the live run first, which then stops them.
"""

from __future__ import annotations

import atexit
import subprocess
import sys
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hardware.clock import VirtualClock
from hardware.mqtt.broker import MosquittoBroker, mosquitto_command, wait_for_port
from twin.config import Scenario

CLI = [sys.executable, "-m", "api.cli"]
CHILD_START_TIMEOUT_S = 90.0
"""How long a child may take to listen: a Python process importing the twin on a loaded 2-core machine. [s]"""
_RUNNING: weakref.WeakSet[Child] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    """Stop children still running when the interpreter exits (a run that was cancelled mid-start)."""
    for child in list(_RUNNING):
        child.stop()


@dataclass(eq=False)
class Child:
    """A running child process and the command that restarts it by hand."""

    name: str
    command: list[str]
    host: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self, log_dir: Path) -> None:
        """Start the process (logging to ``log_dir/<name>.log``) and wait for its port."""
        log = (log_dir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _RUNNING.add(self)
        wait_for_port(self.host, self.port, timeout_s=CHILD_START_TIMEOUT_S)

    def stop(self) -> None:
        """Terminate (then kill) the process if it still runs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Children:
    """All children of one live run: planned from the scenario, started on the run's clock.

    Implements ``actors.live.loop.ChildProcesses``.

    Parameters
    ----------
    scenario : Scenario
    scenario_path : Path
        The scenario file; the simulators read their battery from it.
    on_started : callable, optional
        Called once with the started children (the CLI prints their restart commands).
    """

    scenario: Scenario
    scenario_path: Path
    on_started: Callable[[list[Child]], None] | None = None
    items: list[Child] = field(default_factory=list)
    stopped: bool = False
    tmp: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="bess-twin-live-")
    )

    def start(self, clock: VirtualClock, log_dir: Path) -> None:
        """Start every child in order (broker first), each once its predecessor listens."""
        for child in plan_children(self.scenario, self.scenario_path, clock, Path(self.tmp.name)):
            if self.stopped:  # the run stopped while its children were starting in a worker thread
                break
            child.start(log_dir)
            self.items.append(child)
        if self.on_started is not None:
            self.on_started(self.items)

    def stop(self) -> None:
        """Stop every child, newest first (simulators before the broker)."""
        self.stopped = True
        for child in reversed(self.items):
            child.stop()


def _clock_args(clock: VirtualClock) -> list[str]:
    return ["--speed-up", repr(clock.speed_up), "--start-utc", clock.start_utc.isoformat(),
            "--wall0", repr(clock.wall0_unix)]


def plan_children(scenario: Scenario, scenario_path: Path, clock: VirtualClock, tmp: Path) -> list[Child]:
    """The children a live scenario needs, in start order (broker first)."""
    children: list[Child] = []
    mqtt_ports = set()
    for site in scenario.sites:
        device = site.device
        spawn = getattr(device, "simulator", None)
        if spawn is None or not spawn.spawn:
            continue
        common = ["--scenario", str(scenario_path), "--site", site.site_id, *_clock_args(clock),
                  "--state-file", str(tmp / f"{site.site_id}.sim-state.json")]
        if spawn.soc_initial is not None:
            common += ["--soc", repr(spawn.soc_initial)]
        if device.kind == "modbus":
            children.append(Child(f"modbus-sim-{site.site_id}", [*CLI, "modbus-sim", *common],
                                  device.host, device.port))
        elif device.kind == "mqtt":
            mqtt_ports.add((device.host, device.port))
            children.append(Child(f"mqtt-sim-{site.site_id}", [*CLI, "mqtt-sim", *common],
                                  device.host, device.port))
    brokers: list[Child] = []
    kind = scenario.live.mqtt_broker
    if kind == "auto":
        kind = "mosquitto" if MosquittoBroker.available() else "amqtt"
    for host, port in sorted(mqtt_ports) if kind != "none" else []:
        if kind == "mosquitto":
            command = mosquitto_command(host, port, tmp)
        else:
            command = [*CLI, "mqtt-broker", "--host", host, "--port", str(port)]
        brokers.append(Child(f"mqtt-broker-{port}", command, host, port))
    return brokers + children
