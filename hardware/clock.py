"""Market time for live runs: wall-clock time sped up by a constant factor."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class VirtualClock:
    """Maps wall-clock time to market time: ``t = start + speed_up * (wall - wall0)``.

    Every actor gets the same ``start_utc``, ``speed_up`` and ``wall0_unix`` and so
    agrees on market time without talking to a clock service.

    Attributes
    ----------
    start_utc : datetime.datetime
        Market time at ``wall0_unix`` (timezone-aware).
    speed_up : float
        Market seconds per wall-clock second.
    wall0_unix : float
        Wall-clock start (``time.time()``). [s]
    """

    start_utc: dt.datetime
    speed_up: float = 1.0
    wall0_unix: float = field(default_factory=time.time)

    def elapsed_s(self) -> float:
        """Market seconds since the start. [s]"""
        return (time.time() - self.wall0_unix) * self.speed_up

    def now(self) -> dt.datetime:
        """Current market time (UTC)."""
        return self.start_utc + dt.timedelta(seconds=self.elapsed_s())

    def wall_seconds(self, market_seconds: float) -> float:
        """Wall-clock seconds that ``market_seconds`` of market time take. [s]"""
        return market_seconds / self.speed_up
