"""Backtest services (site, market, forecast, exchange), each a plain class, a Ray actor and a typed client."""
