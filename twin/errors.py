"""Error hierarchy of the domain layer.

Every exception passes its whole message to ``super().__init__`` and keeps any
extra attribute optional, so it pickles across Ray actor boundaries (a caller
can ``except SocBoundsError`` around ``ray.get``).
"""

from __future__ import annotations


class TwinError(Exception):
    """Base class of every error raised by :mod:`twin`."""


class ScenarioError(TwinError, ValueError):
    """A scenario, or the data it points to, cannot be used. Raised before any work starts."""


class ConfigError(ScenarioError):
    """A configuration value is invalid (names the key, the value and what is allowed)."""


class DataError(ScenarioError):
    """An input data file is missing, unreadable, or has gaps/duplicates with no fill policy."""


class SimulationError(TwinError, RuntimeError):
    """Something failed while a backtest or a live run was under way."""


class InfeasibleDispatchError(SimulationError):
    """The dispatch optimisation has no feasible solution or the solver failed."""


class SocBoundsError(SimulationError, ValueError):
    """A state of charge lies outside the battery's allowed range."""


class ForecastError(SimulationError):
    """A forecaster lacks the history it needs for the requested delivery period."""
