"""Grid-frequency samples from a file (a replay of the real RTE 10-s samples, or any tidy CSV)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from twin.errors import DataError
from twin.grid.frequency import FrequencyReplay


def read_frequency(path: Path) -> pd.DataFrame:
    """Frequency samples: ``timestamp`` (as written), ``frequency_hz``, ``sample`` (recording).

    Accepts ``timestamp_utc`` or the RTE file's ``timestamp_naive_source_clock``
    (its time zone is not stated, so the time stays naive: a replay uses the
    spacing, not the wall clock) and ``frequency_hz`` or
    ``frequency_deviation_mhz``.

    Raises
    ------
    DataError
        If the file or the columns are missing, or a value does not parse.
    """
    if not path.is_file():
        raise DataError(f"{path}: frequency file not found; check the path and BESS_TWIN_DATA")
    frame = pd.read_csv(path)
    stamp = next((c for c in ("timestamp_utc", "timestamp_naive_source_clock") if c in frame), None)
    if stamp is None:
        raise DataError(f"{path}: needs timestamp_utc or timestamp_naive_source_clock; it has {', '.join(frame.columns)}")
    if "frequency_hz" in frame:
        hz = pd.to_numeric(frame["frequency_hz"], errors="coerce")
    elif "frequency_deviation_mhz" in frame:
        hz = 50.0 + pd.to_numeric(frame["frequency_deviation_mhz"], errors="coerce") / 1000.0
    else:
        raise DataError(f"{path}: needs frequency_hz or frequency_deviation_mhz; it has {', '.join(frame.columns)}")
    if hz.isna().any():
        raise DataError(f"{path}: {int(hz.isna().sum())} frequency value(s) are not numbers")
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(frame[stamp], utc=stamp == "timestamp_utc"),
            "frequency_hz": hz.to_numpy(dtype=float),
            "sample": frame["sample"] if "sample" in frame else "file",
        }
    )


def read_replay(path: Path) -> FrequencyReplay:
    """The samples of a frequency file as a :class:`~twin.grid.frequency.FrequencyReplay`.

    Recordings (the ``sample`` column) are joined end to end in file order; the
    spacing is the median spacing inside the recordings.

    Raises
    ------
    DataError
        As :func:`read_frequency`, or if the spacing is not positive.
    """
    frame = read_frequency(path)
    spacing = frame.groupby("sample", sort=False)["timestamp"].diff().dropna().dt.total_seconds()
    sample_s = float(spacing.median()) if len(spacing) else 0.0
    if not sample_s > 0:
        raise DataError(f"{path}: cannot tell the sample spacing (median {sample_s} s); the timestamps must increase")
    return FrequencyReplay(frame["frequency_hz"].to_numpy(dtype=float), sample_s)
