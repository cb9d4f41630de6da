"""Every day-ahead price forecaster the backtest knows, built by name.

``perfect``, ``persistence`` and ``seasonal_naive`` come from
:mod:`twin.forecast.naive`; ``lear``, ``prophet``, ``lightgbm`` and ``ensemble`` are
fitted models (:mod:`twin.forecast.models`) behind
:class:`~twin.forecast.table_forecaster.TableForecaster`, with the scenario's
exogenous forecasts and vintage cache.
"""

from __future__ import annotations

import pandas as pd

from twin.config.forecasting import PRICE_MODELS, ForecastingConfig
from twin.forecast.naive import Forecaster
from twin.forecast.naive import make_forecaster as make_naive

FORECASTERS: tuple[str, ...] = ("perfect", "persistence", "seasonal_naive", *PRICE_MODELS)
"""Names accepted by :func:`make_forecaster`."""


def make_forecaster(
    name: str,
    realised: pd.Series | None = None,
    settings: ForecastingConfig | None = None,
    exogenous: pd.DataFrame | None = None,
) -> Forecaster:
    """Build the day-ahead forecaster ``name``.

    Parameters
    ----------
    name : str
        One of :data:`FORECASTERS`.
    realised : pd.Series, optional
        Realised prices; required for ``perfect``. [EUR/MWh]
    settings : ForecastingConfig, optional
        Settings of the fitted models; defaults if None.
    exogenous : pd.DataFrame, optional
        Exogenous forecasts on a UTC index, arranged by when they are public
        (:func:`twin.io.forecast_data.read_exogenous`).

    Raises
    ------
    ValueError
        For an unknown name.
    """
    if name not in PRICE_MODELS:
        if name not in FORECASTERS:
            raise ValueError(f"unknown forecaster {name!r}; choose {', '.join(FORECASTERS)}")
        return make_naive(name, realised)
    from twin.forecast.models import make_daily_model
    from twin.forecast.table_forecaster import TableForecaster

    cfg = settings or ForecastingConfig()
    return TableForecaster(
        make_daily_model(name, cfg),
        exogenous if exogenous is not None else pd.DataFrame(),
        cfg.holidays_country,
    )
