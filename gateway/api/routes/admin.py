"""Admin actions: reload the device profiles and the building file without a restart."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from gateway.api.deps import AdminOnly, ConfigDep, ReconfigureDep

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminOnly])


class ReloadResult(BaseModel):
    reloaded: bool
    detail: str
    profiles: list[str]


@router.post(
    "/reload",
    response_model=ReloadResult,
    responses={422: {"description": "a file is broken; the running set stays in force"}},
)
async def reload(reconf: ReconfigureDep, config: ConfigDep) -> ReloadResult:
    """Reload profiles and building (as SIGHUP does). A broken file is refused with its error
    (422) and the profiles and building already running stay in force."""
    ok, detail = await run_in_threadpool(reconf.reload)
    if not ok:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"reload refused: {detail}")
    return ReloadResult(reloaded=True, detail=detail, profiles=list(config.get().registry.names))
