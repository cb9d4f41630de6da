"""ETRM maths: value at risk and its backtest, the price model behind Monte Carlo VaR."""
