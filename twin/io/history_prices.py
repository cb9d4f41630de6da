"""Earlier price files as the forecasters' published history (``market.prices.history_paths``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from twin.config import MarketConfig
from twin.errors import DataError
from twin.io.readers import read_tidy_csv


def read_history_files(market: MarketConfig, before_utc: pd.Timestamp, step: pd.Timedelta) -> pd.Series | None:
    """The prices of ``market.prices.history_paths`` before ``before_utc``, on a grid of ``step``.

    The history only feeds the forecasters (what was published before the
    backtest's first day); it never adds delivery days. A coarser history (an
    hourly year before a 15-min backtest) holds each price over its interval.

    Returns
    -------
    pd.Series or None
        [EUR/MWh] on a UTC index; None without history files.

    Raises
    ------
    DataError
        If a file cannot be read or holds no price before ``before_utc``.
    """
    cfg = market.prices
    if not cfg.history_paths:
        return None
    parts = []
    for i, path in enumerate(cfg.history_paths):
        key = f"market.prices.history_paths[{i}]"
        if not Path(path).is_file():
            raise DataError(f"{key}: file not found: {path}; set BESS_TWIN_DATA to the data folder")
        parts.append(read_tidy_csv(Path(path), market.zone, cfg.column, key=key))
    history = pd.concat(parts).sort_index()
    history = history[~history.index.duplicated(keep="first")]
    history = history.loc[history.index < before_utc].dropna()
    if history.empty:
        raise DataError(f"market.prices.history_paths: no price before {before_utc}; they must precede market.prices.path")
    native = pd.Timedelta(history.index.to_series().diff().dropna().mode().iloc[0])
    if native > step:
        grid = pd.date_range(history.index[0], before_utc, freq=step, inclusive="left")
        history = history.reindex(grid, method="ffill", limit=int(native / step) - 1)
    out: pd.Series = history.rename("price_eur_per_mwh")
    return out
