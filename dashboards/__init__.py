"""Streamlit dashboards over live sites and backtest results."""
