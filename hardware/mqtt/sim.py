"""The device side of MQTT: a simulated battery that publishes telemetry and takes setpoints.

Used by the tests and by the live demo (``bess-twin mqtt-sim``). It publishes
SoC in ``%``, power in ``MW`` and temperature in ``degC`` (the seed's units, so
the EMS side's conversions are exercised) every ``interval_s`` of wall time,
each with the measurement's wall-clock timestamp, and applies valid setpoints
from the commands topic. Faults of the battery show on the wire: communication
loss stops publishing, frozen values repeat the last messages verbatim.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading

import paho.mqtt.client as mqtt

from hardware.clock import VirtualClock
from hardware.mqtt.client import make_client
from hardware.mqtt.codec import SiteTopics, drop_reason, make_payload, parse_payload
from hardware.simulated import Fault, SimulatedBattery
from twin.config.devices import MqttDeviceConfig

log = logging.getLogger(__name__)


class MqttBatteryPublisher:
    """Publish one :class:`SimulatedBattery` on an MQTT broker.

    Parameters
    ----------
    battery : SimulatedBattery
    config : MqttDeviceConfig
        Broker address, prefix, QoS and credentials (the same keys as the EMS side).
    clock : VirtualClock
        Market time the battery is advanced to before each publication.
    interval_s : float
        Wall-clock publishing period. [s]

    Attributes
    ----------
    published : int
        Telemetry messages sent.
    rejected : collections.Counter
        Setpoint messages dropped, by reason.
    """

    def __init__(
        self,
        battery: SimulatedBattery,
        config: MqttDeviceConfig,
        clock: VirtualClock,
        *,
        interval_s: float = 0.2,
        client_id: str | None = None,
    ) -> None:
        self.battery = battery
        self.config = config
        self.clock = clock
        self.interval_s = interval_s
        self.topics = SiteTopics.for_prefix(config.prefix)
        self.published = 0
        self.rejected: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self.lock = self._lock  # held while the battery is advanced or commanded
        self._frozen: list[tuple[str, bytes]] | None = None
        self._client = make_client(
            config, client_id or f"bess-twin-battery-{config.prefix or 'seed'}", self.topics.device_status
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._task: asyncio.Task[None] | None = None

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            return
        client.subscribe(self.topics.setpoint, qos=self.config.qos)
        client.publish(self.topics.device_status, b"online", qos=1, retain=True)

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        try:
            power_kw, _ = parse_payload("setpoint", bytes(message.payload), self.clock.now())
        except Exception as err:  # noqa: BLE001 - a callback must never kill paho's network thread
            reason = drop_reason(err)
            self.rejected[reason] += 1
            log.warning("dropped setpoint on %s: %s", message.topic, reason)
            return
        with self._lock:
            self.battery.advance(self.clock.elapsed_s())
            self.battery.set_setpoint(power_kw)

    def publish_once(self) -> None:
        """Advance the battery to market time now and publish SoC, power and temperature."""
        with self._lock:
            self.battery.advance(self.clock.elapsed_s())
            faults = set(self.battery.faults)
            reading = self.battery.telemetry()
        if Fault.COMM_LOSS in faults:
            return
        if Fault.FROZEN in faults and self._frozen is not None:
            messages = self._frozen
        else:
            now = self.clock.now()  # the run's clock: market time under a replay
            messages = [
                (self.topics.soc, make_payload(reading.soc * 100.0, "%", now)),
                (self.topics.power, make_payload(reading.power_kw / 1000.0, "MW", now)),
                (self.topics.temperature, make_payload(reading.temperature_c, "degC", now)),
            ]
            self._frozen = messages
        for topic, payload in messages:
            self._client.publish(topic, payload, qos=self.config.qos)
            self.published += 1

    async def _run(self) -> None:
        while True:
            if self._client.is_connected():
                self.publish_once()
            await asyncio.sleep(self.interval_s)

    async def start(self) -> None:
        """Connect (with paho's reconnect) and publish in the background."""
        self._client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s)
        self._client.loop_start()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop publishing and disconnect."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._client.publish(self.topics.device_status, b"offline", qos=1, retain=True)
        self._client.disconnect()
        self._client.loop_stop()
