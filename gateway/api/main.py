"""The /api/v1 router: includes one router per resource."""

from fastapi import APIRouter

from gateway.api.routes import (
    admin,
    dead_letters,
    devices,
    events,
    idle,
    recommendations,
    spaces,
    status,
    utilization,
)

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(status.router)
api_router.include_router(spaces.router)
api_router.include_router(devices.router)
api_router.include_router(dead_letters.router)
api_router.include_router(utilization.router)
api_router.include_router(idle.router)
api_router.include_router(recommendations.router)
api_router.include_router(events.router)
api_router.include_router(admin.router)
