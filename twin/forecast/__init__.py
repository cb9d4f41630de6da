"""Forecasters: predict prices for a horizon only from what was published before the gate."""
