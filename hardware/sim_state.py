"""A simulator's state on disk, so a restarted simulator resumes where it stopped.

``bess-twin modbus-sim`` / ``mqtt-sim --state-file F`` write the battery's
state (SoC, stored energy, temperature, state of health, ageing and energy
counters) to ``F`` every second and on exit, atomically (write a temporary
file, then rename), and resume from ``F`` when it exists. A live run passes a
state file per simulator, so the restart command it prints continues the
battery instead of starting it again at its initial SoC.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
from pathlib import Path

from hardware.clock import VirtualClock
from hardware.simulated import SimulatedBattery

log = logging.getLogger(__name__)

FIELDS = ("capacity_kwh", "energy_kwh", "temperature_c", "soh", "equivalent_days", "energy_charged_kwh",
          "energy_discharged_kwh", "energy_lost_kwh")
"""What a state file holds (units in the names; ``soh`` a fraction)."""


def save_state(battery: SimulatedBattery, path: Path) -> None:
    """Write ``battery``'s state to ``path`` atomically."""
    snapshot = battery.snapshot()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(snapshot), encoding="utf-8")
    tmp.replace(path)


def load_state(battery: SimulatedBattery, path: Path) -> bool:
    """Resume ``battery`` from ``path``; False (and a warning) when there is nothing usable.

    A missing file means a first start; a file that does not parse, lacks a
    field or holds a value outside the battery's ranges is ignored with a
    warning, and the battery keeps its initial state.
    """
    if not path.is_file():
        return False
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        snapshot = {name: float(raw[name]) for name in FIELDS}
        if not all(math.isfinite(v) for v in snapshot.values()):
            raise ValueError("a value is not finite")
        battery.restore(snapshot)
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("state file %s not used (%s); starting from the initial state", path, err)
        return False
    return True


async def keep_saving(
    battery: SimulatedBattery,
    clock: VirtualClock,
    path: Path,
    lock: threading.Lock | None = None,
    every_s: float = 1.0,
) -> None:
    """Save the state every ``every_s`` wall seconds until cancelled, then once more.

    The battery is first advanced to ``clock``'s market time, so the file holds
    the state now, not at the last Modbus request or MQTT message.
    """
    guard = lock if lock is not None else contextlib.nullcontext()

    def _save() -> None:
        with guard:
            battery.advance(max(clock.elapsed_s(), 0.0))
            save_state(battery, path)

    try:
        while True:
            await asyncio.sleep(every_s)
            _save()
    finally:
        _save()
