"""Where a run keeps its delivered days: in memory, or spilled to disk in chunks for large fleets.

A 1,000-site year is 365,000 :class:`SiteDay` s, about 2 GB of small arrays at
hourly resolution, four times that at 15 minutes. The backtest driver hands
each gathered day to a :class:`SiteDayStore`; with a ``spill_dir`` it keeps
only the current chunk of ``chunk_days`` days in memory and writes each chunk
as one file holding one pickled block per site, with an index of offsets, so
the results are assembled one site at a time (:meth:`SiteDayStore.site`)
while the driver's memory stays flat.

The store is also a sequence of days (``store[d][k]``, ``for day in store``),
as the list of lists it replaces; reading a spilled day loads its chunk.
"""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

from twin.backtest.site_day import SiteDay


class SiteDayStore(Sequence[list[SiteDay]]):
    """Per delivery day, one :class:`SiteDay` per site (scenario order).

    Parameters
    ----------
    spill_dir : Path, optional
        Folder for the chunk files (created; the caller removes it). Without it
        everything stays in memory.
    chunk_days : int
        Days per chunk file when spilling.
    """

    def __init__(self, spill_dir: Path | None = None, chunk_days: int = 32) -> None:
        if chunk_days < 1:
            raise ValueError(f"chunk_days must be >= 1, got {chunk_days}")
        self.spill_dir, self.chunk_days = spill_dir, chunk_days
        if spill_dir is not None:
            spill_dir.mkdir(parents=True, exist_ok=True)
        self.dates: list[dt.date] = []
        self._memory: list[list[SiteDay]] = []  # everything, or the open chunk when spilling
        self._chunks: list[tuple[Path, list[tuple[int, int]]]] = []  # file, (offset, length) per site
        self._cached: tuple[int, list[list[SiteDay]]] | None = None
        self.n_sites = 0

    def append(self, day: list[SiteDay]) -> None:
        """Add the next delivery day (one entry per site, scenario order).

        Raises
        ------
        ValueError
            If the day has another number of sites than the days before.
        """
        if self.dates and len(day) != self.n_sites:
            raise ValueError(f"a day has {len(day)} sites, the run {self.n_sites}")
        self.n_sites = len(day)
        self.dates.append(day[0].delivery_date if day else dt.date.min)
        self._memory.append(list(day))
        if self.spill_dir is not None and len(self._memory) == self.chunk_days:
            self._spill()

    def _spill(self) -> None:
        assert self.spill_dir is not None
        path = self.spill_dir / f"chunk-{len(self._chunks):05d}.pkl"
        index = []
        with path.open("wb") as f:
            for k in range(self.n_sites):
                blob = pickle.dumps([day[k] for day in self._memory], protocol=pickle.HIGHEST_PROTOCOL)
                index.append((f.tell(), len(blob)))
                f.write(blob)
        self._chunks.append((path, index))
        self._memory = []

    def site(self, k: int) -> list[SiteDay]:
        """Every day of site ``k`` (scenario position), in order; reads one block per chunk."""
        days: list[SiteDay] = []
        for path, index in self._chunks:
            offset, length = index[k]
            with path.open("rb") as f:
                f.seek(offset)
                days.extend(pickle.loads(f.read(length)))
        days.extend(day[k] for day in self._memory)
        return days

    def _chunk(self, c: int) -> list[list[SiteDay]]:
        if self._cached is None or self._cached[0] != c:
            path, index = self._chunks[c]
            with path.open("rb") as f:
                per_site = [pickle.loads(f.read(length)) for _, length in index]
            self._cached = (c, [list(day) for day in zip(*per_site, strict=True)])
        return self._cached[1]

    def __len__(self) -> int:
        return len(self.dates)

    @overload
    def __getitem__(self, i: int) -> list[SiteDay]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[SiteDay]]: ...
    def __getitem__(self, i: int | slice) -> list[SiteDay] | list[list[SiteDay]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"day {i} of {len(self)}")
        spilled = len(self._chunks) * self.chunk_days
        if i >= spilled:
            return self._memory[i - spilled]
        return self._chunk(i // self.chunk_days)[i % self.chunk_days]

    def __iter__(self) -> Iterator[list[SiteDay]]:
        for i in range(len(self)):
            yield self[i]
