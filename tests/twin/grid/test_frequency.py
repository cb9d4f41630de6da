"""FCR droop by hand at 0, +-100, +-200, +-300 mHz; alert levels; a replay of the real RTE samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.grid.frequency import AlertLevels, fcr_response_kw


@pytest.mark.parametrize(
    ("deviation_mhz", "expected_kw"),
    [(0, 0.0), (5, 0.0), (-10, 0.0), (-100, 50.0), (100, -50.0), (-200, 100.0), (200, -100.0), (-300, 100.0), (300, -100.0)],
)
def test_droop_by_hand(deviation_mhz, expected_kw) -> None:
    assert float(fcr_response_kw(50.0 + deviation_mhz / 1000.0, 100.0)) == pytest.approx(expected_kw)


def test_alert_levels() -> None:
    levels = AlertLevels().classify(np.array([50.0, 50.049, 49.94, 50.2, 49.7, 49.1, 50.85]))
    assert list(levels) == ["normal", "normal", "watch", "fcr_full", "fcr_full", "emergency", "emergency"]
    with pytest.raises(ValueError, match="deadband_mhz 300"):
        fcr_response_kw(50.0, 1.0, deadband_mhz=300)


@pytest.mark.data
def test_replay_of_the_real_samples_stays_within_the_band(data_dir) -> None:
    frame = pd.read_csv(data_dir / "grid_frequency_ce_rte_10s_samples" / "grid_frequency_rte_10s_samples.csv")
    power = fcr_response_kw(frame.frequency_hz.to_numpy(), 1000.0)
    assert np.abs(power).max() <= 1000.0
    # the response is the droop of the recorded deviation, sign against it
    outside = np.abs(frame.frequency_deviation_mhz) > 10
    assert (np.sign(power[outside]) == -np.sign(frame.frequency_deviation_mhz[outside])).all()
    np.testing.assert_allclose(power[outside], -1000.0 * frame.frequency_deviation_mhz[outside] / 200.0, atol=1e-6)


def test_events_are_contiguous_runs_with_their_worst_level() -> None:
    from twin.grid.frequency import events

    hz = np.array([50.0, 49.94, 49.79, 49.945, 50.0, 50.06, 50.0])  # 50 mHz exactly is still normal
    assert events(hz) == [(1, 3, "fcr_full", pytest.approx(210.0)), (5, 5, "watch", pytest.approx(60.0))]


@pytest.mark.data
def test_real_samples_read_and_their_events(data_dir) -> None:
    from twin.grid.frequency import events
    from twin.io.frequency import read_frequency

    frame = read_frequency(data_dir / "grid_frequency_ce_rte_10s_samples" / "grid_frequency_rte_10s_samples.csv")
    assert len(frame) == 15_000 and frame.frequency_hz.between(49.9, 50.2).all()
    found = events(frame.frequency_hz.to_numpy())
    assert found and all(level == "watch" for _, _, level, _ in found)  # 49.92-50.11 Hz: watch only
    assert max(dev for *_, dev in found) == pytest.approx(114.5, abs=0.1)
