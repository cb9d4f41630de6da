"""The MQTT envelope: canonical units, refused payloads with their reason, hostile input, topics."""

from __future__ import annotations

import datetime as dt

import pytest

from hardware.mqtt.codec import SiteTopics, make_payload, parse_payload

NOW = dt.datetime(2023, 6, 1, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize(("quantity", "payload", "expected"), [
    ("soc", b'{"value": 75, "unit": "%"}', 0.75),
    ("power", b'{"value": -0.1, "unit": "MW"}', -100.0),
    ("power", b'{"value": 2500, "unit": "W"}', 2.5),
    ("temperature", b'{"value": 31.5, "unit": "degC"}', 31.5),
])
def test_mqtt_payloads_convert_to_canonical_units(quantity, payload, expected):
    value, stamp = parse_payload(quantity, payload, NOW)
    assert value == pytest.approx(expected) and stamp == NOW


@pytest.mark.parametrize(("payload", "reason"), [
    (b"{", "not JSON"), (b"[1]", "not a JSON object"), (b'{"value": "75", "unit": "%"}', "not a number"),
    (b'{"value": NaN, "unit": "%"}', "not finite"), (b'{"value": 75}', "unit None"),
    (b'{"value": 140, "unit": "%"}', "outside"), (b'{"value": 75, "unit": "%", "timestamp": "soon"}', "ISO 8601"),
])
def test_malformed_mqtt_payloads_are_refused_with_the_reason(payload, reason):
    with pytest.raises(ValueError, match=reason):
        parse_payload("soc", payload, NOW)


def test_payload_round_trip_and_topics():
    value, stamp = parse_payload("power", make_payload(-0.05, "MW", NOW), NOW)
    assert value == pytest.approx(-50.0) and stamp == NOW
    assert SiteTopics.for_prefix("").soc == "bess/soc"
    site = SiteTopics.for_prefix("phoenyra/site1")
    assert (site.soc, site.setpoint) == ("phoenyra/site1/telemetry/bess/soc", "phoenyra/site1/commands/bess/setpoint")


@pytest.mark.parametrize(("payload", "reason"), [
    (b'{"value": 75, "unit": "%", "timestamp": 1e20}', "not a plausible Unix time"),
    (b'{"value": ' + b"9" * 400 + b', "unit": "%"}', "400 digits is out of range"),
    (b'{"value": true, "unit": "%"}', "not a number"),
    (b'{"value": 75, "unit": 5}', "unit '5' is not one of"),
])
def test_hostile_payloads_are_value_errors_not_crashes(payload, reason):
    with pytest.raises(ValueError, match=reason):
        parse_payload("soc", payload, NOW)


def test_mqtt_and_modbus_share_one_unit_table():
    from hardware.modbus.register_map import load_profile
    from hardware.units import UNITS

    profile = load_profile("float32_le")
    for quantity, reg in profile.registers.items():
        assert reg.unit in UNITS[quantity]
    value, _ = parse_payload("power", make_payload(2500.0, "W", NOW), NOW)
    assert value == pytest.approx(2.5)
