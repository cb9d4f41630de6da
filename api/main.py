"""The FastAPI app: thin routers over the run folders (and the live twin), auth on every route.

``create_app`` builds it from :class:`~api.settings.ApiSettings`; ``bess-twin
serve`` runs it with uvicorn on loopback by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response

from api.audit import AuditLog
from api.auth.store import User, UserStore
from api.deps import ERRORS, require
from api.hardening import LoginLimiter, install
from api.live import LiveHub
from api.metrics import ApiMetrics, merge_expositions
from api.routes import auth, devices, etrm, exchange, runs, sites, strategy, telemetry
from api.runs import RunStore
from api.settings import ApiSettings
from twin.config import load_scenario

log = logging.getLogger("bess_twin.api")


def create_app(
    settings: ApiSettings | None = None, runs_dir: Path | None = None, live: Path | None = None, runtime: str = "local"
) -> FastAPI:
    """The API app.

    Parameters
    ----------
    settings : ApiSettings, optional
        Default: from the environment.
    runs_dir : Path, optional
        Folder of finished backtest runs to serve read-only.
    live : Path, optional
        A scenario to run live inside the server (its devices, market and ETRM services).
    runtime : {"local", "ray"}
        Runtime of the live run.
    """
    settings = settings or ApiSettings()
    api_metrics = ApiMetrics()
    hub = LiveHub(load_scenario(live), api_metrics.set_site) if live is not None else None

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if hub is not None and live is not None:
            hub.task = asyncio.create_task(hub.run(live, runtime))
        yield
        if hub is not None and hub.task is not None:
            hub.stop.set()
            with contextlib.suppress(Exception):
                await hub.task

    app = FastAPI(title="bess-twin API", version="1", lifespan=lifespan, description="Sites, backtest runs, ETRM results. "
                  "Every route needs a bearer token from /api/v1/auth/token; users see only their sites.")  # fmt: skip
    app.state.live = hub
    app.state.settings = settings
    app.state.store = UserStore(settings.users_db)
    app.state.audit = AuditLog(settings.audit_ledger)
    app.state.metrics = api_metrics
    app.state.login_limiter = LoginLimiter(settings.login_per_minute)
    app.state.runs = RunStore(runs_dir) if runs_dir is not None else None
    _first_admin(app.state.store, settings)
    install(app, settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])  # fmt: skip
    app.include_router(auth.router)
    if runs_dir is not None:
        app.include_router(runs.router)
    if hub is not None:
        app.include_router(sites.router)
        app.include_router(telemetry.router)
        app.include_router(etrm.router)
        app.include_router(devices.router)
        app.include_router(strategy.router)
        app.include_router(exchange.router)

    @app.get("/metrics", tags=["metrics"], response_class=Response, responses={200: {"content": {"text/plain": {}}}, **ERRORS})
    async def metrics(_: Annotated[User, Depends(require())]) -> Response:
        """Prometheus exposition (admin): the API, the live sites, the live ETRM services and the internal exchange (G_MARK ... C_EVENTS)."""
        texts = [app.state.metrics.text()]
        if hub is not None and hub.etrm is not None:
            texts.append(await hub.etrm.metrics_text())
        if hub is not None and hub.exchange is not None:
            texts.append(await hub.exchange.metrics_text())
        return Response(merge_expositions(*texts), media_type="text/plain; version=0.0.4")

    return app


def _first_admin(store: UserStore, settings: ApiSettings) -> None:
    """Create the first admin from the environment when no user exists (never a default password)."""
    if store.list() or settings.admin_user is None:
        if not store.list():
            log.warning("no user exists: create one with `bess-twin users add NAME --role admin`")
        return
    if settings.admin_password is None:
        raise ValueError("BESS_TWIN_API_ADMIN_USER is set without BESS_TWIN_API_ADMIN_PASSWORD; set both or neither")
    store.add(settings.admin_user, settings.admin_password.get_secret_value(), "admin", ["*"])
    log.warning("created the first admin %r from the environment", settings.admin_user)
