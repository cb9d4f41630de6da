"""Grid frequency over a real MQTT broker on loopback: good readings taken, bad ones counted and dropped."""

from __future__ import annotations

import shutil
import time

import paho.mqtt.client as mqtt
import pytest

from hardware.mqtt.broker import EmbeddedBroker, MosquittoBroker
from hardware.mqtt.frequency import MqttFrequency, parse_frequency
from twin.config.devices import MqttDeviceConfig


@pytest.mark.parametrize(("payload", "hz"), [(b"49.98", 49.98), (b'{"frequency_hz": 50.02}', 50.02),
                                             (b'{"frequency_deviation_mhz": -150}', 49.85)])  # fmt: skip
def test_parse(payload, hz):
    assert parse_frequency(payload) == pytest.approx(hz)


@pytest.mark.parametrize(("payload", "why"), [(b"fifty", "neither a number nor JSON"), (b"{}", "no frequency_hz"),
                                              (b"60.5", "outside the plausible"), (b"NaN", "outside"),
                                              (b'"50"', "not a number"), (b"true", "not a number")])  # fmt: skip
def test_bad_payloads_name_what_is_wrong(payload, why):
    with pytest.raises(ValueError, match=why):
        parse_frequency(payload)


@pytest.fixture
def broker():
    b = MosquittoBroker() if shutil.which("mosquitto") else EmbeddedBroker()
    b.start()
    yield b
    b.stop()


def _until(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_readings_over_a_real_broker_and_staleness_on_an_injected_clock(broker):
    now = [1000.0]
    source = MqttFrequency(MqttDeviceConfig(kind="mqtt", port=broker.port), "grid/frequency", 30.0, lambda: now[0])
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="pmu")
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    try:
        assert source.latest() is None

        def publish_until(payload: bytes, done) -> None:  # the subscription may not be in place yet: repeat
            deadline = time.monotonic() + 10
            while not done():
                publisher.publish("grid/frequency", payload, qos=1).wait_for_publish(5)
                time.sleep(0.1)
                assert time.monotonic() < deadline

        publish_until(b"49.95", lambda: source.latest() == pytest.approx(49.95))
        publisher.publish("grid/frequency", b"garbage", qos=1).wait_for_publish(5)
        publisher.publish("grid/frequency", b"70", qos=1).wait_for_publish(5)
        _until(lambda: sum(source.dropped.values()) == 2)
        assert source.latest() == pytest.approx(49.95)  # bad messages never replace a good reading
        now[0] += 31.0
        assert source.latest() is None  # stale
        publish_until(b'{"frequency_hz": 50.01}', lambda: source.latest() == pytest.approx(50.01))
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        source.close()


def test_free_ports_stay_out_of_the_ephemeral_range():
    """A stopped test server must be able to come back on its port: no outgoing connection may have taken it."""
    from pathlib import Path

    from hardware.mqtt.broker import free_port

    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(20000 <= p < min(low, 32768) for p in ports) and len(ports) > 40
