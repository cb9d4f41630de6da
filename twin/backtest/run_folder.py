"""The run folder: ``summary.json``, ``sites.parquet``, ``daily.parquet``, ``trades.parquet``."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.backtest.trades import trades_table


@dataclass(frozen=True)
class BacktestResult:
    """Assembled results of one run.

    Attributes
    ----------
    sites : pd.DataFrame
        One row per site and step, columns :data:`SITES_COLUMNS`; ``soc`` and
        ``energy_kwh`` are at the end of the step.
    daily : pd.DataFrame
        One row per site and local delivery day.
    summary : dict
        The content of ``summary.json``.
    """

    sites: pd.DataFrame
    daily: pd.DataFrame
    summary: dict[str, Any]
    trades: pd.DataFrame | None = None
    rejections: pd.DataFrame | None = None
    """Rejected intraday orders with every reason (``rejections.parquet``), or None without intraday."""
    sites_file: Path | None = None
    """The per-step table was streamed to this Parquet file; ``sites`` then holds its first sites only."""

    def all_sites(self) -> pd.DataFrame:
        """The whole per-step table: ``sites``, or read from ``sites_file`` when it was streamed."""
        return pd.read_parquet(self.sites_file) if self.sites_file is not None else self.sites


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def write_results(result: BacktestResult, out_dir: Path) -> dict[str, Path]:
    """Write ``summary.json``, ``sites.parquet``, ``daily.parquet``, ``trades.parquet``.

    Returns
    -------
    dict of str to Path
        The files written, by kind.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out_dir / "summary.json",
        "sites": out_dir / "sites.parquet",
        "daily": out_dir / "daily.parquet",
        "trades": out_dir / "trades.parquet",
    }
    paths["summary"].write_text(
        json.dumps(_finite(result.summary), indent=2, default=_json_default) + "\n",
        encoding="utf-8",
    )
    if result.sites_file is None:
        result.sites.to_parquet(paths["sites"], index=False)
    elif result.sites_file.resolve() != paths["sites"].resolve():
        shutil.copyfile(result.sites_file, paths["sites"])
    result.daily.to_parquet(paths["daily"], index=False)
    trades = result.trades if result.trades is not None else trades_table([], 0.0)
    trades.to_parquet(paths["trades"], index=False)
    if result.rejections is not None:
        paths["rejections"] = out_dir / "rejections.parquet"
        result.rejections.to_parquet(paths["rejections"], index=False)
    return paths


def read_results(run_dir: Path) -> BacktestResult:
    """Read a run folder written by :func:`write_results` (for dashboards and reports)."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return BacktestResult(
        sites=pd.read_parquet(run_dir / "sites.parquet"),
        daily=pd.read_parquet(run_dir / "daily.parquet"),
        summary=summary,
        trades=pd.read_parquet(trades) if (trades := run_dir / "trades.parquet").exists() else None,
        rejections=pd.read_parquet(r) if (r := run_dir / "rejections.parquet").exists() else None,
    )
