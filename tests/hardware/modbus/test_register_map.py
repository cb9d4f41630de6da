"""Register profiles: round trips, vendor units and signs, clear errors for bad maps."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.errors import ProfileError
from hardware.modbus.register_map import load_profile, profile_names

SEED = load_profile("seed")
F32 = load_profile("float32_le")


def test_seed_map_is_the_documented_one():
    assert SEED.encode("soc", 0.75) == [7500]
    assert SEED.encode("power", -42.0) == [65536 - 42]
    assert SEED.encode("temperature", 31.4) == [314]
    assert SEED.decode("soc", [7500]) == pytest.approx(0.75)
    assert SEED.read_span() == (0, 5)


def test_float_profile_uses_watts_little_word_order_and_charge_positive():
    words = F32.encode("power", -42.0)  # 42 kW charging = +42000 W on this device
    assert words == [0x1000, 0x4724]  # 42000.0 = 0x47241000, low word first
    assert F32.decode("power", words) == pytest.approx(-42.0)
    assert F32.read_span() == (100, 10)


@given(st.floats(0, 1))
def test_soc_round_trips_within_register_resolution(soc):
    assert SEED.decode("soc", SEED.encode("soc", soc)) == pytest.approx(soc, abs=0.5e-4)
    assert F32.decode("soc", F32.encode("soc", soc)) == pytest.approx(soc, rel=1e-6, abs=1e-7)


@given(st.floats(-32768, 32767))
def test_power_round_trips_with_sign(power_kw):
    assert SEED.decode("power", SEED.encode("power", power_kw)) == pytest.approx(power_kw, abs=0.5)
    assert F32.decode("power", F32.encode("power", power_kw)) == pytest.approx(power_kw, rel=1e-6, abs=1e-6)


def test_values_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="setpoint = 40000.*outside the s16 range"):
        SEED.encode("setpoint", 40000.0)
    with pytest.raises(ValueError, match="cannot encode nan"):
        SEED.encode("setpoint", math.nan)


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("name: x\nregisters: {soc: {address: 0, type: u16, unit: '%'}}", "missing power, temperature, setpoint"),
    ("name: x\nregisters:\n  soc: {address: 0, type: u32, unit: '%'}\n  power: {address: 1, type: s16, unit: kW}\n"
     "  temperature: {address: 5, type: s16, unit: degC}\n  setpoint: {address: 6, type: s16, unit: kW, access: rw}",
     "overlaps registers.soc at address 1"),
    ("name: x\nregisters:\n  soc: {address: 0, type: u16, unit: volts}\n  power: {address: 1, type: s16, unit: kW}\n"
     "  temperature: {address: 2, type: s16, unit: degC}\n  setpoint: {address: 3, type: s16, unit: kW, access: rw}",
     "registers.soc.unit = 'volts'"),
    ("name: x\nregisters:\n  soc: {address: 0, type: u16, unit: '%'}\n  power: {address: 1, type: s16, unit: kW}\n"
     "  temperature: {address: 2, type: s16, unit: degC}\n  setpoint: {address: 3, type: s16, unit: kW}",
     "setpoint.access must be 'rw'"),
])
def test_bad_profiles_name_the_key(tmp_path, yaml_text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ProfileError, match=message):
        load_profile(path)


def test_unknown_profile_lists_the_shipped_ones():
    assert profile_names() == ["float32_le", "seed"]
    with pytest.raises(ProfileError, match="shipped: float32_le, seed"):
        load_profile("nope")
