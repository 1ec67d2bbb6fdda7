"""Dependencies shared by the routers: the running gateway, the session, bearer-token auth."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from gateway.service import Gateway

_bearer = HTTPBearer(auto_error=False, description="Bearer token (GATEWAY_ADMIN_TOKEN)")


def get_gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_session(gw: GatewayDep) -> Iterator[Session]:
    with Session(gw.db) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def require_token(
    gw: GatewayDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's role; 401 without a valid bearer token."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(creds.credentials.encode(), gw.admin_token.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return "admin"


Auth = Depends(require_token)
