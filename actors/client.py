"""Typed clients of the services: ``site.plan_day(day, forecast)``, not ``call(handle, "plan_day", ...)``.

A client wraps one service instance behind a runtime (in-process or a Ray
actor), as ``ray.util.queue.Queue`` wraps its actor. Each of its methods is
declared from the service's own function object::

    class SiteClient(ServiceClient):
        service = SiteService
        actor = SiteActor
        plan_day = remote(SiteService.plan_day)

so a misspelt method name fails when the client's module is imported (the
attribute lookup on the service class), and the type checker knows what each
call returns: a :class:`Ref` to the service method's return type, which
``runtime.get`` turns into the value. Arguments may be values or ``Ref`` s of
earlier calls; Ray resolves them before the method runs, in submission order.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast, overload

R = TypeVar("R")
C = TypeVar("C", bound="ServiceClient")


class Ref(Generic[R]):
    """Static type of a pending result of type ``R``.

    At run time it is the value itself (local runtime) or a Ray ``ObjectRef``;
    pass it on as an argument of another call, or resolve it with
    ``runtime.get``. Never instantiated.
    """


class Runtime(Protocol):
    """How services are instantiated and called (``actors.runtime.LocalRuntime`` / ``RayRuntime``)."""

    name: str

    def create(self, service: type, actor: Any, options: dict[str, Any], *args: Any) -> Any:
        """Start one service instance with constructor ``args``; returns its handle."""

    def call(self, handle: Any, method: str, *args: Any) -> Any:
        """Call ``method`` of the instance behind ``handle`` (clients do this)."""

    def call_many(self, handle: Any, method: str, n: int, *args: Any) -> list[Any]:
        """Call ``method``, which returns a sequence of ``n`` results; one pending result each."""

    def call_many_aside(self, handle: Any, method: str, n: int, *args: Any) -> list[Any]:
        """As :meth:`call_many`, for work that may run beside the calls that follow (it shares no state with them)."""

    def cpus(self) -> int:
        """CPUs available to the services (the cluster's under Ray)."""

    def put(self, value: Any) -> Any:
        """Share a large value once with every service."""

    def get(self, refs: Sequence[Any]) -> list[Any]:
        """Resolve pending results, in order."""

    def close(self) -> None:
        """Stop every service this runtime started."""


class _Bound(Generic[R]):
    __slots__ = ("_client", "_name")

    def __init__(self, client: ServiceClient, name: str) -> None:
        self._client, self._name = client, name

    def __call__(self, *args: Any) -> Ref[R]:
        client = self._client
        return cast("Ref[R]", client.runtime.call(client.handle, self._name, *args))


class RemoteMethod(Generic[R]):
    """A client attribute that calls one method of the service (see :func:`remote`)."""

    def __init__(self, function: Callable[..., R]) -> None:
        self.name = function.__name__

    @overload
    def __get__(self, client: None, owner: type) -> RemoteMethod[R]: ...
    @overload
    def __get__(self, client: ServiceClient, owner: type) -> Callable[..., Ref[R]]: ...
    def __get__(
        self, client: ServiceClient | None, owner: type
    ) -> RemoteMethod[R] | Callable[..., Ref[R]]:
        if client is None:
            return self
        return _Bound[R](client, self.name)


class AsyncRemoteMethod(Generic[R]):
    """A client attribute for an ``async`` service method: awaiting it gives the result."""

    def __init__(self, function: Callable[..., Coroutine[Any, Any, R]] | Callable[..., R]) -> None:
        self.name = function.__name__

    def __get__(self, client: ServiceClient | None, owner: type) -> Callable[..., Awaitable[R]]:
        if client is None:
            return cast("Callable[..., Awaitable[R]]", self)
        name = self.name

        async def call(*args: Any) -> R:
            result = client.runtime.call(client.handle, name, *args)
            return cast(R, await result if inspect.isawaitable(result) else result)

        return call


def remote(function: Callable[..., R]) -> RemoteMethod[R]:
    """Declare a client method from the service's function object.

    Parameters
    ----------
    function : callable
        ``Service.method``; its ``__name__`` is the method called.

    Returns
    -------
    RemoteMethod
        Calling it on a client returns a :class:`Ref` to ``function``'s result.
    """
    return RemoteMethod(function)


@overload
def remote_async(function: Callable[..., Coroutine[Any, Any, R]]) -> AsyncRemoteMethod[R]: ...
@overload
def remote_async(function: Callable[..., R]) -> AsyncRemoteMethod[R]: ...
def remote_async(function: Callable[..., Any]) -> AsyncRemoteMethod[Any]:
    """Declare an awaitable client method (for the asyncio live loop) from a service method.

    Parameters
    ----------
    function : callable
        ``Service.method``, ``async`` or not.

    Returns
    -------
    AsyncRemoteMethod
        Calling it on a client returns an awaitable of ``function``'s result.
    """
    return AsyncRemoteMethod(function)


class ServiceClient:
    """Base of the typed clients: one service instance behind a runtime.

    Subclasses set ``service`` (the plain class) and ``actor`` (its
    ``ray.remote`` twin) and declare their methods with :func:`remote`.

    Parameters
    ----------
    runtime : Runtime
    handle : Any
        The service instance (local) or its actor handle (Ray).
    """

    service: ClassVar[type]
    actor: ClassVar[Any]

    def __init__(self, runtime: Runtime, handle: Any) -> None:
        self.runtime = runtime
        self.handle = handle

    @classmethod
    def spawn(cls: type[C], runtime: Runtime, *args: Any, options: dict[str, Any] | None = None) -> C:
        """Start the service on ``runtime`` with constructor ``args`` and Ray ``options``."""
        return cls(runtime, runtime.create(cls.service, cls.actor, options or {}, *args))
