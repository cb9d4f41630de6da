"""Prometheus metrics of the API itself: requests and their latency per route template and status."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

_BUCKETS_S = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


class ApiMetrics:
    """API requests and latency per route template, and each live site's SoC, power, reading quality and safe state."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("bess_twin_api_requests", "API requests", ["method", "route", "status"], registry=r)
        self.latency = Histogram("bess_twin_api_request_seconds", "API request latency", ["method", "route"],
                                 buckets=_BUCKETS_S, registry=r)  # fmt: skip

        self.soc = Gauge("bess_twin_site_soc_ratio", "Latest SoC of a site (fraction)", ["site"], registry=r)
        self.power = Gauge("bess_twin_site_power_kw", "Latest power at the PCC, discharge positive", ["site"], registry=r)
        self.quality = Gauge("bess_twin_site_reading_good", "1 when the latest reading is good", ["site"], registry=r)
        self.safe = Gauge("bess_twin_site_safe_state", "1 while the guard holds the site safe", ["site"], registry=r)

    def set_site(self, row: dict[str, object]) -> None:
        """Set a site's gauges from its latest history row."""
        site = str(row["site_id"])
        for gauge, key in ((self.soc, "soc"), (self.power, "power_kw")):
            value = row.get(key)
            gauge.labels(site).set(float(value) if isinstance(value, int | float) else float("nan"))
        self.quality.labels(site).set(1.0 if row.get("quality") == "good" else 0.0)
        self.safe.labels(site).set(1.0 if row.get("safe") else 0.0)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def text(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)


class _Parsed:
    """A collector that yields already-collected metric families."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families


def merge_expositions(*texts: bytes) -> bytes:
    """One exposition of several registries, each family written once.

    A family two of them share (``G_PNL_REAL``: the exchange's trade P&L and the
    ETRM's day-ahead P&L, told apart by their ``market`` label) gets every
    sample under one header, as the exposition format requires.
    """
    merged: dict[str, Any] = {}
    for text in texts:
        for family in text_string_to_metric_families(text.decode()):
            if family.name in merged:
                merged[family.name].samples.extend(family.samples)
            else:
                merged[family.name] = family
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Parsed(list(merged.values())))
    return generate_latest(registry)
