"""The grid service: frequency events from a frequency source and constraint alerts on schedules, per day.

Each day it checks the sites' scheduled exchange with the grid against their
connection limits and the limits shared by several sites
(:mod:`twin.grid.constraints`), and classifies the frequency samples of the
day into watch / FCR full activation / emergency events
(:mod:`twin.grid.frequency`). Events carry UTC times so they join the other
time series of a run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.grid.constraints import SharedLimit, check_schedules
from twin.grid.frequency import AlertLevels, FrequencyReplay, events
from twin.types import FloatArray


@dataclass(frozen=True)
class GridEvent:
    """One grid event: a frequency excursion or a schedule over a limit."""

    kind: str
    """``frequency`` or ``constraint``."""
    level: str
    """Frequency: watch, fcr_full or emergency; constraint: import or export."""
    subject: str
    """What the event is about: ``frequency`` or the constraint's name."""
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    value: float
    """Largest |deviation| in mHz, or the worst overshoot in kW."""
    message: str


@dataclass
class GridService:
    """Frequency monitoring and grid constraints (see the module docstring).

    Parameters
    ----------
    site_limits : dict of site_id to (import_max_kw, export_max_kw)
    shared : sequence of SharedLimit
    frequency : FrequencyReplay, optional
        Frequency source on the replay clock (seconds since ``start_utc``).
    start_utc : pd.Timestamp, optional
        UTC time of replay time 0 (the first delivery day's start).
    levels : AlertLevels
    """

    site_limits: dict[str, tuple[float | None, float | None]]
    shared: Sequence[SharedLimit] = ()
    frequency: FrequencyReplay | None = None
    start_utc: pd.Timestamp | None = None
    levels: AlertLevels = field(default_factory=AlertLevels)
    _events: list[GridEvent] = field(default_factory=list)
    _open: dict[tuple[str, str], tuple[pd.Timestamp, str, float, str]] = field(default_factory=dict)
    _last_utc: pd.Timestamp | None = None

    def on_day(
        self, date: dt.date, start_utc: pd.Timestamp, step: pd.Timedelta, grid_kw: dict[str, FloatArray]
    ) -> list[GridEvent]:
        """Events of one delivery day.

        Parameters
        ----------
        date : datetime.date
        start_utc : pd.Timestamp
            Start of the day. [UTC]
        step : pd.Timedelta
            Length of one schedule step.
        grid_kw : dict of site_id to np.ndarray, shape (n,)
            Scheduled exchange with the grid per step, importing positive. [kW]
        """
        found: list[GridEvent] = []
        for alert in check_schedules(grid_kw, self.site_limits, self.shared):
            first = start_utc + alert.first_step * step
            found.append(GridEvent("constraint", alert.direction, alert.constraint, first,
                                   first + alert.steps * step, alert.worst_overshoot_kw, f"{date}: {alert.message}"))  # fmt: skip
        n = len(next(iter(grid_kw.values()))) if grid_kw else 0
        if self.frequency is not None and self.start_utc is not None and n:
            t0 = (start_utc - self.start_utc).total_seconds()
            t1 = t0 + n * step.total_seconds()
            hz = self.frequency.window(t0, t1)
            sample = pd.Timedelta(seconds=self.frequency.sample_s)
            first_sample = pd.Timedelta(seconds=-(-t0 // self.frequency.sample_s) * self.frequency.sample_s)
            for i, j, level, dev in events(hz, self.levels):
                start = self.start_utc + first_sample + i * sample
                found.append(GridEvent("frequency", level, "frequency", start, start + (j - i + 1) * sample, dev,
                                       f"{date}: frequency {level} for {(j - i + 1) * self.frequency.sample_s:.0f} s, worst {dev:.1f} mHz"))  # fmt: skip
        self._events += found
        return found

    def observe(
        self, now_utc: pd.Timestamp, frequency_hz: float | None, grid_kw: dict[str, float]
    ) -> list[GridEvent]:
        """Live: classify one reading of the frequency and of each site's grid exchange; returns the events that ended.

        A condition that persists over consecutive readings is one event, from
        its first to its last reading, with its worst value; it is reported when
        a reading finds it over.

        Parameters
        ----------
        now_utc : pd.Timestamp
        frequency_hz : float or None
            The latest frequency reading, or None when there is none. [Hz]
        grid_kw : dict of site_id to float
            Each site's exchange with the grid now, importing positive. [kW]
        """
        current: dict[tuple[str, str], tuple[str, float, str]] = {}
        if frequency_hz is not None and np.isfinite(frequency_hz):
            level = str(self.levels.classify(np.array([frequency_hz]))[0])
            if level != "normal":
                dev = abs(frequency_hz - 50.0) * 1000.0
                current[("frequency", "frequency")] = (level, dev, f"frequency {level}, {dev:.1f} mHz")
        steps = {k: np.array([v]) for k, v in grid_kw.items() if np.isfinite(v)}
        known = set(steps)
        shared = [lim for lim in self.shared if set(lim.site_ids) <= known]
        for alert in check_schedules(steps, self.site_limits, shared):
            current[("constraint", alert.constraint)] = (alert.direction, alert.worst_overshoot_kw, alert.message)
        ended = []
        for key, (start, level, worst, message) in list(self._open.items()):
            if key not in current or current[key][0] != level:
                ended.append(GridEvent(key[0], level, key[1], start, self._last_utc or start, worst, message))
                del self._open[key]
        for key, (level, value, message) in current.items():
            if key in self._open:
                start, _, worst, old = self._open[key]
                self._open[key] = (start, level, max(worst, value), message if value >= worst else old)
            else:
                self._open[key] = (now_utc, level, value, message)
        self._last_utc = now_utc
        self._events += ended
        return ended

    def flush(self) -> list[GridEvent]:
        """Live: end every open event at the last reading (at the end of a run)."""
        ended = [GridEvent(k[0], level, k[1], start, self._last_utc or start, worst, message)
                 for k, (start, level, worst, message) in self._open.items()]  # fmt: skip
        self._open.clear()
        self._events += ended
        return ended

    def events(self) -> list[GridEvent]:
        """Every event so far, in order."""
        return list(self._events)
