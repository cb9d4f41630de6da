"""A battery behind MQTT (paho-mqtt 2.x): telemetry subscribed, setpoints published.

One broker can serve many sites: each site's topics sit under its own prefix
(:class:`~hardware.mqtt.codec.SiteTopics`). The client connects with QoS 1, a
retained last will on ``<prefix>/status/ems`` and paho's automatic reconnect
with back-off; username/password and TLS are optional.

A reading is ``stale`` when any of the three quantities is missing, arrived
longer than ``stale_after_s`` ago (host monotonic clock: a device whose own
clock is off still reads fresh), or the broker connection is down. The device's
timestamps are passed on for plausibility checks (``hardware.safety``).
Malformed messages, whatever they raise, are counted per reason, logged and
dropped; they never overwrite the last good value nor stop paho's network
thread.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import math
import threading
import time
import uuid

import paho.mqtt.client as mqtt

from hardware.clock import VirtualClock
from hardware.errors import DeviceConnectionError
from hardware.mqtt.codec import SiteTopics, drop_reason, make_payload, parse_payload
from hardware.protocol import Quality, Telemetry, TelemetrySource, unavailable
from twin.config.devices import MqttDeviceConfig

log = logging.getLogger(__name__)


def make_client(config: MqttDeviceConfig, client_id: str, will_topic: str) -> mqtt.Client:
    """A paho client set up from ``config``: auth, TLS, last will, reconnect back-off."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
    )
    client.will_set(will_topic, b"offline", qos=1, retain=True)
    if config.username is not None:
        password = config.password()
        client.username_pw_set(
            config.username, password.get_secret_value() if password is not None else None
        )
    if config.tls is not None:
        client.tls_set(
            ca_certs=str(config.tls.ca_certs) if config.tls.ca_certs else None,
            certfile=str(config.tls.certfile) if config.tls.certfile else None,
            keyfile=str(config.tls.keyfile) if config.tls.keyfile else None,
        )
        client.tls_insecure_set(config.tls.insecure)
    client.reconnect_delay_set(
        min_delay=max(1, round(config.reconnect_delay_s)),
        max_delay=max(1, round(config.reconnect_delay_max_s)),
    )
    return client


class MqttDevice:
    """:class:`~hardware.protocol.BatteryDevice` over MQTT.

    Parameters
    ----------
    config : MqttDeviceConfig
    stale_after_s : float
        Age beyond which a reading is ``stale``. [s, wall clock]
    client_id : str, optional
        MQTT client id; default ``bess-twin-ems-<random>``.
    clock : VirtualClock, optional
        The run's clock: stamps messages without a timestamp; default the wall clock.

    Attributes
    ----------
    rejected : collections.Counter
        Dropped messages by reason.
    """

    source = TelemetrySource.MQTT

    def __init__(
        self,
        config: MqttDeviceConfig,
        *,
        stale_after_s: float = 3.0,
        client_id: str | None = None,
        clock: VirtualClock | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self.topics = SiteTopics.for_prefix(config.prefix)
        self.stale_after_s = stale_after_s
        self.rejected: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[float, dt.datetime, float]] = {}
        self._connected = threading.Event()
        self._client = make_client(
            config, client_id or f"bess-twin-ems-{uuid.uuid4().hex[:8]}", self.topics.ems_status
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.connect_async(config.host, config.port, keepalive=config.keepalive_s)
        self._client.loop_start()

    @classmethod
    def from_site(cls, site, clock=None, **_: object) -> MqttDevice:
        """Build from a :class:`~twin.config.SiteConfig` (registry factory)."""
        return cls(site.device, stale_after_s=site.safety.stale_after_s,
                   client_id=f"bess-twin-ems-{site.site_id}-{uuid.uuid4().hex[:6]}", clock=clock)

    @property
    def _where(self) -> str:
        return f"mqtt {self.config.host}:{self.config.port}/{self.config.prefix or '(no prefix)'}"

    # paho callbacks (paho's network thread)
    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.warning("%s: connection refused: %s", self._where, reason_code)
            return
        for topic in self.topics.telemetry():
            client.subscribe(topic, qos=self.config.qos)
        client.publish(self.topics.ems_status, b"online", qos=1, retain=True)
        self._connected.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self._connected.clear()
        log.info("%s: disconnected (%s); paho reconnects with back-off", self._where, reason_code)

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        quantity = self.topics.telemetry().get(message.topic)
        if quantity is None:
            return
        received = self._clock.now() if self._clock is not None else dt.datetime.now(dt.UTC)
        try:
            value, stamp = parse_payload(quantity, bytes(message.payload), received)
        except Exception as err:  # noqa: BLE001 - a callback must never kill paho's network thread
            reason = f"{quantity}: {drop_reason(err)}"
            self.rejected[reason] += 1
            log.warning("%s: dropped message on %s: %s", self._where, message.topic, reason)
            return
        with self._lock:
            self._latest[quantity] = (value, stamp, time.monotonic())

    async def read_telemetry(self) -> Telemetry:
        """Combine the latest SoC, power and temperature messages."""
        if not self._connected.is_set():
            return unavailable(self.source, f"{self._where}: not connected to the broker")
        with self._lock:
            latest = dict(self._latest)
        missing = [q for q in ("soc", "power", "temperature") if q not in latest]
        if missing:
            return unavailable(self.source, f"{self._where}: no {', '.join(missing)} message yet")
        now_mono = time.monotonic()
        oldest = min(stamp for _, stamp, _ in latest.values())
        reading = Telemetry(
            timestamp=oldest,
            soc=latest["soc"][0],
            power_kw=latest["power"][0],
            temperature_c=latest["temperature"][0],
            source=self.source,
        )
        age = max(now_mono - arrived for _, _, arrived in latest.values())  # by arrival only
        if age > self.stale_after_s:
            return reading.degraded(
                Quality.STALE, f"{self._where}: newest complete reading is {age:.1f} s old"
            )
        return reading

    async def write_setpoint(self, power_kw: float) -> None:
        """Publish ``power_kw`` on the commands topic with the configured QoS.

        Raises
        ------
        DeviceConnectionError
            If the broker connection is down (the command would be stale on arrival).
        ValueError
            If ``power_kw`` is not finite.
        """
        if not math.isfinite(power_kw):
            raise ValueError(f"power_kw must be finite, got {power_kw}")
        if not self._connected.is_set():
            raise DeviceConnectionError(f"{self._where}: not connected; setpoint not sent")
        stamp = self._clock.now() if self._clock is not None else dt.datetime.now(dt.UTC)
        payload = make_payload(float(power_kw), "kW", stamp)
        info = self._client.publish(self.topics.setpoint, payload, qos=self.config.qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DeviceConnectionError(f"{self._where}: publish failed ({mqtt.error_string(info.rc)})")

    async def close(self) -> None:
        """Announce ``offline``, disconnect and stop paho's network thread."""
        if self._connected.is_set():
            self._client.publish(self.topics.ems_status, b"offline", qos=1, retain=True)
        self._client.disconnect()
        self._client.loop_stop()
