"""Hostile MQTT messages: whatever anyone publishes, the client loop lives on and counts the drop.

The device and the battery simulator both decode with :mod:`hardware.mqtt.codec`;
their paho callbacks run in paho's network thread, which must never die.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import time

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.clock import VirtualClock
from hardware.mqtt.broker import EmbeddedBroker, MosquittoBroker
from hardware.mqtt.client import MqttDevice
from hardware.mqtt.codec import SiteTopics, make_payload
from hardware.mqtt.sim import MqttBatteryPublisher
from hardware.protocol import Quality
from hardware.safety import DeviceGuard
from hardware.simulated import SimulatedBattery
from tests.hardware.rigs import SPEC, START
from twin.config.devices import MqttDeviceConfig, SafetyConfig

TOPICS = SiteTopics.for_prefix("site")
HOSTILE = [
    b'{"value": 75, "unit": "%", "timestamp": 1e20}',
    b'{"value": ' + b"9" * 400 + b', "unit": "%"}',
    b'{"value": 75, "unit": "%", "timestamp": -1e300}',
    b"\xff\xfe\x00garbage",
    b"[" * 5000 + b"]" * 5000,
    b'{"value": 1e308, "unit": "MW"}',
    b'{"value": {"nested": [1, 2]}, "unit": "%"}',
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
payloads = st.one_of(
    st.binary(max_size=256),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"value": json_values, "unit": st.sampled_from(["%", "kW", "MW", "W", "degC", "", None, 5]),
         "timestamp": json_values},
    ).map(lambda v: json.dumps(v).encode()),
)


def _message(topic: str, payload: bytes) -> mqtt.MQTTMessage:
    message = mqtt.MQTTMessage(topic=topic.encode())
    message.payload = payload
    return message


@pytest.fixture(scope="module")
def offline_device():
    """A real MqttDevice whose broker is not there: only its callbacks are driven."""
    device = MqttDevice(MqttDeviceConfig(kind="mqtt", port=1, prefix="site"))
    yield device
    device._client.loop_stop()


@settings(max_examples=300, deadline=None)
@given(quantity=st.sampled_from(["soc", "power", "temperature"]), payload=payloads)
def test_any_payload_is_decoded_or_counted_never_raised(offline_device, quantity, payload):
    topic = {"soc": TOPICS.soc, "power": TOPICS.power, "temperature": TOPICS.temperature}[quantity]
    before = sum(offline_device.rejected.values())
    offline_device._on_message(None, None, _message(topic, payload))  # must not raise
    accepted = quantity in offline_device._latest and offline_device._latest[quantity][0] is not None
    assert sum(offline_device.rejected.values()) == before + 1 or accepted


@settings(max_examples=150, deadline=None)
@given(payload=payloads)
def test_simulator_command_callback_never_raises(payload):
    battery = SimulatedBattery(SPEC, start_utc=START)
    publisher = MqttBatteryPublisher(battery, MqttDeviceConfig(kind="mqtt", port=1, prefix="site"),
                                     VirtualClock(START, 60.0))
    publisher._on_message(None, None, _message(TOPICS.setpoint, payload))
    publisher._client.loop_stop()


@pytest.fixture
def broker():
    broker = MosquittoBroker() if shutil.which("mosquitto") else EmbeddedBroker()
    broker.start()
    yield broker
    broker.stop()


def _publisher(port: int) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hostile")
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _good_values(client: mqtt.Client, stamp: dt.datetime, soc_percent: float = 50.0) -> None:
    for topic, payload in ((TOPICS.soc, make_payload(soc_percent, "%", stamp)),
                           (TOPICS.power, make_payload(0.0, "kW", stamp)),
                           (TOPICS.temperature, make_payload(25.0, "degC", stamp))):
        client.publish(topic, payload, qos=1).wait_for_publish(5)


async def _until_good(guard: DeviceGuard, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while True:
        reading = await guard.read()
        if reading.is_good:
            return reading
        assert time.monotonic() < deadline, reading.reason
        await asyncio.sleep(0.05)


def test_hostile_messages_on_a_real_broker_leave_the_site_alive(broker):
    async def scenario():
        config = MqttDeviceConfig(kind="mqtt", port=broker.port, prefix="site")
        device = MqttDevice(config, stale_after_s=2.0)
        guard = DeviceGuard(device, SPEC, SafetyConfig(watchdog_s=30, stale_after_s=2.0))
        client = _publisher(broker.port)
        try:
            await asyncio.sleep(0.5)
            for payload in HOSTILE:
                for topic in (TOPICS.soc, TOPICS.temperature):
                    client.publish(topic, payload, qos=1).wait_for_publish(5)
            # a burst of valid values stamped in the far future: counted, never the reference
            _good_values(client, dt.datetime(9999, 12, 31, tzinfo=dt.UTC), soc_percent=80.0)
            await asyncio.sleep(0.5)
            reading = await guard.read()
            assert reading.quality is Quality.INVALID and "ahead of the clock" in reading.reason
            _good_values(client, dt.datetime.now(dt.UTC), soc_percent=42.0)
            reading = await _until_good(guard)
            assert reading.soc == pytest.approx(0.42)
            assert device._client._thread is not None and device._client._thread.is_alive()
            assert sum(device.rejected.values()) >= 2 * len(HOSTILE) - 2
            assert guard.rejected["timestamp"] >= 1 and not guard.safe
        finally:
            client.loop_stop()
            client.disconnect()
            await device.close()

    asyncio.run(scenario())


def test_simulator_keeps_obeying_after_a_hostile_setpoint(broker):
    async def scenario():
        battery = SimulatedBattery(SPEC, start_utc=START)
        config = MqttDeviceConfig(kind="mqtt", port=broker.port, prefix="site")
        publisher = MqttBatteryPublisher(battery, config, VirtualClock(START, 60.0), interval_s=0.1)
        await publisher.start()
        client = _publisher(broker.port)
        try:
            await asyncio.sleep(0.5)
            for payload in HOSTILE:
                client.publish(TOPICS.setpoint, payload, qos=1).wait_for_publish(5)
            client.publish(TOPICS.setpoint, make_payload(-40.0, "kW", dt.datetime.now(dt.UTC)),
                           qos=1).wait_for_publish(5)
            deadline = time.monotonic() + 5
            while battery.setpoint_kw != pytest.approx(-40.0):
                assert time.monotonic() < deadline, "the simulator stopped obeying"
                await asyncio.sleep(0.05)
            assert sum(publisher.rejected.values()) == len(HOSTILE)
        finally:
            client.loop_stop()
            client.disconnect()
            await publisher.stop()

    asyncio.run(scenario())


def test_freshness_is_by_arrival_not_by_the_device_clock(offline_device):
    an_hour_behind = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    for topic, payload in ((TOPICS.soc, make_payload(50.0, "%", an_hour_behind)),
                           (TOPICS.power, make_payload(0.0, "kW", an_hour_behind)),
                           (TOPICS.temperature, make_payload(25.0, "degC", an_hour_behind))):
        offline_device._on_message(None, None, _message(topic, payload))
    offline_device._connected.set()
    try:
        reading = asyncio.run(offline_device.read_telemetry())
    finally:
        offline_device._connected.clear()
    assert reading.is_good and reading.timestamp == an_hour_behind
