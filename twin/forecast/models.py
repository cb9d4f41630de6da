"""Build day-ahead price models by name, each behind a vintage cache.

A *vintage* is the forecast of one delivery day made at its gate. It is a
function of what was public then, so the cache keys it by the model's settings
and a hash of exactly that data (:meth:`DailyTable.fingerprint`): a re-run, or
an ensemble whose member was evaluated before, reads it back instead of
re-fitting; a change to any input the forecast could read is a different key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.config.forecasting import ForecastingConfig
from twin.forecast.daily import DailyModel, Ensemble, SameSlotEarlier
from twin.forecast.table import DailyTable
from twin.types import FloatArray

DAILY_MODELS = ("lear", "prophet", "lightgbm", "ensemble", "persistence", "seasonal_naive")
"""Names :func:`make_daily_model` accepts."""


def default_cache_dir() -> Path:
    """``$BESS_TWIN_CACHE/forecasts``, default ``~/.cache/bess-twin/forecasts``."""
    return Path(os.environ.get("BESS_TWIN_CACHE", Path.home() / ".cache" / "bess-twin")) / "forecasts"


def signature(model: DailyModel) -> str:
    """A short hash of a model's name and public settings (private fields, leading ``_``, excluded)."""
    if dataclasses.is_dataclass(model):
        fields = {f.name: getattr(model, f.name) for f in dataclasses.fields(model) if not f.name.startswith("_")}
        fields.pop("n_jobs", None)
        text = f"{type(model).__name__}:{sorted(fields.items())}"
    else:
        text = repr(model)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Cached:
    """A :class:`DailyModel` whose vintages are kept on disk (one ``.npy`` of S prices each)."""

    model: DailyModel
    folder: Path
    hits: int = 0
    misses: int = 0

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self.model.name

    @property
    def history_days(self) -> int:
        """[d]"""
        return self.model.history_days

    @property
    def lookback_days(self) -> int:
        """[d]"""
        return self.model.lookback_days

    def _path(self, table: DailyTable, day: int) -> Path:
        key = table.fingerprint(day, self.model.lookback_days)
        return self.folder / f"{self.model.name}-{signature(self.model)}" / f"{table.dates[day]}-{key}.npy"

    def predict(self, table: DailyTable, day: int) -> FloatArray:
        """The cached vintage if there is one, else the model's forecast (then stored). [EUR/MWh]"""
        path = self._path(table, day)
        if path.is_file():
            self.hits += 1
            out: FloatArray = np.load(path)
            return out
        self.misses += 1
        out = self.model.predict(table, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, out)
        tmp.replace(path)
        return out


def make_daily_model(
    name: str, settings: ForecastingConfig | None = None, cache_dir: Path | None = None, use_cache: bool = True
) -> DailyModel:
    """The day-ahead price model ``name`` with ``settings``, cached unless ``use_cache`` is false.

    Parameters
    ----------
    name : {'lear', 'prophet', 'lightgbm', 'ensemble', 'persistence', 'seasonal_naive'}
    settings : ForecastingConfig, optional
        Windows, re-fit schedules, ensemble members and weighting; defaults if None.
    cache_dir : Path, optional
        Vintage cache folder; default :func:`default_cache_dir` (or ``settings.cache_dir``).

    Raises
    ------
    ValueError
        For an unknown name.
    """
    cfg = settings or ForecastingConfig()
    folder = cache_dir or cfg.cache_dir or default_cache_dir()

    def wrap(model: DailyModel) -> DailyModel:
        return Cached(model, folder) if use_cache else model

    if name == "persistence":
        return SameSlotEarlier("persistence", 1)
    if name == "seasonal_naive":
        return SameSlotEarlier("seasonal_naive", 7)
    if name == "lear":
        from twin.forecast.lear import Lear

        return wrap(Lear(tuple(cfg.lear_windows_days), n_jobs=cfg.jobs))
    if name == "lightgbm":
        from twin.forecast.gbm import GradientBoosting

        return wrap(GradientBoosting(cfg.lightgbm_window_days, cfg.lightgbm_refit_days))
    if name == "prophet":
        from twin.forecast.prophet_model import ProphetModel

        return wrap(ProphetModel(cfg.prophet_window_days))
    if name == "ensemble":
        # the members are cached; the combination is cheap and keeps their recent errors in memory
        members = [make_daily_model(m, cfg, folder, use_cache) for m in cfg.ensemble_members]
        return Ensemble(members, cfg.ensemble_weighting, cfg.ensemble_weights_window_days)
    raise ValueError(f"unknown price model {name!r}; choose {', '.join(DAILY_MODELS)}")
