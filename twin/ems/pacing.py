"""Cycle pacing: an annual equivalent-full-cycle budget as a daily-updated shadow price.

The budget constraint ``sum_d EFC_d <= B`` of a year is relaxed into the daily
objectives with a Lagrange multiplier ``lambda`` (EUR per MWh of throughput),
updated after each day by projected subgradient ascent on the dual::

    lambda_{d+1} = max(0, lambda_d + k * (EFC_d - B / days_per_year))

so a site that cycles faster than the pro-rata budget sees throughput grow
dearer, and one that cycles slower sees the price fall back to zero.

References
----------
.. [1] S. Boyd, L. Xiao, A. Mutapcic, J. Mattingley, "Notes on decomposition
   methods", Stanford EE364B, 2007 (dual decomposition, subgradient update).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CyclePacer:
    """Shadow price of throughput that spreads an annual cycle budget over the year.

    Parameters
    ----------
    cycles_per_year : float or None
        Equivalent-full-cycle budget; None: no budget (the price stays 0).
    gain_eur_per_mwh : float
        Price step per cycle above the pro-rata daily budget. [EUR/MWh per EFC]
    days_per_year : float
        Days the budget is spread over.
    """

    cycles_per_year: float | None
    gain_eur_per_mwh: float = 10.0
    days_per_year: float = 365.0
    price_eur_per_mwh: float = 0.0
    cycles_used: float = 0.0
    days: int = 0

    @property
    def daily_budget(self) -> float | None:
        """The pro-rata budget of one day. [EFC]"""
        if self.cycles_per_year is None:
            return None
        return self.cycles_per_year / self.days_per_year

    def update(self, cycles_today: float) -> float:
        """Record one day's cycles and return the next day's shadow price. [EUR/MWh]"""
        self.cycles_used += cycles_today
        self.days += 1
        budget = self.daily_budget
        if budget is not None:
            step = self.gain_eur_per_mwh * (cycles_today - budget)
            self.price_eur_per_mwh = max(0.0, self.price_eur_per_mwh + step)
        return self.price_eur_per_mwh
