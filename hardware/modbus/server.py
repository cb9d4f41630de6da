"""A simulated battery served over Modbus TCP (pymodbus 3.16 ``SimDevice`` server).

The register map comes from a profile (:mod:`hardware.modbus.register_map`). Every
request first advances the SimPy battery to the current market time, then a
read is answered from the battery's state and a write to the setpoint register
is applied to it. The heartbeat register counts wall-clock seconds while the
server runs; it stops when the battery's values are frozen (fault injection),
so a client can tell a frozen device from a live one.

This uses pymodbus's current server API (``SimData``/``SimDevice`` with an
``action`` callback), not the deprecated datastore classes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from hardware.clock import VirtualClock
from hardware.modbus.register_map import DeviceProfile
from hardware.modbus.tcp import PipelinedTcpServer
from hardware.simulated import Fault, SimulatedBattery

log = logging.getLogger(__name__)

_READ_QUANTITIES = ("soc", "power", "temperature")


class ModbusBatteryServer:
    """Serve one :class:`SimulatedBattery` as a Modbus TCP device.

    Parameters
    ----------
    battery : SimulatedBattery
    profile : DeviceProfile
        Register map to serve.
    clock : VirtualClock
        Market time the battery is advanced to on every request.
    host : str
        Interface to bind (``127.0.0.1`` for loopback, ``0.0.0.0`` for all).
    port : int
        TCP port (502 is the Modbus standard; 5020 needs no privileges).
    device_id : int
        Modbus unit id the device answers to.

    Attributes
    ----------
    writes_applied, writes_rejected, writes_clipped : int
        Setpoint writes taken; refused (not finite, or only part of a
        multi-register setpoint); and clipped to the power rating.
    """

    def __init__(
        self,
        battery: SimulatedBattery,
        profile: DeviceProfile,
        clock: VirtualClock,
        *,
        host: str = "127.0.0.1",
        port: int = 5020,
        device_id: int = 1,
    ) -> None:
        self.battery = battery
        self.profile = profile
        self.clock = clock
        self.host = host
        self.port = port
        self.device_id = device_id
        self.heartbeat = 0
        self.writes_applied = 0
        self.writes_rejected = 0
        self.writes_clipped = 0
        self._server: PipelinedTcpServer | None = None
        self._beat: asyncio.Task[None] | None = None

    def _device(self) -> SimDevice:
        blocks = [
            SimData(
                address=reg.address,
                count=reg.words,
                values=0,
                datatype=DataType.REGISTERS,
                readonly=reg.access == "r",
            )
            for reg in self.profile.registers.values()
        ]
        return SimDevice(id=self.device_id, simdata=blocks, action=self._action)

    def _fill(self, start: int, registers: list[int]) -> None:
        reading = self.battery.telemetry()
        values = {
            "soc": reading.soc,
            "power": reading.power_kw,
            "temperature": reading.temperature_c,
            "setpoint": self.battery.setpoint_kw,
            "heartbeat": float(self.heartbeat),
        }
        for quantity, reg in self.profile.registers.items():
            value = values[quantity]
            if not math.isfinite(value):
                continue  # comm-loss fault: the old registers stay (the client sees the heartbeat stop)
            offset = reg.address - start
            registers[offset : offset + reg.words] = self.profile.encode(quantity, value)

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.battery.advance(self.clock.elapsed_s())
        self._fill(start_address, current_registers)
        if set_values is None:
            return None
        reg = self.profile.registers["setpoint"]
        first, last = reg.address, reg.address + reg.words  # [first, last)
        if address + count <= first or address >= last:
            return None  # does not touch the setpoint; read-only checks are pymodbus's
        if address > first or address + count < last:
            self.writes_rejected += 1
            log.warning("rejected a write to %d of the %d setpoint registers: write all of them "
                        "in one request (fc 16)", count, reg.words)
            return ExcCodes.ILLEGAL_VALUE
        written = [int(v) for v in set_values]
        words = written[first - address : last - address]
        value = self.profile.decode("setpoint", words)
        if not math.isfinite(value):
            self.writes_rejected += 1
            log.warning("rejected setpoint write %r: not a finite number", value)
            return ExcCodes.ILLEGAL_VALUE
        spec = self.battery.spec
        clipped = min(max(value, -spec.p_charge_max_kw), spec.p_discharge_max_kw)
        if clipped != value:
            log.warning("setpoint %.1f kW clipped to the rating: %.1f kW", value, clipped)
            self.writes_clipped += 1
            for i, word in enumerate(self.profile.encode("setpoint", clipped)):
                # the register shows what the plant does (a register write carries ints)
                set_values[first - address + i] = word  # type: ignore[call-overload]
        self.battery.set_setpoint(clipped)
        self.writes_applied += 1
        return None

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if Fault.FROZEN not in self.battery.faults:
                self.heartbeat = (self.heartbeat + 1) % 65536

    async def start(self) -> None:
        """Bind and serve in the background of the running event loop.

        Raises
        ------
        OSError
            If the port cannot be bound.
        """
        self._server = PipelinedTcpServer(
            self._device(), unit_id=self.device_id, address=(self.host, self.port)
        )
        try:
            await self._server.serve_forever(background=True)
        except RuntimeError as err:
            raise OSError(f"cannot listen on {self.host}:{self.port}: {err}") from err
        self._beat = asyncio.create_task(self._heartbeat())

    async def stop(self) -> None:
        """Close the listener and every client connection."""
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
            self._beat = None
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    async def __aenter__(self) -> ModbusBatteryServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
