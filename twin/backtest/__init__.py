"""Backtest clock, results, KPIs and report."""
