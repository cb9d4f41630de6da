"""A pickled SiteDay comes back equal, with writable float64 arrays (one block of bytes on the wire)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle

import numpy as np
import pytest

from twin.backtest.site_day import SiteDay


def _day(n: int = 24, **extra) -> SiteDay:
    rng = np.random.default_rng(n)
    arrays = {f.name: rng.normal(size=n) for f in dataclasses.fields(SiteDay) if f.type == "FloatArray"}
    return SiteDay(site_id="s0", delivery_date=dt.date(2023, 3, 26), used_milp=True, **arrays, **extra)


def _assert_equal(a: SiteDay, b: SiteDay) -> None:
    for f in dataclasses.fields(SiteDay):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray) and y.flags.writeable and y.dtype == np.float64
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y, f.name


@pytest.mark.parametrize("n", [23, 24, 96, 1])
def test_round_trip_keeps_every_field(n):
    day = _day(n, load_kw=np.arange(float(n)), pv_kw=np.zeros(n), strategy="self_consumption")
    back = pickle.loads(pickle.dumps(day, protocol=5))
    _assert_equal(day, back)
    assert back.grid_kw is None and back.fcr_band_kw is None
    back.power_kw[0] = 1e9  # rows of one block: writing one leaves the others alone
    assert back.energy_kwh[0] == day.energy_kwh[0]


def test_arrays_of_another_shape_or_dtype_pickle_field_by_field():
    day = dataclasses.replace(_day(4), soc=np.array([1, 2, 3, 4], dtype=np.int64))
    back = pickle.loads(pickle.dumps(day))
    assert back.soc.dtype == np.int64
    np.testing.assert_array_equal(back.soc, day.soc)
    np.testing.assert_array_equal(back.revenue_eur, day.revenue_eur)


def test_one_block_is_smaller_than_field_by_field():
    day = _day(24)
    packed = len(pickle.dumps(day, protocol=5))
    plain = len(pickle.dumps({f.name: getattr(day, f.name) for f in dataclasses.fields(SiteDay)}, protocol=5))
    assert packed < plain
