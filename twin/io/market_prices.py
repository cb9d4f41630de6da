"""Price series beside the day-ahead auction: intraday reference prices and measured imbalance prices.

Both are read with the day-ahead readers and checks (:mod:`twin.io.prices`) and
put on the backtest's grid by the caller. Intraday prices keep their gaps (a
day without them is not traded intraday); imbalance prices must cover the
backtest period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.config import MarketConfig
from twin.errors import DataError
from twin.io.prices import (
    IMBALANCE_BOUNDS_EUR_PER_MWH,
    INTRADAY_BOUNDS_EUR_PER_MWH,
    PriceSeries,
    load_prices,
)


def load_intraday_prices(market: MarketConfig, *, strict: bool = False) -> PriceSeries | None:
    """Load the intraday reference prices a scenario names (NaN where the file has none).

    Parameters
    ----------
    market : MarketConfig
        ``market.intraday.prices`` and ``reference`` say which file and column.
    strict : bool
        See :func:`load_prices`.

    Returns
    -------
    PriceSeries or None
        The reference series at the file's step, missing steps NaN; None when the
        scenario trades no intraday data (intraday off, or ``mark: day_ahead``).

    Raises
    ------
    DataError
        If the file cannot be read or holds implausible prices.
    """
    intraday = market.intraday
    if not intraday.enabled or intraday.mark != "data" or intraday.prices is None:
        return None
    return load_prices(
        market,
        strict=strict,
        cfg=intraday.prices.model_copy(update={"column": intraday.column}),
        key="market.intraday.prices",
        bounds_eur_per_mwh=INTRADAY_BOUNDS_EUR_PER_MWH,
        keep_missing=True,
    )


def load_imbalance_prices(
    market: MarketConfig,
    index: pd.DatetimeIndex,
    *,
    strict: bool = False,
    period: slice | None = None,
) -> np.ndarray | None:
    """Load measured imbalance prices aligned to the day-ahead steps, if the scenario names any.

    Parameters
    ----------
    market : MarketConfig
        ``market.imbalance.prices`` says where the data are (same keys as
        ``market.prices``); ``None`` means the spread model is used.
    index : pd.DatetimeIndex, length T
        UTC step starts of the day-ahead series.
    strict : bool
        See :func:`load_prices`.
    period : slice, optional
        The positions of ``index`` that must be covered (the backtest period);
        default all of them. Steps outside it may be NaN.

    Returns
    -------
    np.ndarray, shape (T,), or None
        Imbalance price per day-ahead step (mean over finer imbalance periods). [EUR/MWh]

    Raises
    ------
    DataError
        If the file cannot be read or does not cover every step of the period.
    """
    cfg = market.imbalance.prices
    if cfg is None:
        return None
    key = "market.imbalance.prices"
    series = load_prices(
        market, strict=strict, cfg=cfg, key=key, bounds_eur_per_mwh=IMBALANCE_BOUNDS_EUR_PER_MWH
    )
    values = series.price_eur_per_mwh
    step = index[1] - index[0]
    if series.step < step:
        values = values.groupby(pd.DatetimeIndex(values.index).floor(step)).mean()
    aligned = values.reindex(index)
    needed = aligned.iloc[period] if period is not None else aligned
    missing = int(needed.isna().sum())
    if missing:
        first = needed.index[needed.isna()][0]
        raise DataError(
            f"{key}: {missing} day-ahead step(s) of the backtest period have no imbalance "
            f"price, the first at {first}; extend the file, shorten backtest.start/end, or "
            f"remove {key} to use the spread model"
        )
    return aligned.to_numpy(dtype=float, copy=True)
