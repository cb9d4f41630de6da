"""Grid constraints by hand: a site's connection, a transformer shared by two sites."""

from __future__ import annotations

import numpy as np
import pytest

from twin.grid.constraints import SharedLimit, check_schedules


def test_site_and_shared_limits_by_hand():
    grid = {"a": np.array([50.0, 120.0, -30.0, 90.0]), "b": np.array([40.0, 10.0, -90.0, 30.0])}
    alerts = check_schedules(
        grid, {"a": (100.0, None), "b": (None, 80.0)}, [SharedLimit("trafo 1", ("a", "b"), 115.0, 100.0)]
    )
    by = {(a.constraint, a.direction): a for a in alerts}
    assert by[("site a connection", "import")].first_step == 1 and by[("site a connection", "import")].worst_overshoot_kw == 20.0
    assert by[("site b connection", "export")].worst_overshoot_kw == pytest.approx(10.0)
    shared = by[("shared trafo 1", "import")]  # sums 90, 130, -120, 120
    assert (shared.first_step, shared.steps, shared.worst_overshoot_kw) == (1, 2, 15.0)
    assert by[("shared trafo 1", "export")].worst_overshoot_kw == pytest.approx(20.0)
    assert "shared trafo 1: import over its limit in 2 step(s) from step 1, worst by 15.0 kW" in [a.message for a in alerts]
    assert check_schedules({"a": np.zeros(3)}, {"a": (1.0, 1.0)}) == []
    with pytest.raises(KeyError, match="no schedule for site"):
        check_schedules(grid, {}, [SharedLimit("t", ("a", "c"), 1.0)])
