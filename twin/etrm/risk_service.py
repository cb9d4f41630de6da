"""The risk service: VaR and ES of each participant's open positions by three methods, limits, alerts, VaR backtest.

Positions are MWh per delivery slot of the coming day(s); price scenarios are
the ``horizon_days`` changes of the same slot's day-ahead price over the last
``lookback_days`` days (historical), their mean and covariance (parametric),
or a jump-diffusion fitted to the daily mean price (Monte Carlo, a parallel
shift of every slot): :mod:`twin.etrm.var`, :mod:`twin.etrm.price_model`.
Limits per participant (VaR at a named level, open position in MWh, loss in
EUR) give utilisation in % and an alert when broken. Each day's realised P&L
is compared with the VaR forecast for it, and Kupiec's test is run on the
record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from twin.errors import ForecastError
from twin.etrm.price_model import JumpDiffusion, monte_carlo
from twin.etrm.var import (
    CONFIDENCE_LEVELS,
    KupiecResult,
    historical,
    kupiec_pof,
    parametric,
    pnl_scenarios,
)
from twin.types import FloatArray

METHODS = ("historical", "parametric", "monte_carlo")


@dataclass(frozen=True)
class RiskLimits:
    """Limits of one participant; None: no limit."""

    var_eur: float | None = None
    var_confidence: float = 0.99
    position_mwh: float | None = None
    loss_eur: float | None = None


@dataclass(frozen=True)
class RiskRow:
    """One VaR figure of one participant on one day."""

    participant: str
    date: dt.date
    method: str
    confidence: float
    var_eur: float
    es_eur: float
    utilisation_pct: float | None


@dataclass(frozen=True)
class Alert:
    """A broken limit."""

    participant: str
    date: dt.date
    limit: str
    value: float
    limit_value: float

    @property
    def message(self) -> str:
        """What broke, by how much."""
        return f"{self.participant} {self.date}: {self.limit} {self.value:,.2f} over its limit {self.limit_value:,.2f}"


@dataclass
class RiskService:
    """Daily risk figures per participant (see the module docstring)."""

    limits: dict[str, RiskLimits] = field(default_factory=dict)
    confidence_levels: tuple[float, ...] = CONFIDENCE_LEVELS
    horizon_days: int = 1
    lookback_days: int = 250
    mc_paths: int = 20_000
    _record: dict[str, list[tuple[dt.date, float, float]]] = field(default_factory=dict)

    def scenarios(self, daily_prices: FloatArray) -> FloatArray:
        """Price changes per slot over the horizon in the lookback window, shape (n, S). [EUR/MWh]

        Raises
        ------
        ForecastError
            With fewer than 20 scenarios.
        """
        p = np.asarray(daily_prices, dtype=float)[-(self.lookback_days + self.horizon_days) :]
        changes = p[self.horizon_days :] - p[: -self.horizon_days]
        out: FloatArray = changes[np.isfinite(changes).all(axis=1)]
        if len(out) < 20:
            raise ForecastError(f"VaR needs at least 20 days of price changes; the history gives {len(out)}")
        return out

    def assess(
        self, participant: str, date: dt.date, position_mwh: FloatArray, daily_prices: FloatArray
    ) -> tuple[list[RiskRow], list[Alert]]:
        """VaR/ES by every method and level, and the alerts, for ``position_mwh`` held on ``date``.

        Parameters
        ----------
        position_mwh : np.ndarray, shape (S,)
            Open position per delivery slot.
        daily_prices : np.ndarray, shape (n_days, S)
            Day-ahead prices published before ``date`` (nothing later).
        """
        q = np.asarray(position_mwh, dtype=float)
        changes = self.scenarios(daily_prices)
        pnl = pnl_scenarios(q, changes)
        mean, cov = changes.mean(axis=0), np.atleast_2d(np.cov(changes, rowvar=False))
        daily_mean = np.nanmean(np.asarray(daily_prices, dtype=float)[-self.lookback_days :], axis=1)
        model = JumpDiffusion.fit(daily_mean) if len(daily_mean) >= 30 else None
        limits = self.limits.get(participant, RiskLimits())
        rows = []
        for c in self.confidence_levels:
            figures = {"historical": historical(pnl, c), "parametric": parametric(q, mean, cov, c)}
            if model is not None:
                figures["monte_carlo"] = monte_carlo(q, model, float(daily_mean[-1]), c, self.horizon_days, self.mc_paths)
            for method, fig in figures.items():
                use = limits.var_eur if limits.var_eur and abs(c - limits.var_confidence) < 1e-12 else None
                rows.append(RiskRow(participant, date, method, c, fig.var_eur, fig.es_eur,
                                    100.0 * fig.var_eur / use if use else None))  # fmt: skip
        alerts = []
        var_limit = next((r for r in rows if r.method == "historical" and r.utilisation_pct is not None), None)
        if var_limit is not None and limits.var_eur is not None and var_limit.var_eur > limits.var_eur:
            alerts.append(Alert(participant, date, f"VaR {limits.var_confidence:.1%} (historical)", var_limit.var_eur, limits.var_eur))
        gross = float(np.abs(q).sum())
        if limits.position_mwh is not None and gross > limits.position_mwh:
            alerts.append(Alert(participant, date, "open position MWh", gross, limits.position_mwh))
        return rows, alerts

    def record(self, participant: str, date: dt.date, var_eur: float, realised_pnl_eur: float) -> Alert | None:
        """Keep the day's VaR forecast and realised P&L for the backtest; an alert if the loss limit broke."""
        self._record.setdefault(participant, []).append((date, var_eur, realised_pnl_eur))
        limit = self.limits.get(participant, RiskLimits()).loss_eur
        if limit is not None and -realised_pnl_eur > limit:
            return Alert(participant, date, "daily loss EUR", -realised_pnl_eur, limit)
        return None

    def backtest(self, participant: str, confidence: float) -> KupiecResult:
        """Kupiec's test of the recorded VaR forecasts (made at ``confidence``) against the realised losses.

        Raises
        ------
        ValueError
            Without a record for ``participant``.
        """
        record = self._record.get(participant)
        if not record:
            raise ValueError(f"no VaR record for {participant!r}; call record() each day first")
        var = np.array([r[1] for r in record])
        loss = -np.array([r[2] for r in record])
        return kupiec_pof(int((loss > var).sum()), len(record), confidence)
