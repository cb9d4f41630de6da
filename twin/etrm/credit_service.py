"""The credit service: each day, the exposure to every counterparty and how much of its limit it uses.

Counterparties are the external venues a site settles with (the day-ahead and
intraday exchanges, the TSO for imbalance and FCR, the energy supplier;
:data:`twin.config.etrm.COUNTERPARTIES`) and each participant of the internal
exchange, to whom the exchange is the central counterparty.

Per counterparty and day:

* receivables: every amount delivered and not yet paid. An amount due to us
  on day ``d`` is paid ``settlement_days`` later; a negative amount (we owe)
  nets against it. For an internal participant the amounts are its trade
  cash seen from the exchange: it owes what it bought and is owed what it sold;
* the PFE add-on (:func:`twin.etrm.credit.exposure`): the day's traded volume
  times the ``pfe_confidence`` quantile of the one-day absolute price move in
  the published history; the day's positions are open at its gate;
* exposure = max(receivables, 0) + add-on, utilisation against the limit, and
  an alert when over it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from twin.etrm.credit import Exposure, exposure, price_move_quantile
from twin.types import FloatArray


@dataclass(frozen=True)
class CreditRow:
    """One counterparty's exposure at the end of one day. [EUR]"""

    date: dt.date
    counterparty: str
    receivables_eur: float
    pfe_eur: float
    exposure_eur: float
    limit_eur: float | None
    utilisation_pct: float | None
    breached: bool


@dataclass
class CreditService:
    """Exposure per counterparty, day by day (see the module docstring).

    Parameters
    ----------
    settlement_days : dict of str to int
        Days from delivery to payment per counterparty; internal participants
        use ``intraday exchange``'s, anyone unlisted 1.
    limits_eur : dict of str to float
        Credit limit per counterparty (venue name or participant id).
    pfe_confidence : float
    history_days : int
        Published days the price-move quantile is taken over.
    """

    settlement_days: dict[str, int] = field(default_factory=dict)
    limits_eur: dict[str, float] = field(default_factory=dict)
    pfe_confidence: float = 0.99
    history_days: int = 250
    _open: list[tuple[str, dt.date, float]] = field(default_factory=list)
    _prices: list[FloatArray] = field(default_factory=list)
    _rows: list[CreditRow] = field(default_factory=list)

    def lag_days(self, counterparty: str) -> int:
        """Days from delivery to payment of ``counterparty``."""
        if counterparty in self.settlement_days:
            return self.settlement_days[counterparty]
        return self.settlement_days.get("intraday exchange", 1)

    def publish(self, prices_eur_per_mwh: FloatArray) -> None:
        """Add one published day of prices, shape (S,), to the move history. [EUR/MWh]"""
        self._prices.append(np.asarray(prices_eur_per_mwh, dtype=float))
        if len(self._prices) > self.history_days + 1:
            del self._prices[0]

    @property
    def move_eur_per_mwh(self) -> float:
        """The PFE price move: the quantile of the one-day same-slot move (0 before two days). [EUR/MWh]"""
        if len(self._prices) < 2:
            return 0.0
        p = np.asarray(self._prices)
        try:
            return price_move_quantile(p.reshape(-1), p.shape[1], self.pfe_confidence)
        except ValueError:
            return 0.0

    def on_day(
        self,
        date: dt.date,
        amounts_eur: dict[str, float],
        volume_mwh: dict[str, float],
        prices_eur_per_mwh: FloatArray,
    ) -> list[Exposure]:
        """Book the day's amounts, measure every counterparty's exposure, then publish the day's prices.

        Parameters
        ----------
        date : datetime.date
        amounts_eur : dict of str to float
            What each counterparty owes for the day (negative: what we owe it). [EUR]
        volume_mwh : dict of str to float
            Volume traded with each counterparty for the day (the open position at its gate). [MWh]
        prices_eur_per_mwh : np.ndarray, shape (S,)
            The day's clearing prices, published after the measurement. [EUR/MWh]

        Returns
        -------
        list of Exposure
            One per counterparty with anything open, sorted by name; ``breached``
            ones are the alerts.
        """
        for counterparty, amount in amounts_eur.items():
            if amount:
                self._open.append((counterparty, date + dt.timedelta(days=self.lag_days(counterparty)), float(amount)))
        self._open = [o for o in self._open if o[1] > date]
        receivable: dict[str, float] = {}
        for counterparty, _, amount in self._open:
            receivable[counterparty] = receivable.get(counterparty, 0.0) + amount
        move = self.move_eur_per_mwh
        out = []
        for counterparty in sorted(set(receivable) | {c for c, v in volume_mwh.items() if v}):
            e = exposure(counterparty, receivable.get(counterparty, 0.0), 0.0, volume_mwh.get(counterparty, 0.0),
                         move, self.limits_eur.get(counterparty))  # fmt: skip
            out.append(e)
            self._rows.append(CreditRow(date, counterparty, receivable.get(counterparty, 0.0), e.pfe_eur,
                                        e.total_eur, e.limit_eur, e.utilisation_pct, e.breached))  # fmt: skip
        self.publish(prices_eur_per_mwh)
        return out

    def current_eur(self) -> dict[str, float]:
        """Current exposure (receivables only, floored at 0) per counterparty now. [EUR]"""
        out: dict[str, float] = {}
        for counterparty, _, amount in self._open:
            out[counterparty] = out.get(counterparty, 0.0) + amount
        return {k: max(v, 0.0) for k, v in out.items()}

    def rows(self) -> list[CreditRow]:
        """The exposure history, in order."""
        return list(self._rows)
