"""Grid frequency from an MQTT topic (paho-mqtt 2.x), for the live grid service.

A message is a number in Hz (``49.98``) or JSON with ``frequency_hz`` (and
optionally ``frequency_deviation_mhz`` instead). Readings outside 45-55 Hz, or
that do not parse, are counted per reason and dropped; they never replace the
last good reading. A reading older than ``stale_after_s`` (host monotonic
clock) counts as none.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import paho.mqtt.client as mqtt

from hardware.mqtt.client import make_client
from twin.config.devices import MqttDeviceConfig

log = logging.getLogger(__name__)

PLAUSIBLE_HZ = (45.0, 55.0)
"""Frequencies outside this range are measurement errors, not grid states. [Hz]"""


def parse_frequency(payload: bytes) -> float:
    """The frequency in a message. [Hz]

    Raises
    ------
    ValueError
        Naming what is wrong: not a number, no field, or outside :data:`PLAUSIBLE_HZ`.
    """
    text = payload.decode("utf-8", errors="strict").strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"payload {text[:40]!r} is neither a number nor JSON") from None
    if isinstance(value, dict):
        if "frequency_hz" in value:
            value = value["frequency_hz"]
        elif "frequency_deviation_mhz" in value:
            value = 50.0 + float(value["frequency_deviation_mhz"]) / 1000.0
        else:
            raise ValueError("JSON payload has no frequency_hz or frequency_deviation_mhz")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"frequency {value!r} is not a number")
    hz = float(value)
    if not (math.isfinite(hz) and PLAUSIBLE_HZ[0] <= hz <= PLAUSIBLE_HZ[1]):
        raise ValueError(f"frequency {hz} Hz outside the plausible {PLAUSIBLE_HZ[0]}-{PLAUSIBLE_HZ[1]} Hz")
    return hz


class MqttFrequency:
    """The latest frequency reading on ``topic``.

    Parameters
    ----------
    broker : MqttDeviceConfig
        Host, port, auth and TLS of the broker (its ``prefix`` is ignored).
    topic : str
    stale_after_s : float
        A reading older than this is none. [s]
    monotonic : callable
        Clock for staleness (injected in tests).
    """

    def __init__(
        self, broker: MqttDeviceConfig, topic: str, stale_after_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.topic, self.stale_after_s, self._monotonic = topic, stale_after_s, monotonic
        self._lock = threading.Lock()
        self._latest: tuple[float, float] | None = None
        self.dropped: Counter[str] = Counter()
        self.received = 0
        self._client = make_client(broker, f"bess-twin-frequency-{uuid.uuid4().hex[:8]}", f"{topic}/status/ems")
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.connect_async(broker.host, broker.port, broker.keepalive_s)
        self._client.loop_start()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object = None) -> None:
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            hz = parse_frequency(bytes(message.payload))
        except (ValueError, UnicodeDecodeError) as err:
            reason = str(err).split(" ")[0] if isinstance(err, UnicodeDecodeError) else str(err)
            with self._lock:
                self.dropped[reason[:80]] += 1
            log.warning("frequency message on %s dropped: %s", message.topic, err)
            return
        with self._lock:
            self._latest = (hz, self._monotonic())
            self.received += 1

    def latest(self) -> float | None:
        """The last good reading, or None when there is none or it is stale. [Hz]"""
        with self._lock:
            if self._latest is None:
                return None
            hz, at = self._latest
        return hz if self._monotonic() - at <= self.stale_after_s else None

    def close(self) -> None:
        """Disconnect."""
        self._client.loop_stop()
        self._client.disconnect()
