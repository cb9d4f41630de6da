"""API routers, one per topic (thin: they call readers and services, they hold no logic)."""
