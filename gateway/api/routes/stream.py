"""The live stream: Server-Sent Events of space, device and notice changes, and its tickets.

A browser's EventSource cannot send an Authorization header, and a long-lived token must not
appear in a URL (logs, history), so a client first trades its bearer token for a one-time
ticket valid for a minute, then opens ``/api/v1/stream?ticket=...``. Clients that can send
headers may open the stream with the bearer token directly.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from gateway.api.deps import CallerStaff, Principal, Role, authenticate, require_role
from gateway.api.stream import StreamHub

router = APIRouter(prefix="/stream", tags=["stream"])
_bearer = HTTPBearer(auto_error=False)
_staff = require_role(Role.staff)


class StreamTicket(BaseModel):
    ticket: str
    expires_in: float


def stream_hub(request: Request) -> StreamHub:
    hub: StreamHub = request.app.state.stream
    return hub


StreamDep = Annotated[StreamHub, Depends(stream_hub)]


def stream_caller(
    request: Request,
    hub: StreamDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[str | None, Query(description="one-time ticket from POST /ticket")] = None,
) -> Principal:
    """A staff or admin caller, from a stream ticket or a bearer token."""
    if ticket is not None:
        principal = hub.redeem(ticket)
        if principal is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown, used or expired ticket")
        return principal
    return _staff(authenticate(request, creds))


stream_caller.allowed_roles = _staff.allowed_roles  # type: ignore[attr-defined]


@router.post("/ticket", response_model=StreamTicket)
def stream_ticket(caller: CallerStaff, hub: StreamDep) -> StreamTicket:
    """A one-time ticket to open the stream with, valid for about a minute."""
    return StreamTicket(ticket=hub.issue_ticket(caller), expires_in=hub.ticket_ttl_s)


@router.get(
    "",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 401: {"description": "no access"}},
)
async def stream(
    request: Request,
    hub: StreamDep,
    caller: Annotated[Principal, Depends(stream_caller)],
    last_event_id: Annotated[str | None, Header()] = None,
    last: Annotated[int | None, Query(description="resume after this event id")] = None,
) -> StreamingResponse:
    """Server-Sent Events: ``space`` (the space's public view), ``device`` (availability and
    readings), ``notice`` (bookings released, alerts, work orders) and ``reset`` (re-read the
    full state); ``id:`` fields let a reconnecting client resume where it left off."""
    resume = last
    if last_event_id is not None and last_event_id.isdigit():
        resume = int(last_event_id)
    server = getattr(request.app.state, "server", None)

    def should_exit() -> bool:
        return bool(getattr(server, "should_exit", False))

    return StreamingResponse(
        hub.events(resume, should_exit, caller),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
