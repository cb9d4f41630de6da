"""A SimPy battery: the ideal reservoir of :mod:`twin.physics.battery` plus the plant's dynamics.

On top of the planner's energy model the simulated plant has

- a response delay from a setpoint write to the start of the ramp,
- a ramp limit: the converter's power reference moves linearly towards the
  setpoint; the BMS stops the flow at the SoC window (the power at the PCC is 0
  while the reference points into the window) but the reference ramps on, as a
  converter's setpoint ramp does under the BMS's charge/discharge limits,
- a first-order thermal model heated by the conversion losses
  (:mod:`twin.physics.thermal`) with BMS derating above ``derate_c``,
- ageing from equivalent full cycles and calendar time into a state of health
  (:mod:`twin.physics.degradation`), which shrinks the usable capacity,
- a setpoint timeout: no write for ``setpoint_timeout_s`` and it falls back to 0 kW,
- fault injection for tests (communication loss, frozen values, over-temperature),
- FCR response: holding a band (:meth:`SimulatedBattery.set_fcr_band`) with a
  frequency source, the plant adds the droop response
  (:func:`twin.grid.frequency.fcr_response_kw`) of each frequency sample to its
  setpoint, updated at every sample.

Energy is integrated exactly between events (a write taking effect, a timeout,
the periodic step), so results do not depend on ``timestep_s`` except through
the telemetry the process publishes.

Two integrations (``BatteryDynamics.integration``):

- ``event`` (default): no periodic process. Between two SimPy events the plant
  is split at the moments its dynamics change (ramp end, ramp zero crossing,
  SoC window reached, derating threshold reached) and each piece is integrated
  analytically: linear ramps, the exact exponential of the thermal model, and
  calendar ageing by Gauss-Legendre quadrature along it. While the BMS derates
  (the power limit moves with the temperature) it steps at ``timestep_s``.
  A backtest day then costs a few pieces per MTU instead of one step a minute.
- ``fixed``: a SimPy process also wakes the plant every ``timestep_s``, and
  a step is split only where the ramp crosses zero (a battery does not net
  charging against discharging); the reference the event-driven plant is
  tested against on a year of real schedules (SoC within 1e-4, energy within
  0.1 %).

Time is SimPy's: virtual seconds since ``start_utc``. A backtest advances it as
fast as it can; a live device (:class:`SimulatedDevice`) advances it to the
market time of a :class:`~hardware.clock.VirtualClock` before every read and write.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum

import simpy

from hardware.clock import VirtualClock
from hardware.protocol import Telemetry, TelemetrySource, unavailable
from twin.config import BatterySpec
from twin.config.battery import BatteryDynamics
from twin.grid.frequency import FrequencyReplay, fcr_response_kw
from twin.physics.battery import BatteryState, initial_state
from twin.physics.battery import step as battery_step
from twin.physics.degradation import (
    SECONDS_PER_DAY,
    calendar_stress_factor,
    equivalent_days_over,
    state_of_health,
)
from twin.physics.thermal import (
    crossing_time_s,
    derating_factor,
    step_temperature,
    temperature_path,
)

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

MAX_SEGMENT_S = 3600.0
"""Longest piece the event-driven plant integrates at once (keeps capacity fade current). [s]"""

_MIN_SEGMENT_S = 1e-3
"""Shortest piece: breaks closer than this are merged (round-off of the break times). [s]"""

_FADE_STEP = 1e-5
"""Capacity fade (fraction of nominal) after which the plant's usable capacity is updated."""

_AT_WINDOW = 1e-9
"""Energy this close to the SoC window (fraction of capacity) counts as at the window."""


class Fault(StrEnum):
    """Faults a test can inject into a simulated battery."""

    COMM_LOSS = "comm_loss"
    """Reads fail: the device returns ``stale`` telemetry."""
    FROZEN = "frozen"
    """Reads repeat the last reading, timestamp included."""
    OVER_TEMPERATURE = "over_temperature"
    """The cell is held 5 K above the trip temperature; the BMS allows no power."""


class SimulatedBattery:
    """A battery that runs as a SimPy process.

    Parameters
    ----------
    spec : BatterySpec
        Ratings, efficiencies and SoC window.
    dynamics : BatteryDynamics
        Time step, ramp, response delay, thermal and ageing parameters.
    soc : float, optional
        Start SoC; default ``spec.soc_initial``. [fraction]
    start_utc : datetime.datetime, optional
        Wall/market time of SimPy time 0 (for telemetry timestamps).
    env : simpy.Environment, optional
        Share an environment between batteries; default a new one.
    frequency : FrequencyReplay, optional
        Grid frequency on SimPy time (seconds since ``start_utc``), for the FCR
        response; without it a band adds nothing.
    deadband_mhz, full_activation_mhz : float
        FCR droop: insensitivity and the deviation of full activation. [mHz]

    Attributes
    ----------
    env : simpy.Environment
    setpoint_kw : float
        Last setpoint written (before delay and ramp). [kW]
    energy_charged_kwh, energy_discharged_kwh : float
        Cumulative energy at the PCC. [kWh]
    """

    def __init__(
        self,
        spec: BatterySpec,
        dynamics: BatteryDynamics | None = None,
        *,
        soc: float | None = None,
        start_utc: dt.datetime | None = None,
        env: simpy.Environment | None = None,
        frequency: FrequencyReplay | None = None,
        deadband_mhz: float = 10.0,
        full_activation_mhz: float = 200.0,
    ) -> None:
        self.spec = spec
        self.dynamics = dynamics or BatteryDynamics()
        self.env = env or simpy.Environment()
        self.start_utc = start_utc or _EPOCH
        self._nominal_kwh = spec.energy_kwh
        self._spec_now = spec
        self._state: BatteryState = initial_state(spec, soc)
        self._t = self.env.now
        self.setpoint_kw = 0.0
        self._target_kw = 0.0
        self._ref_kw = 0.0
        """The converter's ramped power reference. [kW]"""
        self._actual_kw = 0.0
        """Power at the PCC at the last event: the reference, or 0 where the SoC window stops its flow. [kW]"""
        self._write_count = 0
        rating = max(spec.p_charge_max_kw, spec.p_discharge_max_kw)
        self._ramp_kw_per_s = self.dynamics.ramp_kw_per_s or rating
        thermal = self.dynamics.thermal
        self.temperature_c = thermal.initial_c if thermal.initial_c is not None else thermal.ambient_c
        self.equivalent_days = 0.0
        self.soh = 1.0
        self.faults: set[Fault] = set()
        self._frozen: Telemetry | None = None
        self.frequency = frequency
        self._droop = (deadband_mhz, full_activation_mhz)
        self.fcr_band_kw = 0.0
        self._fcr_kw = 0.0
        self.fcr_requested_kwh = 0.0
        """Cumulative droop energy asked of the plant (discharge positive). [kWh]"""
        self.fcr_shortfall_kwh = 0.0
        """Cumulative droop energy the plant's limits kept it from delivering, in the droop's direction (discharge positive). [kWh]"""
        self.event_driven = self.dynamics.integration == "event"
        if not self.event_driven:
            self.env.process(self._run())
        if frequency is not None:
            self.env.process(self._follow_frequency(frequency))

    # ------------------------------------------------------------------ physics
    def _advance_to(self, t: float) -> None:
        """Integrate the plant from its last event to SimPy time ``t``.

        The fixed-step plant integrates in one piece (its periodic process has
        woken it every ``timestep_s``); the event-driven plant splits the span at
        the events that change the dynamics (:meth:`_next_break_s`).
        """
        if not self.event_driven:
            # one step, split only where the ramp crosses zero: the battery never
            # charges and discharges in one piece (see twin.physics.battery)
            drive = self._drive()
            zero_s = self._zero_crossing_s(drive)
            if zero_s < t - self._t:
                self._integrate(self._t + zero_s, drive)
                self._integrate(t)  # driven from the state the first piece left
            else:
                self._integrate(t, drive)
            return
        while t - self._t > 0:
            drive = self._drive()
            span = t - self._t
            seg = self._next_break_s(span, drive)
            self._integrate(t if seg >= span else self._t + seg, drive)

    def _drive(self) -> tuple[float, float, float]:
        """What drives the next piece. [kW]

        Returns
        -------
        target_kw : float
            The power the plant moves towards: setpoint plus droop, within the derated ratings.
        wanted_kw : float
            Setpoint plus droop.
        start_kw : float
            The converter's power reference at the start of the piece.
        """
        spec = self._spec_now
        derate = derating_factor(self.dynamics.thermal, self.temperature_c)
        wanted = self._target_kw + self._fcr_kw
        target = min(max(wanted, -spec.p_charge_max_kw * derate), spec.p_discharge_max_kw * derate)
        return target, wanted, self._ref_kw

    def _at_window(self, power_kw: float) -> bool:
        """Whether the SoC window blocks ``power_kw``'s direction now (the BMS stops that flow at once)."""
        spec, energy = self._spec_now, self._state.energy_kwh
        window_kwh = _AT_WINDOW * spec.energy_kwh
        return (power_kw > 0 and energy - spec.e_min_kwh <= window_kwh) or (
            power_kw < 0 and spec.e_max_kwh - energy <= window_kwh
        )

    def _next_break_s(self, span_s: float, drive: tuple[float, float, float]) -> float:
        """Length of the next piece over which the plant's dynamics are smooth. [s]

        Breaks: the end of a ramp (and its zero crossing, where the losses
        change sign), the moment the SoC window is reached, the moment the
        temperature reaches the derating threshold, and, while the BMS
        derates, every tick of the ``timestep_s`` grid (the limit moves with
        the temperature; the BMS re-evaluates it once a step, as in the
        fixed-step plant). Near the window see :meth:`_to_window_s`. At most
        ``span_s`` and :data:`MAX_SEGMENT_S`.
        ``drive`` is :meth:`_drive` now.
        """
        thermal = self.dynamics.thermal
        target, _, p0 = drive
        rate = self._ramp_kw_per_s
        if self.temperature_c > thermal.derate_c and Fault.OVER_TEMPERATURE not in self.faults:
            # the BMS re-evaluates its derated limit every timestep_s, on the fixed plant's grid
            tick_s = self.dynamics.timestep_s
            next_tick_s = (math.floor(self._t / tick_s + 1e-9) + 1) * tick_s
            return max(min(span_s, next_tick_s - self._t, self._zero_crossing_s(drive)), _MIN_SEGMENT_S)
        spec = self._spec_now
        if self._at_window(target) and p0 * target >= 0:  # the BMS delivers nothing until the setpoint turns
            return min(span_s, MAX_SEGMENT_S)
        gap = target - p0
        if abs(gap) > 1e-9:  # a ramp: ends at the target or at zero, or where the window stops it
            seg = self._to_window_s(min(span_s, MAX_SEGMENT_S, abs(gap) / rate), p0, math.copysign(rate, gap), target)
            return max(min(seg, self._zero_crossing_s(drive)), _MIN_SEGMENT_S)
        seg = self._to_window_s(min(span_s, MAX_SEGMENT_S), target, 0.0, target)
        if Fault.OVER_TEMPERATURE not in self.faults:
            loss_kw = target * (1.0 / spec.eta_discharge - 1.0) if target > 0 else -target * (1.0 - spec.eta_charge)
            seg = min(seg, crossing_time_s(thermal, self._nominal_kwh, self.temperature_c, loss_kw, thermal.derate_c))
        return max(seg, _MIN_SEGMENT_S)

    def _zero_crossing_s(self, drive: tuple[float, float, float]) -> float:
        """Seconds until a ramp towards the other sign crosses zero, where the losses change sign; else ``inf``. [s]"""
        target, _, p0 = drive
        return abs(p0) / self._ramp_kw_per_s if p0 * target < 0 else math.inf

    def _to_window_s(self, seg_s: float, p0_kw: float, slope_kw_per_s: float, target_kw: float) -> float:
        """``seg_s``, cut where the SoC window stops the power ``p0 + slope * s``. [s]

        A piece at or near the window first brings the usable capacity up to
        date and lasts at most one capacity-update step of fade
        (:meth:`_fade_horizon_s`), so it reaches the window against a current
        capacity.
        """
        hit_s = self._window_hit_s(p0_kw, slope_kw_per_s, target_kw)
        if hit_s >= 2.0 * seg_s:
            return seg_s
        if self._refresh_capacity(0.1 * _FADE_STEP):
            hit_s = self._window_hit_s(p0_kw, slope_kw_per_s, target_kw)
        return min(seg_s, hit_s, self._fade_horizon_s(max(abs(p0_kw), abs(target_kw))))

    def _fade_horizon_s(self, power_kw: float) -> float:
        """Seconds in which capacity fades by one update step (:data:`_FADE_STEP`) at ``power_kw`` and today's temperature. [s]

        Bounds a piece that ends at the SoC window, so that the window is
        reached against a current capacity, also early in life where calendar
        fade (a square root of time) is steep. Calendar and cycle fade share
        the step (harmonic sum of their horizons); ``inf`` without capacity fade.
        """
        degradation = self.dynamics.degradation
        if not degradation.apply_capacity_fade:
            return math.inf
        inverse = 0.0
        k_cal = degradation.calendar_fade_per_sqrt_day
        if k_cal > 0:  # k (sqrt(t + dt) - sqrt(t)) = step, t in equivalent days
            root = math.sqrt(max(self.equivalent_days, 0.0))
            days = ((root + _FADE_STEP / k_cal) ** 2 - root * root) / calendar_stress_factor(
                degradation, self.temperature_c
            )
            inverse += 1.0 / (days * SECONDS_PER_DAY)
        inverse += degradation.cycle_fade_per_efc * power_kw / (2.0 * self._nominal_kwh * 3600.0 * _FADE_STEP)
        return 1.0 / inverse if inverse > 0 else math.inf

    def _window_hit_s(self, p0_kw: float, slope_kw_per_s: float, target_kw: float) -> float:
        """Seconds until the SoC window stops a power ``p0 + slope * s`` that keeps its sign. [s]

        Solves ``integral |p| ds = headroom`` (a quadratic for a ramp) with the
        headroom at the PCC: ``(E - E_min) eta_d`` discharging,
        ``(E_max - E) / eta_c`` charging (standing loss ignored: the BMS clips
        the rest). ``inf`` when the window is not reached.
        """
        direction = p0_kw if p0_kw != 0 else target_kw
        spec, energy = self._spec_now, self._state.energy_kwh
        if direction > 0:
            headroom_kws = (energy - spec.e_min_kwh) * spec.eta_discharge * 3600.0
        elif direction < 0:
            headroom_kws = (spec.e_max_kwh - energy) / spec.eta_charge * 3600.0
        else:
            return math.inf
        a, c = abs(p0_kw), slope_kw_per_s * math.copysign(1.0, direction)  # |p|(s) = a + c s
        if abs(c) < 1e-12:
            s_hit = headroom_kws / a if a > 0 else math.inf
        else:
            disc = a * a + 2.0 * c * headroom_kws
            s_hit = math.inf if disc < 0 else (math.sqrt(disc) - a) / c
        return s_hit if s_hit > _MIN_SEGMENT_S else math.inf  # at the window already: the rest is clipped

    def _integrate(self, t: float, drive: tuple[float, float, float] | None = None) -> None:
        """Integrate one smooth piece from the last event to SimPy time ``t`` (``drive``: :meth:`_drive` now)."""
        dt_s = t - self._t
        if dt_s <= 0:
            return
        spec = self._spec_now
        target, wanted, p0 = drive or self._drive()
        self.fcr_requested_kwh += self._fcr_kw * dt_s / 3600.0
        diff = target - p0
        ramp_s = abs(diff) / self._ramp_kw_per_s
        if ramp_s >= dt_s:
            p1 = p0 + math.copysign(self._ramp_kw_per_s * dt_s, diff)
            mean_kw = 0.5 * (p0 + p1)
        else:
            p1 = target
            mean_kw = (0.5 * (p0 + target) * ramp_s + target * (dt_s - ramp_s)) / dt_s
        before = self._state
        after = battery_step(spec, before, mean_kw, dt_s / 3600.0)
        self._ref_kw = p1
        # the SoC window limited the piece: its flow stops at the window (a piece does not cross zero)
        self._actual_kw = 0.0 if after.power_kw != mean_kw else p1
        if self._fcr_kw != 0.0:
            # droop energy the limits (power rating, derating, SoC window) kept the plant from delivering
            held = (wanted - after.power_kw) * math.copysign(1.0, self._fcr_kw)
            short = min(max(held, 0.0), abs(self._fcr_kw)) * dt_s / 3600.0
            self.fcr_shortfall_kwh += math.copysign(short, self._fcr_kw)
        self._state = after
        loss_kw = (after.energy_lost_kwh - before.energy_lost_kwh) * 3600.0 / dt_s
        degradation = self.dynamics.degradation
        if Fault.OVER_TEMPERATURE in self.faults:
            self.temperature_c = self.dynamics.thermal.trip_c + 5.0
        elif self.event_driven:  # calendar ageing along the exact temperature path of the piece
            path = temperature_path(self.dynamics.thermal, self._nominal_kwh, self.temperature_c, loss_kw)
            self.equivalent_days += equivalent_days_over(degradation, dt_s, path)
            self.temperature_c = path(dt_s)
        else:
            self.temperature_c = step_temperature(
                self.dynamics.thermal, self._nominal_kwh, self.temperature_c, loss_kw, dt_s
            )
        if not self.event_driven or Fault.OVER_TEMPERATURE in self.faults:
            self.equivalent_days += dt_s / SECONDS_PER_DAY * calendar_stress_factor(
                degradation, self.temperature_c
            )
        self.soh = state_of_health(degradation, self.efc, self.equivalent_days)
        self._refresh_capacity(_FADE_STEP)
        self._t = t

    def _refresh_capacity(self, min_change: float) -> bool:
        """Shrink the usable capacity to the state of health now (with capacity fade on); whether it changed.

        Only a change of more than ``min_change`` (fraction of nominal) is
        applied: each change copies the battery's spec.
        """
        capacity_kwh = self._nominal_kwh * self.soh
        if (
            not self.dynamics.degradation.apply_capacity_fade
            or abs(capacity_kwh - self._spec_now.energy_kwh) <= min_change * self._nominal_kwh
        ):
            return False
        self._spec_now = self.spec.model_copy(update={"energy_kwh": capacity_kwh})
        return True

    def _run(self):  # SimPy process: the periodic step that updates telemetry
        while True:
            yield self.env.timeout(self.dynamics.timestep_s)
            self._advance_to(self.env.now)

    def _follow_frequency(self, frequency: FrequencyReplay):  # SimPy process: the droop at every sample
        while True:
            self._advance_to(self.env.now)
            if self.fcr_band_kw > 0:
                dead, full = self._droop
                hz = frequency.at(self.env.now)
                self._fcr_kw = float(fcr_response_kw(hz, self.fcr_band_kw, full, dead))
            else:
                self._fcr_kw = 0.0
            yield self.env.timeout(frequency.sample_s)

    def set_fcr_band(self, band_kw: float) -> None:
        """Hold a symmetric FCR band from now on (0: none); the droop follows from the next sample. [kW]

        Raises
        ------
        ValueError
            If ``band_kw`` is negative or not finite.
        """
        if not (math.isfinite(band_kw) and band_kw >= 0):
            raise ValueError(f"band_kw must be finite and >= 0, got {band_kw}")
        self._advance_to(self.env.now)
        self.fcr_band_kw = float(band_kw)
        if band_kw == 0:
            self._fcr_kw = 0.0

    def _apply(self, power_kw: float, write_count: int) -> None:
        if write_count != self._write_count or power_kw == self._target_kw:
            return  # a newer write superseded this one, or nothing changes
        self._advance_to(self.env.now)
        self._target_kw = power_kw

    def _expire(self, write_count: int) -> None:
        if write_count == self._write_count:
            self._advance_to(self.env.now)
            self.setpoint_kw = 0.0
            self._target_kw = 0.0

    # ------------------------------------------------------------------ commands
    def set_setpoint(self, power_kw: float) -> None:
        """Write a setpoint now; it takes effect after ``response_delay_s``.

        Parameters
        ----------
        power_kw : float
            Power at the PCC; positive discharges. The BMS limits it to the
            ratings, the SoC window and the thermal derating. [kW]

        Raises
        ------
        ValueError
            If ``power_kw`` is NaN or infinite (a real BMS rejects it too).
        """
        if not math.isfinite(power_kw):
            raise ValueError(f"power_kw must be finite, got {power_kw}")
        self._write_count += 1
        count = self._write_count
        self.setpoint_kw = float(power_kw)
        delay = self.dynamics.response_delay_s
        if delay > 0:
            event = self.env.timeout(delay)
            setpoint_kw = float(power_kw)
            event.callbacks.append(lambda _e: self._apply(setpoint_kw, count))
        else:
            self._apply(float(power_kw), count)
        timeout = self.dynamics.setpoint_timeout_s
        if timeout is not None:
            expiry = self.env.timeout(timeout)
            expiry.callbacks.append(lambda _e: self._expire(count))

    def snapshot(self) -> dict[str, float]:
        """The state a restarted simulator needs to continue (see :mod:`hardware.sim_state`)."""
        s = self._state
        return {
            "capacity_kwh": self._spec_now.energy_kwh,
            "energy_kwh": s.energy_kwh,
            "temperature_c": self.temperature_c,
            "soh": self.soh,
            "equivalent_days": self.equivalent_days,
            "energy_charged_kwh": s.energy_charged_kwh,
            "energy_discharged_kwh": s.energy_discharged_kwh,
            "energy_lost_kwh": s.energy_lost_kwh,
        }

    def restore(self, snapshot: dict[str, float]) -> None:
        """Continue from a :meth:`snapshot`.

        Raises
        ------
        ValueError
            If a value lies outside the battery's ranges (nothing changes).
        """
        soh = snapshot["soh"]
        if not 0.0 < soh <= 1.0:
            raise ValueError(f"soh {soh} outside (0, 1]")
        capacity = snapshot["capacity_kwh"]
        if not 0.0 < capacity <= self._nominal_kwh * (1 + 1e-9):
            raise ValueError(f"capacity_kwh {capacity} outside (0, {self._nominal_kwh}]")
        energy = snapshot["energy_kwh"]
        if not 0.0 <= energy <= capacity * (1 + 1e-9):
            raise ValueError(f"energy_kwh {energy} outside [0, {capacity}]")
        if not -40.0 <= snapshot["temperature_c"] <= 150.0:
            raise ValueError(f"temperature_c {snapshot['temperature_c']} implausible")
        self._advance_to(self.env.now)
        self._spec_now = self.spec.model_copy(update={"energy_kwh": capacity})
        self._state = BatteryState(
            energy_kwh=energy,
            soc=energy / capacity,
            power_kw=0.0,
            energy_charged_kwh=snapshot["energy_charged_kwh"],
            energy_discharged_kwh=snapshot["energy_discharged_kwh"],
            energy_lost_kwh=snapshot["energy_lost_kwh"],
        )
        self.temperature_c = snapshot["temperature_c"]
        self.soh = soh
        self.equivalent_days = snapshot["equivalent_days"]

    def advance(self, until_s: float) -> None:
        """Run the simulation up to SimPy time ``until_s`` (no-op if already there). [s]"""
        if until_s > self.env.now:
            self.env.run(until=until_s)
        self._advance_to(self.env.now)

    def inject(self, fault: Fault) -> None:
        """Start a fault (see :class:`Fault`)."""
        if fault is Fault.FROZEN:
            self._frozen = self._reading()
        self.faults.add(fault)

    def clear(self, fault: Fault | None = None) -> None:
        """End one fault, or all faults when ``fault`` is None."""
        self.faults.difference_update(self.faults if fault is None else {fault})

    # ------------------------------------------------------------------ readings
    @property
    def now_s(self) -> float:
        """SimPy time. [s]"""
        return float(self.env.now)

    @property
    def energy_kwh(self) -> float:
        """Stored energy. [kWh]"""
        return self._state.energy_kwh

    @property
    def soc(self) -> float:
        """SoC relative to the usable (faded) capacity. [fraction]"""
        return self._state.energy_kwh / self._spec_now.energy_kwh

    @property
    def power_kw(self) -> float:
        """Instantaneous power at the PCC. [kW]"""
        return self._actual_kw

    @property
    def energy_charged_kwh(self) -> float:
        """Cumulative energy drawn from the grid. [kWh]"""
        return self._state.energy_charged_kwh

    @property
    def energy_discharged_kwh(self) -> float:
        """Cumulative energy fed to the grid. [kWh]"""
        return self._state.energy_discharged_kwh

    @property
    def efc(self) -> float:
        """Equivalent full cycles (IEC 62933-2-1). [cycles]"""
        s = self._state
        return (s.energy_charged_kwh + s.energy_discharged_kwh) / (2.0 * self._nominal_kwh)

    def _reading(self) -> Telemetry:
        return Telemetry(
            timestamp=self.start_utc + dt.timedelta(seconds=self.now_s),
            soc=self.soc,
            power_kw=self._actual_kw,
            temperature_c=self.temperature_c,
            source=TelemetrySource.SIMULATED,
            soh=self.soh,
        )

    def telemetry(self) -> Telemetry:
        """The reading a meter would give now, faults included."""
        now = self.start_utc + dt.timedelta(seconds=self.now_s)
        if Fault.COMM_LOSS in self.faults:
            return unavailable(TelemetrySource.SIMULATED, "simulated: communication loss", now)
        if Fault.FROZEN in self.faults and self._frozen is not None:
            return self._frozen
        return self._reading()


class SimulatedDevice:
    """A :class:`SimulatedBattery` behind the :class:`~hardware.protocol.BatteryDevice` protocol.

    Every read and write first advances the SimPy clock to the market time of
    ``clock``, so the battery runs in real time times the clock's speed-up.

    Parameters
    ----------
    battery : SimulatedBattery
    clock : VirtualClock
        Must share the battery's ``start_utc``.
    """

    source = TelemetrySource.SIMULATED

    def __init__(self, battery: SimulatedBattery, clock: VirtualClock) -> None:
        self.battery = battery
        self.clock = clock

    @classmethod
    def from_site(cls, site, clock: VirtualClock, **_: object) -> SimulatedDevice:
        """Build from a :class:`~twin.config.SiteConfig` (registry factory)."""
        battery = SimulatedBattery(site.battery, site.dynamics, start_utc=clock.start_utc)
        return cls(battery, clock)

    def _sync(self) -> None:
        self.battery.advance(self.clock.elapsed_s())

    async def read_telemetry(self) -> Telemetry:
        """Advance to market time now and read the battery."""
        self._sync()
        return self.battery.telemetry()

    async def write_setpoint(self, power_kw: float) -> None:
        """Advance to market time now and write ``power_kw``. [kW]"""
        self._sync()
        self.battery.set_setpoint(power_kw)

    async def close(self) -> None:
        """Nothing to release."""
