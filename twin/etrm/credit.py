"""Counterparty credit exposure: current exposure plus a potential-future-exposure add-on, against limits.

* Current exposure: ``max(unsettled receivables + positive mark-to-market, 0)``;
* potential future exposure: ``|open MWh| x q``, with ``q`` the ``confidence``
  quantile of the absolute price move over the settlement horizon seen in the
  price history (a historical add-on in the spirit of the Basel current
  exposure method);
* utilisation: ``(current + PFE) / limit`` in %.

References
----------
.. [1] Basel Committee on Banking Supervision, "The standardised approach for
   measuring counterparty credit risk exposures" (SA-CCR), 2014: exposure =
   replacement cost + potential future exposure add-on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.types import FloatArray


def price_move_quantile(price_eur_per_mwh: FloatArray, horizon_steps: int, confidence: float = 0.99) -> float:
    """The ``confidence`` quantile of ``|p(t + h) - p(t)|`` in a price history. [EUR/MWh]

    Raises
    ------
    ValueError
        If the history is not longer than the horizon.
    """
    p = np.asarray(price_eur_per_mwh, dtype=float)
    p = p[np.isfinite(p)]
    if len(p) <= horizon_steps:
        raise ValueError(f"price history of {len(p)} values is not longer than the horizon of {horizon_steps} steps")
    return float(np.quantile(np.abs(p[horizon_steps:] - p[:-horizon_steps]), confidence))


@dataclass(frozen=True)
class Exposure:
    """Credit exposure to one counterparty. [EUR]"""

    counterparty: str
    current_eur: float
    pfe_eur: float
    limit_eur: float | None

    @property
    def total_eur(self) -> float:
        """Current exposure plus the add-on."""
        return self.current_eur + self.pfe_eur

    @property
    def utilisation_pct(self) -> float | None:
        """Total over the limit, in %; None without a limit."""
        return 100.0 * self.total_eur / self.limit_eur if self.limit_eur else None

    @property
    def breached(self) -> bool:
        """Whether the total exceeds the limit."""
        return self.limit_eur is not None and self.total_eur > self.limit_eur


def exposure(
    counterparty: str,
    receivables_eur: float,
    mark_to_market_eur: float,
    open_mwh: float,
    move_eur_per_mwh: float,
    limit_eur: float | None = None,
) -> Exposure:
    """Exposure to ``counterparty`` (see the module docstring)."""
    current = max(receivables_eur + max(mark_to_market_eur, 0.0), 0.0)
    return Exposure(counterparty, current, abs(open_mwh) * move_eur_per_mwh, limit_eur)
