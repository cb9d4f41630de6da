"""Reading backtest run folders for the pages: cached by file and modification time, columns on demand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st


def list_runs(runs_dir: Path) -> list[str]:
    """Run folders under ``runs_dir`` (those with a ``summary.json``), newest first."""
    if not runs_dir.is_dir():
        return []
    found = [p.parent for p in runs_dir.glob("*/summary.json")]
    return [p.name for p in sorted(found, key=lambda p: (p / "summary.json").stat().st_mtime, reverse=True)]


@st.cache_data(show_spinner=False, max_entries=64)
def _json(path: str, mtime_ns: int) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


@st.cache_data(show_spinner=False, max_entries=128)
def _parquet(path: str, mtime_ns: int, columns: tuple[str, ...] | None) -> pd.DataFrame:
    return pd.read_parquet(path, columns=list(columns) if columns else None)


@st.cache_data(show_spinner=False, max_entries=32)
def _csv(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str)


def summary(run_dir: Path) -> dict[str, Any]:
    """``summary.json`` of a run."""
    path = run_dir / "summary.json"
    return _json(str(path), path.stat().st_mtime_ns)


def table(run_dir: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
    """``name.parquet`` of a run (only ``columns`` if given), or None when the run has none."""
    path = run_dir / f"{name}.parquet"
    if not path.is_file():
        return None
    if columns is not None:
        present = set(_schema(str(path), path.stat().st_mtime_ns))
        columns = [c for c in columns if c in present]
    return _parquet(str(path), path.stat().st_mtime_ns, tuple(columns) if columns else None)


@st.cache_data(show_spinner=False, max_entries=128)
def _schema(path: str, mtime_ns: int) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def invoices(run_dir: Path) -> pd.DataFrame | None:
    """``invoices.csv`` of a run (amounts as exact decimal strings), or None."""
    path = run_dir / "invoices.csv"
    return _csv(str(path), path.stat().st_mtime_ns) if path.is_file() else None


def site_ids(run_dir: Path) -> list[str]:
    """The sites of a run, as its summary lists them."""
    return [s["site_id"] for s in summary(run_dir).get("sites", [])]
