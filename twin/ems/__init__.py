"""Energy management: dispatch optimisation."""
