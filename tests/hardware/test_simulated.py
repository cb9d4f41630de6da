"""The SimPy plant: delay, ramp, timeout, heat and ageing, against hand-solved cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.simulated import SimulatedBattery
from tests.hardware.rigs import SPEC
from twin.config.battery import BatteryDynamics, DegradationSpec, ThermalSpec
from twin.physics.degradation import state_of_health
from twin.physics.thermal import derating_factor, step_temperature, time_constant_s

NO_AGEING = {"cycle_fade_per_efc": 0.0, "calendar_fade_per_sqrt_day": 0.0}


def test_response_delay_and_ramp_shape_the_delivered_energy():
    """2 s delay, then a 10 kW/s ramp to 50 kW: over 60 s the plant delivers 50*(60-2-2.5) kW s."""
    dyn = BatteryDynamics(response_delay_s=2.0, ramp_kw_per_s=10.0, degradation=NO_AGEING)
    b = SimulatedBattery(SPEC, dyn)
    b.set_setpoint(50.0)
    b.advance(60.0)
    assert b.energy_discharged_kwh == pytest.approx(50.0 * (60 - 2 - 2.5) / 3600)
    assert b.power_kw == 50.0


def test_setpoint_times_out_to_zero():
    dyn = BatteryDynamics(response_delay_s=0.0, ramp_kw_per_s=1e9, setpoint_timeout_s=60.0, degradation=NO_AGEING)
    b = SimulatedBattery(SPEC, dyn)
    b.set_setpoint(-40.0)
    b.advance(30.0)
    b.set_setpoint(-40.0)  # refreshed at 30 s: holds until 90 s
    b.advance(89.0)
    assert b.power_kw == -40.0
    b.advance(200.0)
    assert b.power_kw == 0.0 and b.setpoint_kw == 0.0
    assert b.energy_charged_kwh == pytest.approx(40.0 * 90 / 3600)


def test_thermal_model_matches_the_exact_first_order_solution():
    spec = ThermalSpec(ambient_c=20.0, heat_capacity_kj_per_k_per_kwh=7.5, conductance_w_per_k_per_kwh=10.0)
    tau = time_constant_s(spec, 200.0)
    assert tau == pytest.approx(750.0)
    # 2 kW of losses against 2 kW/K: steady state 1 K above ambient.
    t = step_temperature(spec, 200.0, 20.0, 2.0, tau)
    assert t == pytest.approx(21.0 - math.exp(-1.0))
    assert step_temperature(spec, 200.0, 30.0, 0.0, 1e9) == pytest.approx(20.0)
    assert derating_factor(spec, 50.0) == pytest.approx(0.5)
    assert derating_factor(spec, 55.0) == 0.0 and derating_factor(spec, 40.0) == 1.0


def test_ageing_adds_cycle_and_calendar_fade():
    spec = DegradationSpec(cycle_fade_per_efc=1e-4, calendar_fade_per_sqrt_day=1e-3)
    assert state_of_health(spec, 1000.0, 100.0) == pytest.approx(1 - 0.1 - 0.01)
    dyn = BatteryDynamics(response_delay_s=0.0, degradation=spec, thermal={"ambient_c": 25.0})
    b = SimulatedBattery(SPEC, dyn)
    b.advance(100 * 86_400.0)  # idle for 100 days at 25 °C: calendar fade only
    assert b.soh == pytest.approx(1 - 0.01, abs=1e-6)


def test_hot_cell_is_derated_by_the_bms():
    dyn = BatteryDynamics(response_delay_s=0.0, ramp_kw_per_s=1e9, degradation=NO_AGEING,
                          thermal={"initial_c": 50.0, "ambient_c": 50.0, "derate_c": 45.0, "trip_c": 55.0})
    b = SimulatedBattery(SPEC, dyn)
    b.set_setpoint(100.0)
    b.advance(1.0)
    assert b.power_kw == pytest.approx(50.0, rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-300, 300), st.floats(1, 7200)), min_size=1, max_size=25))
def test_soc_window_and_energy_balance_hold_for_any_setpoints(commands):
    dyn = BatteryDynamics(degradation=NO_AGEING)
    b = SimulatedBattery(SPEC, dyn)
    start = b.energy_kwh
    t = 0.0
    for power_kw, hold_s in commands:
        b.set_setpoint(power_kw)
        t += hold_s
        b.advance(t)
        assert SPEC.soc_min - 1e-9 <= b.soc <= SPEC.soc_max + 1e-9
        assert abs(b.power_kw) <= 100.0 + 1e-9
    balance = start + 0.95 * b.energy_charged_kwh - b.energy_discharged_kwh / 0.95
    assert b.energy_kwh == pytest.approx(balance, abs=1e-9)
