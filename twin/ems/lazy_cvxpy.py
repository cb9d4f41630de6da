"""cvxpy, imported on first use.

The modelling layer (:mod:`twin.ems.dispatch_model`, the EMS, intraday and
multi-market problems) is built with cvxpy, but a plain arbitrage backtest
solves its LPs in HiGHS directly (:mod:`twin.ems.highs_lp`) and never builds a
cvxpy problem. Importing cvxpy takes about a second, in the driver and in every
Ray actor process; with the standard library's
:class:`importlib.util.LazyLoader` it is paid only by a process that models
with it.

Modules use it as::

    if TYPE_CHECKING:
        import cvxpy as cp
    else:
        from twin.ems.lazy_cvxpy import cp
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """``name`` as a module that executes on its first attribute access (or the loaded one).

    Raises
    ------
    ModuleNotFoundError
        If ``name`` is not installed.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}; install the project (make install)")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


cp = lazy_module("cvxpy")
