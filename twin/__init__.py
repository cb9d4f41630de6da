"""bess-twin domain core: config, battery physics, dispatch, markets, backtest maths.

This package is pure: it imports no Ray, SimPy, pymodbus, paho, FastAPI or
Streamlit (checked by import-linter in CI).
"""

__version__ = "0.1.0"
