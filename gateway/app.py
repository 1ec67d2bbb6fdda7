"""The app factory: FastAPI app whose lifespan starts and drains the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from gateway import __version__
from gateway.api import validation
from gateway.api.deps import principal_for
from gateway.api.guard import HttpGuard
from gateway.api.latency import LatencyMiddleware
from gateway.api.main import api_router
from gateway.api.metrics import router as metrics_router
from gateway.api.running import Running
from gateway.api.stream import StreamHub

STATIC = Path(__file__).parent / "api" / "static"


def create_app(gateway: Running, *, manage: bool = True) -> FastAPI:
    """The API around ``gateway``; with ``manage`` the app's lifespan starts and stops it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if manage:
            gateway.start()
        try:
            yield
        finally:
            app.state.stream.close()
            if manage:
                gateway.stop()

    app = FastAPI(
        title="gateway",
        version=__version__,
        summary="Smart-building edge gateway: spaces, devices, occupancy, dead letters.",
        lifespan=lifespan,
    )
    _put_parts(app, gateway)
    app.state.stream = StreamHub(
        gateway.live,
        gateway.access.tokens,
        gateway.clock,
        heartbeat_s=gateway.settings.api.stream_heartbeat_s,
    )
    app.add_middleware(
        HttpGuard,
        authenticate=lambda token: principal_for(gateway.admin_token, gateway.access, token),
        max_body_bytes=gateway.settings.api.max_body_bytes,
    )
    # outermost: times refusals too
    app.add_middleware(LatencyMiddleware, hist=gateway.telemetry.api_latency)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router)
    validation.install(app)  # the schema documents both forms of 422 the routes answer
    app.include_router(metrics_router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def _put_parts(app: FastAPI, gateway: Running) -> None:
    """The parts the routes depend on (``gateway.api.deps``), each under its own name."""
    st = app.state
    st.gateway = gateway  # health, stats and metrics only
    st.live, st.config, st.db, st.clock = gateway.live, gateway.current, gateway.db, gateway.clock
    st.settings, st.admin_token = gateway.settings, gateway.admin_token
    st.access, st.services, st.reconfigure = gateway.access, gateway.services, gateway.reconfigure
    st.readmodel = gateway.readmodel
    st.webhooks = gateway.webhooks
    st.booking_hooks = gateway.booking_hooks
