"""FCR capacity prices per block, onto the backtest's steps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import DataError
from twin.io.profiles import read_columns

_COLUMNS = ("timestamp_utc", "block_hours", "fcr_capacity_price_eur_per_mw")


@dataclass(frozen=True)
class FcrPrices:
    """FCR capacity prices on the backtest's steps.

    Attributes
    ----------
    eur_per_mw_h : np.ndarray, shape (T,)
        The block's price per MW divided by its hours; NaN where the block has
        no published price or the data do not cover the step. [EUR/MW/h]
    block : np.ndarray of int, shape (T,)
        Block number of each step (-1 outside the data); equal in one block.
    """

    eur_per_mw_h: np.ndarray
    block: np.ndarray

    @property
    def tie(self) -> np.ndarray:
        """True where a step is in the same block as the step before."""
        tie = np.zeros(len(self.block), dtype=bool)
        tie[1:] = (self.block[1:] == self.block[:-1]) & (self.block[1:] >= 0)
        return tie


def load_fcr_prices(path: Path, index_utc: pd.DatetimeIndex) -> FcrPrices:
    """Read block prices (``timestamp_utc`` block start, ``block_hours``, price per MW) onto ``index_utc``.

    Raises
    ------
    DataError
        If the file or a column is missing, or no block overlaps ``index_utc``.
    """
    frame = read_columns(path, _COLUMNS, "FCR capacity prices")
    starts = pd.DatetimeIndex(pd.to_datetime(frame["timestamp_utc"], utc=True))
    ends = starts + pd.to_timedelta(frame["block_hours"].to_numpy(dtype=float), unit="h")
    per_h = frame["fcr_capacity_price_eur_per_mw"].to_numpy(dtype=float) / frame["block_hours"].to_numpy(dtype=float)
    starts, ends = starts.as_unit("ns"), ends.as_unit("ns")
    at = index_utc.as_unit("ns").asi8
    order = np.argsort(starts.asi8)
    starts, ends, per_h = starts[order], ends[order], per_h[order]
    pos = np.searchsorted(starts.asi8, at, side="right") - 1
    inside = (pos >= 0) & (at < ends.asi8[np.clip(pos, 0, None)])
    price = np.where(inside, per_h[np.clip(pos, 0, None)], np.nan)
    if not inside.any():
        raise DataError(
            f"{path}: no FCR block covers {index_utc[0]} to {index_utc[-1]}; the file covers "
            f"{starts[0]} to {ends[-1]}"
        )
    return FcrPrices(eur_per_mw_h=price, block=np.where(inside, pos, -1))
