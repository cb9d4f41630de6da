"""Grid constraints on schedules: each site's connection limits and limits shared by several sites.

A shared limit models a tie line or a transformer several sites hang on: the
sum of their exchanges with the grid must stay within it in every step. A
schedule that would break a limit raises an alert that names the constraint,
the first step and the worst overshoot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twin.types import FloatArray


@dataclass(frozen=True)
class SharedLimit:
    """A limit on the summed grid exchange of ``site_ids`` (tie line, transformer). [kW]"""

    name: str
    site_ids: tuple[str, ...]
    import_max_kw: float | None = None
    export_max_kw: float | None = None


@dataclass(frozen=True)
class ConstraintAlert:
    """A schedule that breaks a limit."""

    constraint: str
    direction: str
    first_step: int
    steps: int
    worst_overshoot_kw: float

    @property
    def message(self) -> str:
        """What breaks, where first, by how much at worst."""
        return (f"{self.constraint}: {self.direction} over its limit in {self.steps} step(s) from step "
                f"{self.first_step}, worst by {self.worst_overshoot_kw:,.1f} kW")  # fmt: skip


def _check(name: str, grid_kw: FloatArray, import_max: float | None, export_max: float | None) -> list[ConstraintAlert]:
    out = []
    for direction, over in (
        ("import", grid_kw - import_max if import_max is not None else None),
        ("export", -grid_kw - export_max if export_max is not None else None),
    ):
        if over is None:
            continue
        bad = np.flatnonzero(over > 1e-6)
        if len(bad):
            out.append(ConstraintAlert(name, direction, int(bad[0]), len(bad), float(over[bad].max())))
    return out


def check_schedules(
    grid_kw: dict[str, FloatArray],
    site_limits: dict[str, tuple[float | None, float | None]],
    shared: Sequence[SharedLimit] = (),
) -> list[ConstraintAlert]:
    """Alerts for every site and shared limit the schedules break.

    Parameters
    ----------
    grid_kw : dict of site_id to np.ndarray, shape (T,)
        Scheduled exchange with the grid, importing positive. [kW]
    site_limits : dict of site_id to (import_max_kw, export_max_kw)
    shared : sequence of SharedLimit

    Raises
    ------
    KeyError
        If a shared limit names a site without a schedule.
    """
    alerts = []
    for site_id, series in grid_kw.items():
        imp, exp = site_limits.get(site_id, (None, None))
        alerts += _check(f"site {site_id} connection", np.asarray(series, dtype=float), imp, exp)
    for limit in shared:
        missing = [s for s in limit.site_ids if s not in grid_kw]
        if missing:
            raise KeyError(f"shared limit {limit.name}: no schedule for site(s) {', '.join(missing)}")
        total = np.sum([np.asarray(grid_kw[s], dtype=float) for s in limit.site_ids], axis=0)
        alerts += _check(f"shared {limit.name}", total, limit.import_max_kw, limit.export_max_kw)
    return alerts
