"""Dependencies shared by the routers: the parts each route needs, the session, bearer auth.

``create_app`` puts the parts on ``app.state``; a route names the ones it reads (the live
state, the store, the clock, access control, the member services, reconfiguration...), never
the gateway as a whole.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gateway.access.control import AccessControl
from gateway.access.roles import Principal as Principal  # re-exported for the routers
from gateway.access.roles import Role as Role
from gateway.api.running import Running
from gateway.facility.services import MemberServices
from gateway.integrations.webhooks import Webhooks
from gateway.readmodel.queries import ReadModel
from gateway.reconfigure import Reconfigure
from gateway.settings import Settings
from gateway.state.config import Current
from gateway.state.live import LiveState

_bearer = HTTPBearer(auto_error=False, description="Bearer token (GATEWAY_ADMIN_TOKEN)")


def _part(name: str) -> Callable[[Request], Any]:
    """A dependency on the part ``create_app`` put on ``app.state`` under ``name``."""

    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    get.__name__ = f"get_{name}"
    return get


#: the running gateway as a whole: only health, stats and metrics read it
RunningDep = Annotated[Running, Depends(_part("gateway"))]
LiveDep = Annotated[LiveState, Depends(_part("live"))]
ConfigDep = Annotated[Current, Depends(_part("config"))]
DbDep = Annotated[Engine, Depends(_part("db"))]
SettingsDep = Annotated[Settings, Depends(_part("settings"))]
ClockDep = Annotated[Callable[[], float], Depends(_part("clock"))]
AccessDep = Annotated[AccessControl, Depends(_part("access"))]
ServicesDep = Annotated[MemberServices, Depends(_part("services"))]
ReconfigureDep = Annotated[Reconfigure, Depends(_part("reconfigure"))]
ReadModelDep = Annotated[ReadModel, Depends(_part("readmodel"))]
WebhooksDep = Annotated[Webhooks, Depends(_part("webhooks"))]


def get_session(db: DbDep) -> Iterator[Session]:
    with Session(db) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def authenticate(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller; 401 without a valid bearer token."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    st = request.app.state
    principal = principal_for(st.admin_token, st.access, creds.credentials)
    if principal is None:
        raise _unauthorized("invalid token")
    return principal


def principal_for(admin_token: str, access: AccessControl, presented: str) -> Principal | None:
    """The principal behind a presented bearer token (the bootstrap admin token is checked
    first), or None for an unknown one."""
    if hmac.compare_digest(presented.encode(), admin_token.encode()):
        return Principal(Role.admin, "bootstrap-admin")
    return access.tokens.lookup(presented)


def require_role(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through ``admin`` and the roles named; 403 for the others."""
    allowed = frozenset(roles) | {Role.admin}

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(allowed))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"a {principal.role} token may not do this; it needs one of: {names}",
            )
        return principal

    check.allowed_roles = allowed  # type: ignore[attr-defined]  # read by the route-table test
    return check


def acting_for(caller: Principal, member: str | None) -> str | None:
    """The member a request may act for: a member-bound token's own member (403 when the
    request names another), or whoever an app, staff or admin token names."""
    if caller.role is not Role.member:
        return member
    if member is not None and member != caller.member:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this token acts for one member only, not this one"
        )
    return caller.member


def owned(caller: Principal, member: str | None) -> bool:
    """Whether a row of ``member`` is visible to ``caller`` (a member token sees its own)."""
    return caller.role is not Role.member or (member is not None and member == caller.member)


AdminOnly = Depends(require_role(Role.admin))
StaffRead = Depends(require_role(Role.staff))
AppOrStaff = Depends(require_role(Role.staff, Role.app))
AppOnly = Depends(require_role(Role.app))

MemberFacing = Depends(require_role(Role.staff, Role.app, Role.member))
AppOrMember = Depends(require_role(Role.app, Role.member))

CallerAdmin = Annotated[Principal, AdminOnly]
CallerMemberFacing = Annotated[Principal, MemberFacing]
CallerAppOrMember = Annotated[Principal, AppOrMember]
CallerStaff = Annotated[Principal, StaffRead]
CallerAppOrStaff = Annotated[Principal, AppOrStaff]

# Kept for routers that only need "any valid token of a role that reads" (staff and admin).
Auth = StaffRead
