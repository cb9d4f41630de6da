"""Ray actors around plain service classes, their typed clients, and the runtimes that drive them.

``actors.backtest`` holds the services of a backtest day, ``actors.live`` those of
live mode; :mod:`actors.runtime` runs either in-process or on Ray.
"""
