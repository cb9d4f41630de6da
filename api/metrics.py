"""Prometheus metrics of the API itself: requests and their latency per route template and status."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_BUCKETS_S = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


class ApiMetrics:
    """``bess_twin_api_requests_total{method, route, status}`` and ``bess_twin_api_request_seconds{method, route}``."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("bess_twin_api_requests", "API requests", ["method", "route", "status"], registry=r)
        self.latency = Histogram("bess_twin_api_request_seconds", "API request latency", ["method", "route"],
                                 buckets=_BUCKETS_S, registry=r)  # fmt: skip

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def text(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
