"""A battery behind Modbus TCP, read and commanded through a register profile.

Uses pymodbus's async client: its timeout, retries and reconnect back-off are
configured from the scenario (``device: {kind: modbus, ...}``). A failed read
never returns an old value: it returns ``stale`` telemetry with the reason. A
heartbeat register that stops counting marks the readings ``stale`` as well
(the device answers, but its values are frozen).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from hardware.clock import VirtualClock
from hardware.errors import DeviceConnectionError, DeviceError
from hardware.modbus.register_map import DeviceProfile, load_profile
from hardware.protocol import Quality, Telemetry, TelemetrySource, unavailable
from twin.config.devices import ModbusDeviceConfig


class ModbusDevice:
    """:class:`~hardware.protocol.BatteryDevice` over Modbus TCP.

    Parameters
    ----------
    config : ModbusDeviceConfig
        Host, port, unit id, profile, timeouts and back-off.
    profile : DeviceProfile, optional
        Register map; default loaded from ``config.profile``.
    heartbeat_timeout_s : float
        Readings are ``stale`` when the heartbeat register has not changed for
        this long (wall clock). [s]
    clock : VirtualClock, optional
        The run's clock that readings are stamped with; default the wall clock.
    monotonic : callable
        Clock in seconds for the heartbeat timeout (tests pass a fake one).

    Attributes
    ----------
    reads_failed : int
        Reads that returned ``stale`` because the device did not answer.
    """

    source = TelemetrySource.MODBUS

    def __init__(
        self,
        config: ModbusDeviceConfig,
        profile: DeviceProfile | None = None,
        *,
        heartbeat_timeout_s: float = 5.0,
        clock: VirtualClock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._clock = clock
        self._monotonic = monotonic
        self.profile = profile or load_profile(config.profile)
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self._client = AsyncModbusTcpClient(
            config.host,
            port=config.port,
            timeout=config.timeout_s,
            retries=config.retries,
            reconnect_delay=config.reconnect_delay_s,
            reconnect_delay_max=config.reconnect_delay_max_s,
        )
        self._span = self.profile.read_span()
        self._heartbeat: float | None = None
        self._heartbeat_changed = monotonic()
        self.reads_failed = 0

    @classmethod
    def from_site(cls, site, clock=None, **_: object) -> ModbusDevice:
        """Build from a :class:`~twin.config.SiteConfig` (registry factory)."""
        return cls(site.device, heartbeat_timeout_s=site.safety.stale_after_s, clock=clock)

    @property
    def _where(self) -> str:
        return f"modbus {self.config.host}:{self.config.port} unit {self.config.device_id}"

    async def _connected(self) -> None:
        if self._client.connected:
            return
        if not await self._client.connect():
            raise DeviceConnectionError("connection refused or timed out")

    async def read_telemetry(self) -> Telemetry:
        """Read every mapped register in one request and decode it."""
        first, count = self._span
        read = (
            self._client.read_holding_registers
            if self.profile.function == "holding"
            else self._client.read_input_registers
        )
        try:
            await self._connected()
            response = await read(first, count=count, device_id=self.config.device_id)
        except (TimeoutError, ModbusException, DeviceError, OSError) as err:
            self.reads_failed += 1
            return unavailable(self.source, f"{self._where}: {err}")
        if response.isError():
            self.reads_failed += 1
            return unavailable(self.source, f"{self._where}: exception response {response}")
        values = self.profile.decode_block(first, response.registers)
        reading = Telemetry(
            timestamp=self._clock.now() if self._clock is not None else dt.datetime.now(dt.UTC),
            soc=values["soc"],
            power_kw=values["power"],
            temperature_c=values["temperature"],
            source=self.source,
        )
        if "heartbeat" in values:
            now = self._monotonic()
            if values["heartbeat"] != self._heartbeat:
                self._heartbeat, self._heartbeat_changed = values["heartbeat"], now
            elif now - self._heartbeat_changed > self.heartbeat_timeout_s:
                return reading.degraded(
                    Quality.STALE,
                    f"{self._where}: heartbeat frozen for {now - self._heartbeat_changed:.1f} s",
                )
        return reading

    async def write_setpoint(self, power_kw: float) -> None:
        """Write the setpoint register(s).

        Raises
        ------
        DeviceError
            If the value does not fit the register, or the device is unreachable
            or answers with an exception.
        """
        reg = self.profile.registers["setpoint"]
        try:
            words = self.profile.encode("setpoint", power_kw)
        except ValueError as err:
            raise DeviceError(f"{self._where}: {err}") from None
        try:
            await self._connected()
            response = await self._client.write_registers(
                reg.address, words, device_id=self.config.device_id
            )
        except (TimeoutError, ModbusException, OSError) as err:
            raise DeviceConnectionError(f"{self._where}: setpoint write failed: {err}") from err
        if response.isError():
            raise DeviceError(f"{self._where}: setpoint write refused: {response}")

    async def close(self) -> None:
        """Close the TCP connection."""
        self._client.close()
