"""The risk service: VaR and ES of each participant's open positions by three methods, limits, alerts, VaR backtest.

Positions are MWh per delivery slot of the coming day(s); price scenarios are
the ``horizon_days`` changes of the same slot's day-ahead price over the last
``lookback_days`` days (historical), their mean and covariance (parametric),
or Monte Carlo: the daily mean price moves by a jump-diffusion fitted to its
history (the level), and each path adds the shape of one day's change drawn
from the lookback (each slot's change minus that day's mean change), a
filtered historical simulation in the sense of Barone-Adesi et al. (1999). A
level model alone would miss the spread risk of an arbitrage book that is
nearly flat in MWh over the day. :mod:`twin.etrm.var`,
:mod:`twin.etrm.price_model`.

References
----------
.. [1] G. Barone-Adesi, K. Giannopoulos, L. Vosper, "VaR without correlations
   for portfolios of derivative securities", J. Futures Markets 19(5), 583-602, 1999.
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
from twin.etrm.price_model import JumpDiffusion
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


@dataclass(frozen=True)
class RiskDay:
    """One participant's day: its gross open position, realised P&L and VaR figures."""

    participant: str
    date: dt.date
    gross_position_mwh: float
    realised_pnl_eur: float
    rows: tuple[RiskRow, ...]


@dataclass
class RiskService:
    """Daily risk figures per participant (see the module docstring)."""

    limits: dict[str, RiskLimits] = field(default_factory=dict)
    confidence_levels: tuple[float, ...] = CONFIDENCE_LEVELS
    horizon_days: int = 1
    lookback_days: int = 250
    mc_paths: int = 20_000
    seed: int = 0
    _record: dict[str, list[tuple[dt.date, float, float]]] = field(default_factory=dict)
    _figures: dict[tuple[str, str, float], list[tuple[dt.date, float, float]]] = field(default_factory=dict)
    _history: list[FloatArray] = field(default_factory=list)
    _days: list[RiskDay] = field(default_factory=list)
    _alerts: list[Alert] = field(default_factory=list)
    _model_key: tuple[int, float] | None = None
    _model: JumpDiffusion | None = None
    _mc_key: tuple[int, float, int] | None = None
    _moments_key: tuple[object, ...] | None = None
    _moments_value: tuple[FloatArray, FloatArray, FloatArray, FloatArray] = field(default_factory=lambda: (np.zeros(0),) * 4)
    _mc: tuple[FloatArray, FloatArray] = field(default_factory=lambda: (np.zeros(0), np.zeros((0, 0))))

    def _moments(self, daily_prices: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Scenarios, their mean and covariance, and the daily mean prices of a history (cached: every participant of a day shares them)."""
        p = np.asarray(daily_prices, dtype=float)
        key = (p.shape, float(np.nansum(p[-1])) if len(p) else 0.0, float(np.nansum(p)))
        if self._moments_key != key:
            changes = self.scenarios(p)
            self._moments_key = key
            self._moments_value = (
                changes, changes.mean(axis=0), np.atleast_2d(np.cov(changes, rowvar=False)),
                np.nanmean(p[-self.lookback_days :], axis=1),
            )  # fmt: skip
        return self._moments_value

    def _mc_changes(self, model: JumpDiffusion, price_eur_per_mwh: float, changes: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Monte Carlo paths: level changes, shape (n_paths,), and resampled shape changes, shape (n_paths, S).

        Drawn once per model, price and history: every participant and level of
        a day shares the same paths.
        """
        key = (id(model), price_eur_per_mwh, id(changes))
        if self._mc_key != key:
            self._mc_key = key
            level = model.simulate_change(price_eur_per_mwh, self.horizon_days, self.mc_paths, self.seed)
            shapes = changes - changes.mean(axis=1, keepdims=True)
            pick = np.random.default_rng(self.seed + 1).integers(0, len(shapes), self.mc_paths)
            self._mc = (level, shapes[pick])
        return self._mc

    def _price_model(self, daily_mean: FloatArray) -> JumpDiffusion | None:
        """The jump-diffusion fitted to ``daily_mean`` (refitted only when the series changed); None if it cannot be fitted."""
        finite = daily_mean[np.isfinite(daily_mean)]
        key = (len(finite), float(finite.sum()) if len(finite) else 0.0)
        if key != self._model_key:
            self._model_key, self._mc_key = key, None
            try:
                self._model = JumpDiffusion.fit(finite) if len(finite) >= 30 else None
            except ForecastError:
                self._model = None
        return self._model

    # ------------------------------------------------------------------ daily cadence
    def publish(self, prices_eur_per_mwh: FloatArray) -> None:
        """Add one published day of prices, shape (S,), to the history. [EUR/MWh]"""
        self._history.append(np.asarray(prices_eur_per_mwh, dtype=float))
        keep = self.lookback_days + self.horizon_days + 1
        if len(self._history) > keep:
            del self._history[: len(self._history) - keep]

    @property
    def sigma_eur_per_mwh(self) -> float:
        """Standard deviation of the one-day same-slot price change in the history (0 without one). [EUR/MWh]"""
        if len(self._history) < 2:
            return 0.0
        p = np.asarray(self._history)
        change = p[1:] - p[:-1]
        finite = change[np.isfinite(change)]
        return float(finite.std()) if len(finite) > 1 else 0.0

    def on_day(
        self, date: dt.date, positions_mwh: dict[str, FloatArray], prices_eur_per_mwh: FloatArray
    ) -> list[Alert]:
        """Risk of day ``date``'s open positions at its gate, then their realised P&L once it clears.

        Each position (long what the participant sells: its revenue grows with
        the price) is assessed on the history published before ``date``, marked
        at the latest published price of each slot (the day before), realised at
        ``prices_eur_per_mwh``; then that day joins the history. ``fleet`` is the
        sum of all positions.

        Parameters
        ----------
        date : datetime.date
        positions_mwh : dict of str to np.ndarray, shape (S,)
            Net sell per slot of each participant. [MWh]
        prices_eur_per_mwh : np.ndarray, shape (S,)
            The day's clearing prices. [EUR/MWh]

        Returns
        -------
        list of Alert
            The limits the day broke. Days with too short a history are skipped.
        """
        prices = np.asarray(prices_eur_per_mwh, dtype=float)
        alerts: list[Alert] = []
        if positions_mwh and len(self._history) > self.horizon_days:
            book = {**positions_mwh, "fleet": np.sum(list(positions_mwh.values()), axis=0)}
            history = np.asarray(self._history)
            mark = history[-1]
            for participant, q in book.items():
                q = np.asarray(q, dtype=float)
                try:
                    rows, found = self.assess(participant, date, q, history)
                except ForecastError:
                    break  # too short a history: no participant can be assessed
                realised = float(np.nansum(q * (prices - mark)))
                loss = self.record_figures(participant, date, rows, realised)
                alerts += found + ([loss] if loss is not None else [])
                self._days.append(RiskDay(participant, date, float(np.abs(q).sum()), realised, tuple(rows)))
        self._alerts += alerts
        self.publish(prices)
        return alerts

    def record_figures(self, participant: str, date: dt.date, rows: list[RiskRow], realised_pnl_eur: float) -> Alert | None:
        """Keep every method's and level's VaR of the day for the backtest; an alert if the loss limit broke."""
        for r in rows:
            self._figures.setdefault((participant, r.method, r.confidence), []).append((date, r.var_eur, realised_pnl_eur))
        return self._loss_alert(participant, date, realised_pnl_eur)

    def _loss_alert(self, participant: str, date: dt.date, realised_pnl_eur: float) -> Alert | None:
        limit = self.limits.get(participant, RiskLimits()).loss_eur
        if limit is not None and -realised_pnl_eur > limit:
            return Alert(participant, date, "daily loss EUR", -realised_pnl_eur, limit)
        return None

    def days(self) -> list[RiskDay]:
        """Every assessed participant-day, in order."""
        return list(self._days)

    def alerts(self) -> list[Alert]:
        """Every alert raised by :meth:`on_day`, in order."""
        return list(self._alerts)

    def var_backtests(self) -> list[tuple[str, str, float, KupiecResult]]:
        """Kupiec's test per participant, method and level over the days :meth:`on_day` assessed."""
        out = []
        for (participant, method, c), record in self._figures.items():
            var = np.array([r[1] for r in record])
            loss = -np.array([r[2] for r in record])
            out.append((participant, method, c, kupiec_pof(int((loss > var).sum()), len(record), c)))
        return out

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
        changes, mean, cov, daily_mean = self._moments(daily_prices)
        pnl = pnl_scenarios(q, changes)
        model = self._price_model(daily_mean)
        limits = self.limits.get(participant, RiskLimits())
        rows = []
        for c in self.confidence_levels:
            figures = {"historical": historical(pnl, c), "parametric": parametric(q, mean, cov, c)}
            if model is not None:
                level, shape = self._mc_changes(model, float(daily_mean[-1]), changes)
                figures["monte_carlo"] = historical(level * float(q.sum()) + shape @ q, c)
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
        return self._loss_alert(participant, date, realised_pnl_eur)

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
