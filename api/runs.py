"""Read-only access to finished backtest run folders under one root (``bess-twin serve --runs DIR``).

A run id is the folder's name, checked against a strict pattern and resolved
inside the root only (no path traversal). Files are read on demand and cached
by path and modification time.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

RUN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@functools.lru_cache(maxsize=64)
def _parquet(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_parquet(path)


@functools.lru_cache(maxsize=256)
def _json(path: str, mtime_ns: int) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


class RunStore:
    """The run folders under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def folder(self, run_id: str) -> Path | None:
        """The folder of ``run_id`` if it is a run (has ``summary.json``), else None."""
        if not RUN_ID.match(run_id) or run_id in (".", ".."):
            return None
        path = (self.root / run_id).resolve()
        if path.parent != self.root or not (path / "summary.json").is_file():
            return None
        return path

    def run_ids(self) -> list[str]:
        """Every run under the root, newest first."""
        if not self.root.is_dir():
            return []
        runs = [p for p in self.root.iterdir() if p.is_dir() and (p / "summary.json").is_file() and RUN_ID.match(p.name)]
        return [p.name for p in sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)]

    def summary(self, run_id: str) -> dict[str, Any] | None:
        """``summary.json`` of a run, or None."""
        folder = self.folder(run_id)
        if folder is None:
            return None
        path = folder / "summary.json"
        return _json(str(path), path.stat().st_mtime_ns)

    def sites(self, run_id: str) -> list[str]:
        """The site ids of a run."""
        summary = self.summary(run_id) or {}
        return [str(s["site_id"]) for s in summary.get("sites", [])]

    def table(self, run_id: str, name: str) -> pd.DataFrame | None:
        """A Parquet file of a run (``sites``, ``daily``, ``risk``, ...), or None when it has none."""
        folder = self.folder(run_id)
        if folder is None or not re.fullmatch(r"[a-z_]+", name):
            return None
        path = folder / f"{name}.parquet"
        if not path.is_file():
            return None
        return _parquet(str(path), path.stat().st_mtime_ns)

    def file(self, run_id: str, relative: str) -> Path | None:
        """A file inside a run folder (e.g. ``invoices/INV-2023-000001.pdf``), or None."""
        folder = self.folder(run_id)
        if folder is None:
            return None
        path = (folder / relative).resolve()
        return path if path.is_file() and folder in path.parents else None
