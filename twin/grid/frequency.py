"""Grid frequency: alert levels and the FCR droop response of a battery holding a band.

FCR in Continental Europe (Commission Regulation (EU) 2017/1485, SO GL,
Art. 154 and Annex V): the full band is activated at a deviation of 200 mHz,
linearly below it; the insensitivity (deadband) is at most +-10 mHz. A
positive ``power_kw`` discharges (the twin's sign), so under-frequency makes
the battery discharge.

Alert levels (defaults, configurable): ``watch`` beyond +-50 mHz (outside the
standard frequency range of SO GL Annex III), ``fcr_full`` at +-200 mHz (FCR
fully activated), ``emergency`` beyond +-800 mHz (the alert/emergency range of
SO GL Art. 18 and the first stage of the under-frequency load-shedding plan at
49.0 Hz lies below it).

References
----------
.. [1] Commission Regulation (EU) 2017/1485 (SO GL), Art. 18, 154, Annex III and V.
.. [2] ENTSO-E, "Continental Europe Operation Handbook, Policy 1: Load-Frequency
   Control and Performance", 2009.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.types import FloatArray

NOMINAL_HZ = 50.0


def fcr_response_kw(
    frequency_hz: FloatArray | float,
    band_kw: FloatArray | float,
    full_activation_mhz: float = 200.0,
    deadband_mhz: float = 10.0,
) -> FloatArray:
    """Power a site holding an FCR band must add to its schedule. [kW], discharge positive.

    ``band_kw * clip(-df / full_activation, -1, 1)`` outside the deadband, 0
    inside it (``|df| <= deadband``); ``df = f - 50 Hz``.

    Parameters
    ----------
    frequency_hz : float or np.ndarray, shape (n,)
    band_kw : float or np.ndarray, shape (n,)
        Symmetric FCR band held in each sample. [kW]

    Raises
    ------
    ValueError
        If the deadband is not below the full-activation deviation.
    """
    if not 0 <= deadband_mhz < full_activation_mhz:
        raise ValueError(f"deadband_mhz {deadband_mhz} must lie in [0, full_activation_mhz={full_activation_mhz})")
    deviation_mhz = (np.asarray(frequency_hz, dtype=float) - NOMINAL_HZ) * 1000.0
    share = np.clip(-deviation_mhz / full_activation_mhz, -1.0, 1.0)
    out: FloatArray = np.where(np.abs(deviation_mhz) <= deadband_mhz, 0.0, share) * np.asarray(band_kw, dtype=float)
    return out


@dataclass(frozen=True)
class AlertLevels:
    """Deviation thresholds of the frequency alerts. [mHz]"""

    watch_mhz: float = 50.0
    fcr_full_mhz: float = 200.0
    emergency_mhz: float = 800.0

    def classify(self, frequency_hz: FloatArray) -> np.ndarray:
        """Alert level of each sample: ``normal``, ``watch``, ``fcr_full`` or ``emergency``."""
        dev = np.abs((np.asarray(frequency_hz, dtype=float) - NOMINAL_HZ) * 1000.0)
        out = np.full(dev.shape, "normal", dtype=object)
        out[dev > self.watch_mhz] = "watch"
        out[dev >= self.fcr_full_mhz] = "fcr_full"
        out[dev > self.emergency_mhz] = "emergency"
        return out


def events(frame_hz: FloatArray, levels: AlertLevels | None = None) -> list[tuple[int, int, str, float]]:
    """Contiguous runs of samples above ``normal``: ``(first, last, worst level, largest |df| in mHz)``.

    Parameters
    ----------
    frame_hz : np.ndarray, shape (n,)
        Frequency samples in order. [Hz]
    """
    order = ["normal", "watch", "fcr_full", "emergency"]
    hz = np.asarray(frame_hz, dtype=float)
    level = (levels or AlertLevels()).classify(hz)
    out: list[tuple[int, int, str, float]] = []
    i = 0
    while i < len(hz):
        if level[i] == "normal":
            i += 1
            continue
        j = i
        while j + 1 < len(hz) and level[j + 1] != "normal":
            j += 1
        worst = max(level[i : j + 1], key=order.index)
        out.append((i, j, str(worst), float(np.abs(hz[i : j + 1] - NOMINAL_HZ).max() * 1000.0)))
        i = j + 1
    return out


class FrequencyReplay:
    """Recorded frequency samples replayed from time 0, end to end and repeated.

    Sample ``i`` holds from ``i * sample_s`` to ``(i + 1) * sample_s``; after the
    last sample the recording starts again. A backtest that replays a short
    recording over a year uses a realistic *pattern* of the frequency, not the
    frequency of its period; results say so.

    Parameters
    ----------
    frequency_hz : np.ndarray, shape (n,)
        Samples in order. [Hz]
    sample_s : float
        Spacing of the samples. [s]

    Raises
    ------
    ValueError
        Without samples, with a non-finite sample or a spacing <= 0.
    """

    def __init__(self, frequency_hz: FloatArray, sample_s: float) -> None:
        hz = np.asarray(frequency_hz, dtype=float)
        if hz.size == 0 or not np.isfinite(hz).all():
            raise ValueError("a frequency replay needs at least one sample and only finite values")
        if not sample_s > 0:
            raise ValueError(f"sample_s {sample_s} must be > 0")
        self.frequency_hz = hz
        self.sample_s = float(sample_s)

    @property
    def duration_s(self) -> float:
        """Length of the recording. [s]"""
        return len(self.frequency_hz) * self.sample_s

    def at(self, t_s: float) -> float:
        """Frequency at replay time ``t_s``. [Hz]"""
        return float(self.frequency_hz[int(t_s // self.sample_s) % len(self.frequency_hz)])

    def window(self, t0_s: float, t1_s: float) -> FloatArray:
        """The samples that start in ``[t0_s, t1_s)``, in order (wrapping around). [Hz]"""
        first = int(np.ceil(t0_s / self.sample_s - 1e-9))
        last = int(np.ceil(t1_s / self.sample_s - 1e-9))
        out: FloatArray = self.frequency_hz[np.arange(first, last) % len(self.frequency_hz)]
        return out
