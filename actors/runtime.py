"""Runtimes: run the services in-process (``local``) or as Ray actors (``ray``), behind one interface.

``LocalRuntime`` instantiates a service and calls it directly (fast,
deterministic, for debugging and unit tests); ``RayRuntime`` starts the
service's ``ray.remote`` twin and returns ``ObjectRef`` s. The typed clients of
:mod:`actors.client` call through either, so the backtest driver
(:mod:`actors.backtest.driver`) and the live loop (:mod:`actors.live.loop`)
are the same code on both, and give identical results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

from actors.client import Runtime

log = logging.getLogger(__name__)

RuntimeName = Literal["ray", "local"]


class LocalRuntime:
    """Runs every service in this process; calls return values at once."""

    name = "local"

    def __init__(self) -> None:
        self._aside: ThreadPoolExecutor | None = None

    def create(self, service: type, actor: Any, options: dict[str, Any], *args: Any) -> Any:
        """Instantiate ``service`` directly (``actor`` and ``options`` are ignored)."""
        return service(*args)

    def call(self, handle: Any, method: str, *args: Any) -> Any:
        """Call ``handle.method(*args)`` now (typed clients call this, see :mod:`actors.client`)."""
        return getattr(handle, method)(*args)

    def call_many(self, handle: Any, method: str, n: int, *args: Any) -> list[Any]:
        """Call ``handle.method(*args)``, which returns ``n`` results (a site group's, one per site).

        As under Ray's ``num_returns``, a method with one result returns it whole.
        """
        value = getattr(handle, method)(*args)
        results = [value] if n == 1 else list(value)
        if len(results) != n:
            raise RuntimeError(f"{method} returned {len(results)} results, expected {n}")
        return results

    def call_many_aside(self, handle: Any, method: str, n: int, *args: Any) -> list[Any]:
        """Start :meth:`call_many` on a background thread; :meth:`get` waits for its results.

        For work that shares no state with the calls that follow (a bound's
        MILP, solved in HiGHS, which releases the GIL): it then uses the CPU
        the rest of this process leaves idle.
        """
        if self._aside is None:
            self._aside = ThreadPoolExecutor(1, thread_name_prefix="aside")
        future = self._aside.submit(self.call_many, handle, method, n, *args)
        return [_Pending(future, k) for k in range(n)]

    def cpus(self) -> int:
        """CPUs the services share: one (everything runs in this process)."""
        return 1

    def put(self, value: Any) -> Any:
        """Return ``value`` unchanged."""
        return value

    def get(self, refs: Sequence[Any]) -> list[Any]:
        """Return ``refs`` unchanged (they are values already), waiting for those started aside."""
        return [ref.result() if isinstance(ref, _Pending) else ref for ref in refs]

    def close(self) -> None:
        """Wait for the work started aside."""
        if self._aside is not None:
            self._aside.shutdown(wait=True)
            self._aside = None


class _Pending:
    """Result ``k`` of a call started aside (:meth:`LocalRuntime.call_many_aside`)."""

    __slots__ = ("_future", "_k")

    def __init__(self, future: Future[list[Any]], k: int) -> None:
        self._future, self._k = future, k

    def result(self) -> Any:
        """Wait for the call; its ``k``-th result (its exception, if it raised)."""
        return self._future.result()[self._k]


class RayRuntime:
    """Runs every service as a Ray actor.

    Parameters
    ----------
    address : str, optional
        Address of a running Ray cluster; default: start a local Ray instance
        (or reuse the one this process already started).
    num_cpus : int, optional
        CPUs for a local instance; default: all.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        import ray

        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            os.environ.setdefault("RAY_DEDUP_LOGS", "1")
            ray.init(
                address=address,
                num_cpus=num_cpus if address is None else None,
                include_dashboard=False,
                logging_level=logging.WARNING,
                configure_logging=True,
            )
        self._handles: list[Any] = []

    def create(self, service: type, actor: Any, options: dict[str, Any], *args: Any) -> Any:
        """Start ``actor`` (the ``ray.remote`` twin of ``service``) with ``options``."""
        handle = actor.options(**options).remote(*args) if options else actor.remote(*args)
        self._handles.append(handle)
        return handle

    def call(self, handle: Any, method: str, *args: Any) -> Any:
        """Submit ``handle.method.remote(*args)``; returns an ``ObjectRef``."""
        return getattr(handle, method).remote(*args)

    def call_many(self, handle: Any, method: str, n: int, *args: Any) -> list[Any]:
        """Submit a call that returns ``n`` results; one ``ObjectRef`` each (``num_returns``)."""
        refs = getattr(handle, method).options(num_returns=n).remote(*args)
        return [refs] if n == 1 else list(refs)

    def call_many_aside(self, handle: Any, method: str, n: int, *args: Any) -> list[Any]:
        """:meth:`call_many`: an actor call runs beside the driver anyway."""
        return self.call_many(handle, method, n, *args)

    def cpus(self) -> int:
        """CPUs of the whole cluster (every node's), as Ray counts them."""
        return max(int(self._ray.cluster_resources().get("CPU", 1)), 1)

    def put(self, value: Any) -> Any:
        """Store ``value`` once in the object store (for large arrays sent to many actors)."""
        return self._ray.put(value)

    def get(self, refs: Sequence[Any]) -> list[Any]:
        """Fetch all ``refs`` with one ``ray.get``."""
        return list(self._ray.get(refs))

    def close(self) -> None:
        """Stop the actors, and Ray itself if this runtime started it."""
        for handle in self._handles:
            self._ray.kill(handle)
        self._handles.clear()
        if self._owns:
            self._ray.shutdown()


def make_runtime(name: RuntimeName, ray_address: str | None = None) -> Runtime:
    """Build a runtime by name (``ray`` or ``local``)."""
    if name == "local":
        return LocalRuntime()
    if name == "ray":
        return RayRuntime(address=ray_address)
    raise ValueError(f"unknown runtime {name!r}; choose ray or local")


