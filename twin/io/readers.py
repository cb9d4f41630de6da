"""Readers for day-ahead price files: tidy CSVs and raw ENTSO-E Transparency exports.

Each reader returns the raw series as found in the file: a ``pd.Series`` of
prices in EUR/MWh on a tz-aware UTC index (interval start), NaN where the file
has no value. Regularising (resolution, gaps, duplicates) is the job of
:func:`twin.io.prices.regularise`.

Vendor names are translated here and nowhere else (``MTU (CET/CEST)``,
``Day-ahead Price [EUR/MWh]``, ``n/e``).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import DataError

ENTSOE_LOCAL_TZ = "Europe/Berlin"
"""ENTSO-E exports label rows in CET/CEST unless their MTU header says otherwise."""

ENTSOE_MTU_ZONES: dict[str, str] = {
    "CET/CEST": "Europe/Berlin",
    "CET": "Europe/Berlin",
    "UTC": "UTC",
    "GMT": "UTC",
    "EET/EEST": "Europe/Helsinki",
    "WET/WEST": "Europe/Lisbon",
    "GMT/BST": "Europe/London",
}
"""Time zone of the MTU labels by the header's ``MTU (...)`` text."""

_UTC_SUFFIX = re.compile(r"(?:Z|[+-]00:?00|UTC)$", re.IGNORECASE)
_OFFSET_SUFFIX = re.compile(r"[+-]\d{2}:?\d{2}$")

_MISSING_TOKENS = {"", "-", "n/e", "N/A", "n/a", "NaN", "nan"}
_ENTSOE_PRICE = re.compile(r"^Day-ahead Price\s*[\[(]EUR/MWh[\])]$", re.IGNORECASE)
_ENTSOE_STAMP = re.compile(r"^\s*(\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}(?::\d{2})?)\s*(\((CET|CEST)\))?")


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig")


def zone_slug(zone: str) -> str:
    """Turn a bidding zone name into the slug used in tidy column names (``DE-LU`` -> ``de_lu``)."""
    return re.sub(r"[^a-z0-9]+", "_", zone.lower()).strip("_")


def pick_price_column(
    columns: list[str], zone: str | None, column: str | None, key: str = "market.prices"
) -> str:
    """Choose the price column of a tidy file.

    Parameters
    ----------
    columns : list of str
        The file's header.
    zone : str, optional
        Bidding zone of the scenario, e.g. ``DE-LU``.
    column : str, optional
        Explicit column name from the scenario; wins when given.
    key : str
        The scenario key the file is named under, for messages.

    Returns
    -------
    str
        ``column`` if given; else ``price_<zone>_eur_per_mwh``; else the only price
        column whose name starts with ``price_<zone>_``; else the only price column.

    Raises
    ------
    DataError
        If no unique column fits; the message lists the price columns found.
    """
    prices = [c for c in columns if c.startswith("price") and c.endswith("_eur_per_mwh")]
    if column is not None:
        if column not in columns:
            raise DataError(
                f"{key}.column = {column!r} is not in the file; "
                f"price columns found: {prices or columns}"
            )
        return column
    if zone is not None:
        slug = zone_slug(zone)
        exact = f"price_{slug}_eur_per_mwh"
        if exact in prices:
            return exact
        matching = [c for c in prices if c.startswith(f"price_{slug}_")]
        if len(matching) == 1:
            return matching[0]
    if len(prices) == 1:
        return prices[0]
    raise DataError(
        f"cannot tell which price column belongs to zone {zone!r}; price columns found: "
        f"{prices}; set {key}.column to one of them"
    )


def read_tidy_csv(
    path: Path, zone: str | None = None, column: str | None = None, key: str = "market.prices"
) -> pd.Series:
    """Read a tidy price CSV (``timestamp_utc`` + ``price_*_eur_per_mwh`` columns).

    Parameters
    ----------
    path : Path
        CSV or gzip-compressed CSV.
    zone, column : str, optional
        Select the price column (see :func:`pick_price_column`).
    key : str
        The scenario key the file is named under, for messages.

    Returns
    -------
    pd.Series
        Prices [EUR/MWh] on a tz-aware UTC ``DatetimeIndex`` (interval start),
        named after the column. Rows with an empty ``timestamp_utc`` (a local hour
        that does not exist, kept by some data sets) are dropped.

    Raises
    ------
    DataError
        If the file lacks ``timestamp_utc`` or a usable price column, or holds
        timestamps or prices that do not parse.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read as CSV: {err}") from None
    if "timestamp_utc" not in frame.columns:
        raise DataError(
            f"{path}: no 'timestamp_utc' column (columns: {list(frame.columns)}); "
            f"for a raw ENTSO-E export set {key}.format: entsoe"
        )
    name = pick_price_column(list(frame.columns), zone, column, key)
    frame = frame[frame["timestamp_utc"].str.strip() != ""]
    stamps = frame["timestamp_utc"].str.strip()
    not_utc = ~stamps.str.contains(_UTC_SUFFIX)
    if not_utc.any():
        first = str(stamps[not_utc].iloc[0])
        what = "a non-UTC offset" if _OFFSET_SUFFIX.search(first) else "no UTC offset (naive)"
        raise DataError(
            f"{path}: {int(not_utc.sum())} timestamp_utc value(s) carry {what}, the first "
            f"{first!r}; timestamp_utc must be UTC: write it as e.g. 2023-01-01T00:00:00Z "
            "(convert local times first)"
        )
    try:
        index = pd.DatetimeIndex(pd.to_datetime(frame["timestamp_utc"], utc=True, format="ISO8601"))
    except (ValueError, TypeError) as err:
        raise DataError(f"{path}: timestamp_utc does not parse as ISO 8601: {err}") from None
    values = frame[name].str.strip()
    values = values.where(~values.isin(_MISSING_TOKENS), "nan")
    try:
        numbers = values.astype(float).to_numpy()
    except ValueError as err:
        raise DataError(
            f"{path}: column {name} holds a value that is not a number: {err}"
        ) from None
    return pd.Series(numbers, index=index.rename("timestamp_utc"), name=name)


def _unwrap_spreadsheet_quoting(text: str) -> str:
    """Undo a spreadsheet re-save that wrapped each line in quotes and doubled the inner ones."""
    lines = text.splitlines()
    if lines and lines[0].startswith('"MTU') and '""' in lines[0]:
        out = []
        for line in lines:
            if len(line) >= 2 and line.startswith('"') and line.endswith('"'):
                line = line[1:-1].replace('""', '"')
            out.append(line)
        return "\n".join(out)
    return text


def read_entsoe_csv(path: Path, sequence: str | None = None) -> pd.Series:
    """Read a raw ENTSO-E Transparency "Day-ahead Prices" export.

    Handles the ``MTU (CET/CEST)`` interval labels in local time, the missing
    spring hour (placeholder rows), the repeated autumn hour (by its ``(CET)``/
    ``(CEST)`` mark when present, by order otherwise), ``n/e``/``-``/empty cells,
    and exports re-saved by spreadsheet tools with every line quoted.

    Parameters
    ----------
    path : Path
        The export (CSV, optionally gzip-compressed).
    sequence : str, optional
        For exports with a ``Sequence`` column, which sequence to keep
        (default: the first one found).

    Returns
    -------
    pd.Series
        Prices [EUR/MWh] on a tz-aware UTC index (interval start); NaN where the
        export has no value.

    Raises
    ------
    DataError
        If the MTU or price column is missing or a label does not parse.
    """
    text = _unwrap_spreadsheet_quoting(_read_text(path))
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise DataError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    mtu_col = next((i for i, h in enumerate(header) if h.upper().startswith("MTU")), None)
    tz = ENTSOE_LOCAL_TZ
    if mtu_col is not None:
        label = re.search(r"\(([^)]*)\)", header[mtu_col])
        zone_text = label.group(1).strip().upper() if label else "CET/CEST"
        if zone_text not in ENTSOE_MTU_ZONES:
            raise DataError(
                f"{path}: MTU header {header[mtu_col]!r} names a time zone this reader does not "
                f"know; known: {', '.join(ENTSOE_MTU_ZONES)}"
            )
        tz = ENTSOE_MTU_ZONES[zone_text]
    price_col = next((i for i, h in enumerate(header) if _ENTSOE_PRICE.match(h)), None)
    if mtu_col is None or price_col is None:
        raise DataError(
            f"{path}: not an ENTSO-E day-ahead export: need 'MTU (CET/CEST)' and "
            f"'Day-ahead Price [EUR/MWh]' columns, found {header}"
        )
    seq_col = next((i for i, h in enumerate(header) if h.lower() == "sequence"), None)
    stamps: list[str] = []
    marks: list[str | None] = []
    values: list[float] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if seq_col is not None:
            seq = row[seq_col].strip() if seq_col < len(row) else ""
            sequence = sequence or seq
            if seq != sequence:
                continue
        match = _ENTSOE_STAMP.match(row[mtu_col])
        if match is None:
            raise DataError(f"{path}:{lineno}: MTU label {row[mtu_col]!r} does not parse")
        cell = row[price_col].strip() if price_col < len(row) else ""
        stamps.append(match.group(1))
        marks.append(match.group(3))
        try:
            values.append(np.nan if cell in _MISSING_TOKENS else float(cell))
        except ValueError:
            raise DataError(f"{path}:{lineno}: price {cell!r} is not a number") from None
    naive = pd.DatetimeIndex(pd.to_datetime(stamps, format="%d.%m.%Y %H:%M", exact=False))
    series = pd.Series(values, index=naive)
    local_index = _localize_local_labels(naive, marks, path, tz)
    keep = ~np.asarray(local_index.isna(), dtype=bool)
    dropped = series[~keep]
    if dropped.notna().any():
        raise DataError(
            f"{path}: prices given for local times that do not exist: "
            f"{list(dropped.index[dropped.notna()][:3])}"
        )
    index = local_index[keep].tz_convert("UTC").rename("timestamp_utc")
    return pd.Series(series.to_numpy()[keep], index=index, name="price_eur_per_mwh")


def _localize_local_labels(
    naive: pd.DatetimeIndex, marks: list[str | None], path: Path, tz: str = ENTSOE_LOCAL_TZ
) -> pd.DatetimeIndex:
    """Localise wall-clock labels in ``tz``; non-existent spring labels become NaT."""
    if tz == "UTC":
        return naive.tz_localize("UTC")
    if any(mark is not None for mark in marks):
        ambiguous = np.array([mark == "CEST" for mark in marks])
        return naive.tz_localize(tz, ambiguous=ambiguous, nonexistent="NaT")
    try:
        return naive.tz_localize(tz, ambiguous="infer", nonexistent="NaT")
    except Exception as err:  # pytz/zoneinfo raise several types for bad orderings
        raise DataError(
            f"{path}: cannot resolve the repeated autumn hour by order: {err}"
        ) from None
