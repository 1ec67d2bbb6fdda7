"""Print jobs: their lifecycle, and release from the app on behalf of the job's owner.

A member-bound token lists, reads and releases its own member's jobs only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from gateway.api.deps import CallerMemberFacing, MemberFacing, ServicesDep, acting_for, owned
from gateway.api.paging import Limit, ServiceOffset
from gateway.api.service_http import Id, PathId, errors, http_errors, iso

router = APIRouter(prefix="/print-jobs", tags=["print jobs"], dependencies=[MemberFacing])

Status = Literal["submitted", "held", "released", "printing", "completed", "failed", "cancelled"]


class Step(BaseModel):
    status: str
    at: datetime
    by: str


class PrintJob(BaseModel):
    id: str
    printer: str
    owner: str | None
    pages: int | None
    status: Status
    submitted_at: datetime | None
    released_at: datetime | None
    released_by: str | None
    finished_at: datetime | None
    updated_at: datetime
    history: list[Step]


class PrintJobs(BaseModel):
    data: list[PrintJob]
    count: int
    total: int


class Release(BaseModel):
    member: Id  # the member the app acts for; must own the job


def out(row: dict[str, Any]) -> PrintJob:
    times = ("submitted_at", "released_at", "finished_at", "updated_at")
    history = [{**h, "at": iso(h["at"])} for h in row["history"]]
    return PrintJob(**{**row, **{k: iso(row[k]) for k in times}, "history": history})


@router.get("", response_model=PrintJobs)
def list_jobs(
    services: ServicesDep,
    caller: CallerMemberFacing,
    owner: Id | None = None,
    status: Status | None = None,
    printer: Id | None = None,
    limit: Limit = 100,
    offset: ServiceOffset = 0,
) -> PrintJobs:
    """Print jobs, most recently changed first."""
    rows, total = services.print_jobs.query(
        owner=acting_for(caller, owner), status=status, printer=printer, limit=limit, offset=offset
    )
    return PrintJobs(data=[out(r) for r in rows], count=len(rows), total=total)


@router.get("/{job_id}", response_model=PrintJob, responses=errors(404))
def get_job(job_id: PathId, services: ServicesDep, caller: CallerMemberFacing) -> PrintJob:
    with http_errors():
        row = services.print_jobs.get(job_id)
    if not owned(caller, row["owner"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no print job {job_id!r}")
    return out(row)


@router.post("/{job_id}/release", response_model=PrintJob, responses=errors(403, 404, 409, 503))
def release(
    job_id: PathId, body: Release, services: ServicesDep, caller: CallerMemberFacing
) -> PrintJob:
    """Release a held job to print, for its owner (403 if ``member`` does not own it)."""
    member = acting_for(caller, body.member)
    assert member is not None
    with http_errors():
        row = services.print_jobs.release(job_id, member, caller.name)
    return out(row)
