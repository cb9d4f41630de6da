"""FCR in the SimPy plant: a band follows the droop of each frequency sample on top of the schedule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.simulated import SimulatedBattery
from tests.hardware.rigs import SPEC
from twin.config.battery import BatteryDynamics, DegradationSpec
from twin.grid.frequency import FrequencyReplay, fcr_response_kw

NO_AGEING = DegradationSpec(apply_capacity_fade=False)
INSTANT = BatteryDynamics(response_delay_s=0.0, ramp_kw_per_s=1e6, degradation=NO_AGEING)


@pytest.mark.parametrize(("deviation_mhz", "expected_kw"), [(0, 0.0), (-100, 40.0), (100, -40.0), (-200, 80.0), (200, -80.0), (-300, 80.0), (300, -80.0)])
def test_constant_frequency_gives_the_droop_on_top_of_the_schedule(deviation_mhz, expected_kw):
    replay = FrequencyReplay(np.array([50.0 + deviation_mhz / 1000.0]), 10.0)
    b = SimulatedBattery(SPEC, INSTANT, frequency=replay)
    b.set_setpoint(10.0)
    b.set_fcr_band(80.0)
    b.advance(600.0)
    assert b.power_kw == pytest.approx(10.0 + expected_kw)
    net_kwh = b.energy_discharged_kwh - b.energy_charged_kwh
    assert net_kwh == pytest.approx((10.0 + expected_kw) * 600 / 3600)
    assert b.fcr_requested_kwh == pytest.approx(expected_kw * 600 / 3600)


def test_no_band_no_response_and_a_band_needs_a_frequency_source():
    replay = FrequencyReplay(np.array([49.8]), 10.0)
    b = SimulatedBattery(SPEC, INSTANT, frequency=replay)
    b.advance(100.0)
    assert b.power_kw == 0.0 and b.fcr_requested_kwh == 0.0
    plain = SimulatedBattery(SPEC, INSTANT)
    plain.set_fcr_band(50.0)
    plain.advance(100.0)
    assert plain.power_kw == 0.0
    with pytest.raises(ValueError, match="band_kw"):
        b.set_fcr_band(-1.0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(49.7, 50.3), min_size=3, max_size=40), st.floats(0.0, 90.0))
def test_requested_energy_recomputes_from_the_samples(hz, band_kw):
    """The plant's droop energy over an MTU equals the sum over its samples of fcr_response * 10 s."""
    replay = FrequencyReplay(np.array(hz), 10.0)
    b = SimulatedBattery(SPEC.model_copy(update={"energy_kwh": 10_000.0}), INSTANT, frequency=replay)
    b.set_fcr_band(band_kw)
    b.advance(900.0)
    samples = replay.window(0.0, 900.0)
    assert len(samples) == 90
    expected = float(fcr_response_kw(samples, band_kw).sum() * 10.0 / 3600.0)
    assert b.fcr_requested_kwh == pytest.approx(expected, abs=1e-9)


def test_replay_wraps_and_windows():
    replay = FrequencyReplay(np.array([50.0, 49.9, 50.1]), 10.0)
    assert replay.at(0.0) == 50.0 and replay.at(19.9) == 49.9 and replay.at(30.0) == 50.0
    np.testing.assert_array_equal(replay.window(20.0, 60.0), [50.1, 50.0, 49.9, 50.1])
    np.testing.assert_array_equal(replay.window(5.0, 25.0), [49.9, 50.1])
    with pytest.raises(ValueError, match="finite"):
        FrequencyReplay(np.array([np.nan]), 10.0)


def test_a_full_battery_cannot_absorb_over_frequency_and_counts_the_shortfall():
    full = SPEC.model_copy(update={"soc_initial": 0.9})
    replay = FrequencyReplay(np.array([50.1, 49.9]), 10.0)  # +100 mHz (charge 40 kW), then -100 mHz (discharge 40 kW)
    b = SimulatedBattery(full, INSTANT, frequency=replay)
    b.set_fcr_band(80.0)
    b.advance(600.0)
    sample_kwh = 40.0 * 10 / 3600
    assert b.fcr_requested_kwh == pytest.approx(0.0, abs=1e-9)
    # only the first sample finds the battery full; each discharge then makes room for the next charge
    assert b.fcr_shortfall_kwh == pytest.approx(-sample_kwh, rel=1e-3)  # a charge not absorbed
    assert b.energy_discharged_kwh == pytest.approx(30 * sample_kwh, rel=1e-3)
