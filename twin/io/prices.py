"""Day-ahead price series: one regular, gap-free, tz-aware UTC series per run.

:func:`regularise` turns what a reader found in a file into a
:class:`PriceSeries`: it sorts, resolves duplicates, infers the resolution per
local day (15-min and hourly days may be mixed, as around the EPEX switch to
15-min products on 2025-10-01; an hourly price holds for its four quarter hours),
and treats gaps by the scenario's ``fill`` policy. :func:`load_prices` is the
one entry point the rest of the code uses.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from twin.config import MarketConfig, PriceDataConfig
from twin.errors import DataError
from twin.io.readers import read_entsoe_csv, read_tidy_csv

log = logging.getLogger(__name__)

_ALLOWED_STEPS = tuple(pd.Timedelta(minutes=m) for m in (5, 10, 15, 20, 30, 60))

DAY_AHEAD_BOUNDS_EUR_PER_MWH = (-500.0, 4000.0)
"""Default plausible day-ahead prices: the SDAC harmonised minimum and maximum clearing prices."""

IMBALANCE_BOUNDS_EUR_PER_MWH = (-100_000.0, 100_000.0)
"""Default plausible imbalance prices (reBAP reached -8,271 and +11,443 EUR/MWh in 2021-2022)."""


INTRADAY_BOUNDS_EUR_PER_MWH = (-9999.0, 9999.0)
"""Default plausible intraday prices: the EPEX intraday continuous harmonised limits."""


@dataclass(frozen=True)
class PriceSeries:
    """A regular day-ahead price series.

    Attributes
    ----------
    price_eur_per_mwh : pd.Series
        Prices on a regular tz-aware UTC ``DatetimeIndex`` (interval start), no NaN. [EUR/MWh]
    step : pd.Timedelta
        Market time unit of the series (15 min or 1 h for day-ahead data).
    zone : str
        Bidding zone.
    source : str
        Where the data came from (a path or an API name).
    filled_steps : int
        How many steps a fill policy filled.
    """

    price_eur_per_mwh: pd.Series
    step: pd.Timedelta
    zone: str
    source: str
    filled_steps: int = 0

    @property
    def dt_h(self) -> float:
        """Step length. [h]"""
        return self.step / pd.Timedelta(hours=1)

    @property
    def index(self) -> pd.DatetimeIndex:
        """The UTC index of the series."""
        return pd.DatetimeIndex(self.price_eur_per_mwh.index)


def _resolve_duplicates(raw: pd.Series, policy: str, key: str = "market.prices") -> pd.Series:
    dup = raw.index.duplicated(keep=False)
    if not dup.any():
        return raw
    if policy == "error":
        first = raw.index[dup][:3]
        raise DataError(
            f"price data hold {int(dup.sum())} rows with a repeated timestamp (first: "
            f"{[t.isoformat() for t in first]}); set {key}.duplicates to "
            "first, last or mean to resolve them"
        )
    if policy == "mean":
        return raw.groupby(level=0).mean()
    keep: Literal["first", "last"] = "first" if policy == "first" else "last"
    return raw[~np.asarray(raw.index.duplicated(keep=keep), dtype=bool)]


def _infer_steps(index: pd.DatetimeIndex, tz: str) -> tuple[pd.Timedelta, np.ndarray]:
    """Finest step of the series and each point's own interval length (per local day)."""
    diffs = index[1:] - index[:-1]
    if len(diffs) == 0:
        raise DataError("price data hold fewer than two timestamps; cannot infer a resolution")
    local_day = index.tz_convert(tz).normalize()
    per_point = pd.Series([*diffs, diffs[-1]], index=index)
    # A day's resolution is its most common step; gaps inside the day do not change it.
    day_step = per_point.groupby(local_day).agg(lambda s: s.mode().iloc[0])
    point_step = day_step.reindex(local_day).to_numpy()
    finest = pd.Timedelta(min(day_step))
    if finest not in _ALLOWED_STEPS:
        raise DataError(
            f"price data have a step of {finest}; supported market time units are "
            f"{', '.join(str(s) for s in _ALLOWED_STEPS)}"
        )
    return finest, point_step


def regularise(
    raw: pd.Series,
    *,
    tz: str,
    fill: str = "error",
    max_fill_h: float | None = None,
    duplicates: str = "error",
    zone: str = "",
    source: str = "",
    strict: bool = False,
    key: str = "market.prices",
    bounds_eur_per_mwh: tuple[float, float] = DAY_AHEAD_BOUNDS_EUR_PER_MWH,
    keep_missing: bool = False,
) -> PriceSeries:
    """Turn a raw price series into a regular, gap-free :class:`PriceSeries`.

    Parameters
    ----------
    raw : pd.Series
        Prices [EUR/MWh] on a tz-aware UTC index; NaN for missing values.
    tz : str
        Local market time zone; days (for per-day resolution and the
        ``previous_day`` fill) are local days.
    fill : {'error', 'ffill', 'interpolate', 'previous_day'}
        What to do with missing steps: raise, carry the last price forward,
        interpolate linearly in time, or copy the same local time of the day before.
    max_fill_h : float, optional
        Longest gap any fill policy may fill; longer gaps raise. [h]
    duplicates : {'error', 'first', 'last', 'mean'}
        What to do with repeated timestamps.
    strict : bool
        Raise instead of warning when a fill policy fills gaps (``backtest.strict``).
    zone, source : str
        Carried into the result.
    key : str
        The scenario key the data come from, for messages (``market.prices``,
        ``market.imbalance.prices``).
    bounds_eur_per_mwh : tuple of float
        Plausible prices (low, high); values outside, and infinite ones, are
        errors. [EUR/MWh]
    keep_missing : bool
        Leave missing steps NaN instead of applying ``fill`` (intraday prices:
        a day with a gap is not traded, rather than traded on invented prices).

    Returns
    -------
    PriceSeries
        Regular at the finest step found; coarser days are expanded (an hourly
        price holds for each quarter hour of its hour).

    Raises
    ------
    DataError
        On duplicates or gaps the policies do not cover, on an unsupported
        resolution, on infinite or implausible prices, or when no price is left.
    """
    if not isinstance(raw.index, pd.DatetimeIndex) or raw.index.tz is None:
        raise DataError("price index must be a tz-aware DatetimeIndex")
    _check_values(raw, key, source, bounds_eur_per_mwh)
    utc = raw.tz_convert("UTC")
    if not utc.index.is_monotonic_increasing:
        log.warning("%s: rows are not in time order; sorted them by timestamp", source or key)
    series = _resolve_duplicates(utc.sort_index(), duplicates, key)
    if series.notna().sum() == 0:
        raise DataError(f"{source or 'price data'}: no price values")
    finest, point_step = _infer_steps(pd.DatetimeIndex(series.index), tz)
    repeats = (point_step // finest).astype(int)
    offsets = np.concatenate([np.arange(k) for k in repeats]) * finest
    naive = pd.DatetimeIndex(series.index).tz_localize(None)
    starts = pd.DatetimeIndex(np.repeat(naive.to_numpy(), repeats))
    expanded_index = (starts + offsets).tz_localize("UTC")
    expanded = pd.Series(np.repeat(series.to_numpy(), repeats), index=expanded_index)
    expanded = expanded[~expanded.index.duplicated(keep="first")]
    grid = pd.date_range(expanded.index[0], expanded.index[-1], freq=finest, name="timestamp_utc")
    regular = expanded.reindex(grid)
    # Leading/trailing NaN carry no information: trim them rather than fill.
    valid = regular.notna().to_numpy()
    regular = regular.iloc[int(valid.argmax()) : len(valid) - int(valid[::-1].argmax())]
    missing = regular.isna()
    n_missing = int(missing.sum())
    if n_missing and not keep_missing:
        regular = _fill(regular, missing, finest, tz, fill, max_fill_h, source, strict, key)
    return PriceSeries(
        price_eur_per_mwh=regular.rename("price_eur_per_mwh"),
        step=finest,
        zone=zone,
        source=source,
        filled_steps=0 if keep_missing else n_missing,
    )


def on_grid(prices: PriceSeries, step: pd.Timedelta) -> PriceSeries:
    """The same prices on a finer regular grid: each price holds for every sub-step of its MTU.

    An hourly day-ahead price is the price of each quarter hour of its hour, so
    the backtest can run at the intraday market's 15 minutes.

    Parameters
    ----------
    prices : PriceSeries
    step : pd.Timedelta
        The finer step; must divide ``prices.step``.

    Returns
    -------
    PriceSeries
        ``prices.step / step`` times as many steps; unchanged when the steps are equal.

    Raises
    ------
    DataError
        If ``step`` does not divide the series' step.
    """
    if step == prices.step:
        return prices
    ratio = prices.step / step
    if step > prices.step or ratio != int(ratio):
        raise DataError(
            f"prices with a step of {prices.step} cannot be put on a grid of {step}; "
            "the grid step must divide the market time unit"
        )
    k = int(ratio)
    values = prices.price_eur_per_mwh
    starts = pd.DatetimeIndex(values.index).tz_convert("UTC").tz_localize(None).to_numpy()
    index = pd.DatetimeIndex(
        np.repeat(starts, k) + np.tile(np.arange(k) * step.to_timedelta64(), len(values))
    ).tz_localize("UTC")
    series = pd.Series(
        np.repeat(values.to_numpy(), k), index=index.rename("timestamp_utc"), name=values.name
    )
    return dataclasses.replace(prices, price_eur_per_mwh=series, step=step)


def _check_values(
    raw: pd.Series, key: str, source: str, bounds_eur_per_mwh: tuple[float, float]
) -> None:
    values = raw.to_numpy(dtype=float)
    infinite = np.isinf(values)
    if infinite.any():
        first = pd.DatetimeIndex(raw.index)[int(np.argmax(infinite))]
        raise DataError(
            f"{source or key}: {int(infinite.sum())} price(s) are infinite, the first at "
            f"{first.isoformat()}; fix the file (an empty cell is a gap for {key}.fill)"
        )
    low, high = bounds_eur_per_mwh
    outside = np.isfinite(values) & ((values < low) | (values > high))
    if outside.any():
        at = int(np.argmax(outside))
        raise DataError(
            f"{source or key}: {int(outside.sum())} price(s) outside the plausible range "
            f"[{low:g}, {high:g}] EUR/MWh, the first {values[at]:g} at "
            f"{pd.DatetimeIndex(raw.index)[at].isoformat()}; fix the file, or widen "
            f"{key}.min_price_eur_per_mwh / max_price_eur_per_mwh"
        )


def _gap_runs(missing: pd.Series) -> list[tuple[pd.Timestamp, int]]:
    flags = missing.to_numpy()
    starts = np.flatnonzero(flags & ~np.concatenate([[False], flags[:-1]]))
    ends = np.flatnonzero(flags & ~np.concatenate([flags[1:], [False]]))
    index = pd.DatetimeIndex(missing.index)
    return [(index[int(s)], int(e - s + 1)) for s, e in zip(starts, ends, strict=True)]


def _fill(
    regular: pd.Series,
    missing: pd.Series,
    step: pd.Timedelta,
    tz: str,
    fill: str,
    max_fill_h: float | None,
    source: str,
    strict: bool = False,
    key: str = "market.prices",
) -> pd.Series:
    runs = _gap_runs(missing)
    longest = max(n for _, n in runs) * step
    described = ", ".join(f"{t.isoformat()} (+{n} steps)" for t, n in runs[:3])
    if fill == "error":
        raise DataError(
            f"{source or 'price data'}: {int(missing.sum())} missing step(s) in {len(runs)} gap(s), "
            f"first: {described}; set {key}.fill to ffill, interpolate or previous_day "
            f"to fill them (and {key}.max_fill_h to bound the gap length)"
        )
    if max_fill_h is not None and longest > pd.Timedelta(hours=max_fill_h):
        raise DataError(
            f"{source or 'price data'}: a gap of {longest} exceeds {key}.max_fill_h = "
            f"{max_fill_h} h (gaps: {described})"
        )
    if strict:
        raise DataError(
            f"{source or 'price data'}: {int(missing.sum())} missing step(s) would be filled with "
            f"policy {fill!r} (first: {described}); backtest.strict is true, so data-quality "
            "warnings are errors: fix the data or set backtest.strict to false"
        )
    log.warning("%s: filling %d missing step(s) with policy %r", source, int(missing.sum()), fill)
    if fill == "ffill":
        return regular.ffill()
    if fill == "interpolate":
        return regular.interpolate(method="time").ffill().bfill()
    # previous_day: same local wall-clock time one day earlier, repeated for multi-day gaps.
    local = pd.DatetimeIndex(regular.index).tz_convert(tz).tz_localize(None)
    by_local = pd.Series(regular.to_numpy(), index=local)
    by_local = by_local[~by_local.index.duplicated(keep="first")]
    out = regular.to_numpy().copy()
    for days in range(1, 8):
        todo = np.isnan(out)
        if not todo.any():
            break
        keys = local[todo] - pd.Timedelta(days=days)
        out[todo] = by_local.reindex(keys, method="ffill").to_numpy()
    if np.isnan(out).any():
        raise DataError(
            f"{source or 'price data'}: fill policy previous_day found no earlier day for gaps "
            f"{described}; use ffill or interpolate"
        )
    return pd.Series(out, index=regular.index)


def plausible_bounds(cfg: PriceDataConfig, default: tuple[float, float]) -> tuple[float, float]:
    """The plausible price range of a price block: its own bounds, else ``default``. [EUR/MWh]"""
    low = cfg.min_price_eur_per_mwh if cfg.min_price_eur_per_mwh is not None else default[0]
    high = cfg.max_price_eur_per_mwh if cfg.max_price_eur_per_mwh is not None else default[1]
    return low, high


def load_prices(
    market: MarketConfig,
    *,
    strict: bool = False,
    cfg: PriceDataConfig | None = None,
    key: str = "market.prices",
    bounds_eur_per_mwh: tuple[float, float] = DAY_AHEAD_BOUNDS_EUR_PER_MWH,
    keep_missing: bool = False,
) -> PriceSeries:
    """Load the day-ahead prices a scenario names.

    Parameters
    ----------
    market : MarketConfig
    strict : bool
        Data-quality warnings (gaps filled by the fill policy) are errors
        (the scenario's ``backtest.strict``).
    cfg : PriceDataConfig, optional
        Another price block of the market to read (default ``market.prices``).
    key : str
        The scenario key of ``cfg``, named in every message.
    bounds_eur_per_mwh : tuple of float
        Default plausible range when ``cfg`` sets none. [EUR/MWh]
    keep_missing : bool
        Leave missing steps NaN instead of applying the fill policy (see
        :func:`regularise`).

    Returns
    -------
    PriceSeries

    Raises
    ------
    DataError
        If the file is missing or unreadable, holds infinite or implausible
        prices, or its gaps/duplicates are not covered by the scenario's policies.
    """
    cfg = cfg or market.prices
    if cfg.source == "csv":
        assert cfg.path is not None  # checked by PriceDataConfig
        if not cfg.path.is_file():
            raise DataError(
                f"{key}.path: file not found: {cfg.path}; set BESS_TWIN_DATA to the data folder"
            )
        fmt = cfg.format
        if fmt == "auto":
            opener = gzip.open if cfg.path.suffix == ".gz" else open
            with opener(cfg.path, "rb") as handle:
                first_line = handle.readline(4096)
            fmt = "entsoe" if b"MTU" in first_line else "tidy"
        if fmt == "entsoe":
            raw = read_entsoe_csv(cfg.path)
        else:
            raw = read_tidy_csv(cfg.path, zone=market.zone, column=cfg.column, key=key)
        source = str(cfg.path)
    else:
        from twin.io.download import download_prices

        raw = download_prices(cfg, zone=market.zone)
        source = cfg.source
    return regularise(
        raw,
        tz=market.timezone,
        fill=cfg.fill,
        max_fill_h=cfg.max_fill_h,
        duplicates=cfg.duplicates,
        zone=market.zone,
        source=source,
        strict=strict,
        key=key,
        bounds_eur_per_mwh=plausible_bounds(cfg, bounds_eur_per_mwh),
        keep_missing=keep_missing,
    )

