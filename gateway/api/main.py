"""The /api/v1 router: includes one router per resource."""

from fastapi import APIRouter

from gateway.api.routes import dead_letters, devices, spaces, status

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(status.router)
api_router.include_router(spaces.router)
api_router.include_router(devices.router)
api_router.include_router(dead_letters.router)
