"""The /api/v1 router: includes one router per resource."""

from fastapi import APIRouter

from gateway.api.routes import (
    access,
    admin,
    alerts,
    bookings,
    dead_letters,
    devices,
    events,
    heatmap,
    idle,
    integrations,
    member_tokens,
    members,
    portfolio,
    print_jobs,
    recommendations,
    spaces,
    status,
    stream,
    tokens,
    utilization,
    webhooks,
    work_orders,
)

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(status.router)
api_router.include_router(spaces.router)
api_router.include_router(devices.router)
api_router.include_router(dead_letters.router)
api_router.include_router(heatmap.router)
api_router.include_router(utilization.router)
api_router.include_router(portfolio.router)
api_router.include_router(idle.router)
api_router.include_router(recommendations.router)
api_router.include_router(events.router)
api_router.include_router(admin.router)
api_router.include_router(tokens.router)
api_router.include_router(member_tokens.router)
api_router.include_router(members.router)
api_router.include_router(access.router)
api_router.include_router(stream.router)
api_router.include_router(bookings.router)
api_router.include_router(print_jobs.router)
api_router.include_router(alerts.router)
api_router.include_router(work_orders.router)
api_router.include_router(integrations.router)
api_router.include_router(webhooks.router)
