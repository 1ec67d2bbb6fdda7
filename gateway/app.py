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
from gateway.api.main import api_router
from gateway.api.metrics import LatencyMiddleware
from gateway.api.metrics import router as metrics_router
from gateway.api.stream import StreamHub
from gateway.runtime import Gateway

STATIC = Path(__file__).parent / "api" / "static"


def create_app(gateway: Gateway, *, manage: bool = True) -> FastAPI:
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
    app.state.gateway = gateway
    app.state.stream = StreamHub(gateway, heartbeat_s=gateway.settings.api.stream_heartbeat_s)
    app.add_middleware(
        HttpGuard,
        authenticate=lambda token: principal_for(gateway, token),
        max_body_bytes=gateway.settings.api.max_body_bytes,
    )
    app.add_middleware(LatencyMiddleware, gw=gateway)  # outermost: times refusals too
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router)
    validation.install(app)  # the schema documents both forms of 422 the routes answer
    app.include_router(metrics_router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
