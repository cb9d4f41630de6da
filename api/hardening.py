"""Hardening middleware: request size limit, security headers, no stack traces, the audit of writes."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

log = logging.getLogger("bess_twin.api")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
"""Headers on every response (an API serves no pages of its own; the docs pages relax the CSP)."""

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginLimiter:
    """At most ``per_minute`` login attempts per user name and client in any 60 s (sliding window, injected clock)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self._clock = per_minute, clock
        self._seen: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def allow(self, username: str, client: str) -> bool:
        """Count one attempt; False when over the limit."""
        now = self._clock()
        seen = self._seen[(username, client)]
        while seen and now - seen[0] >= 60.0:
            seen.popleft()
        if len(seen) >= self.per_minute:
            return False
        seen.append(now)
        return True


class _TooLarge(HTTPException):
    """Raised from ``receive``: FastAPI passes an HTTPException through its body parsing, so the client gets 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body over {max_bytes} bytes")


class BodyLimit:
    """ASGI middleware: a body streamed without ``Content-Length`` (chunked) is cut off at ``max_bytes`` with 413.

    It counts the bytes as the app reads them, so a client cannot send an
    endless chunked body; a body that declares its length is refused before
    it is read (in :func:`install`).
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        """Pass the request on with a counting ``receive``; answer 413 if the count passes the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await JSONResponse({"detail": f"request body over {self.max_bytes} bytes"}, status_code=413)(scope, receive, send)


def install(app: FastAPI, max_body_bytes: int) -> None:
    """Add the middleware to ``app`` (the body counter inside, the guard outside it)."""
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable) -> Response:
        started = time.perf_counter()
        length = request.headers.get("content-length")
        response: Response
        if length is not None and (not length.isdigit() or int(length) > max_body_bytes):
            response = JSONResponse({"detail": f"request body over {max_body_bytes} bytes"}, status_code=413)
        else:
            try:
                response = await call_next(request)
            except Exception:  # never a stack trace to the client
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                response = JSONResponse({"detail": "internal error; see the server log"}, status_code=500)
        elapsed = time.perf_counter() - started
        docs = request.url.path in ("/docs", "/redoc")
        for k, v in SECURITY_HEADERS.items():
            if not (docs and k == "Content-Security-Policy"):
                response.headers.setdefault(k, v)
        metrics = getattr(app.state, "metrics", None)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        if metrics is not None:
            metrics.observe(request.method, template, response.status_code, elapsed)
        if request.method in WRITE_METHODS:
            audit = getattr(app.state, "audit", None)
            if audit is not None:
                audit.record(getattr(request.state, "user", None), request.method, request.url.path,
                             response.status_code, request.client.host if request.client else None)  # fmt: skip
        log.info("%s %s -> %s in %.1f ms", request.method, template, response.status_code, elapsed * 1000)
        return response
