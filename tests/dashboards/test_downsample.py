"""M4 downsampling keeps every bucket's extremes: a hand case and invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboards.downsample import m4


def test_a_spike_survives_where_every_nth_point_would_lose_it():
    values = np.zeros(10_000)
    values[4_321] = 500.0  # one quarter hour of a price spike
    frame = pd.DataFrame({"price": values})
    small = m4(frame, ["price"], 400)
    assert len(small) <= 400 and small["price"].max() == 500.0
    assert frame.iloc[::25]["price"].max() == 0.0  # the naive way drops it
    assert m4(frame.head(300), ["price"], 400) is not None and len(m4(frame.head(300), ["price"], 400)) == 300


def test_too_few_points_for_the_columns_is_refused():
    with pytest.raises(ValueError, match="max_points 6 is below 4 per column"):
        m4(pd.DataFrame({"a": range(100), "b": range(100)}), ["a", "b"], 6)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=1, max_size=3000),
    max_points=st.integers(8, 500),
)
def test_invariants(values, max_points):
    frame = pd.DataFrame({"y": values, "t": range(len(values))})
    small = m4(frame, ["y"], max_points)
    assert small["t"].is_monotonic_increasing and set(small["t"]) <= set(frame["t"])  # rows of the frame, in order
    assert len(small) <= max(len(frame) if len(frame) <= max_points else max_points, 1)
    if len(frame) > 0:
        assert small["t"].iloc[0] == 0 and small["t"].iloc[-1] == len(frame) - 1
    finite = frame["y"].dropna()
    if len(finite):
        assert small["y"].max() == finite.max() and small["y"].min() == finite.min()
