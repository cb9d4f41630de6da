"""Prometheus gauges of the ETRM services (prometheus-client), one registry per service instance.

==============================================================  =========================================
metric                                                          meaning
==============================================================  =========================================
``bess_twin_var_eur{participant, method, confidence}``          latest VaR of the open position
``bess_twin_es_eur{participant, method, confidence}``           latest expected shortfall
``bess_twin_limit_utilisation_percent{participant, limit}``     VaR / credit limit used
``bess_twin_realised_pnl_eur{market, participant}``             ``G_PNL_REAL``: day-ahead P&L vs the mark
``bess_twin_credit_exposure_eur{counterparty}``                 receivables plus the PFE add-on
``bess_twin_grid_frequency_hz``                                 latest frequency sample
``bess_twin_grid_events_total{kind, level}``                    frequency and constraint events
``bess_twin_invoices_total``                                    invoices issued
==============================================================  =========================================
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class EtrmMetrics:
    """The ETRM gauges in their own registry (several runs never collide)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        labels = ["participant", "method", "confidence"]
        self.var = Gauge("bess_twin_var_eur", "Value at risk of the open position", labels, registry=r)
        self.es = Gauge("bess_twin_es_eur", "Expected shortfall of the open position", labels, registry=r)
        self.utilisation = Gauge(
            "bess_twin_limit_utilisation_percent", "Share of a limit in use", ["participant", "limit"], registry=r
        )
        self.pnl = Gauge(
            "bess_twin_realised_pnl_eur", "Realised P&L against the mark", ["market", "participant"], registry=r
        )
        self.exposure = Gauge(
            "bess_twin_credit_exposure_eur", "Receivables plus PFE add-on", ["counterparty"], registry=r
        )
        self.frequency = Gauge("bess_twin_grid_frequency_hz", "Latest grid frequency sample", registry=r)
        self.grid_events = Counter("bess_twin_grid_events", "Grid events", ["kind", "level"], registry=r)
        self.invoices = Counter("bess_twin_invoices", "Invoices issued", registry=r)

    def text(self) -> bytes:
        """The metrics in the Prometheus text exposition format."""
        return generate_latest(self.registry)
