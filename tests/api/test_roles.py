"""Every endpoint declares its role: walk the whole route table against a real gateway.

For each API route (under /api/v1 and /metrics) that is not public, prove: 401 without a
token, 403 with a token of each role it does not allow, and neither 401 nor 403 with a token
of each role it allows. The allowed roles are read from the route's dependencies (the
``allowed_roles`` that ``require_role`` puts on its callable), so routes added later are
covered without touching this test, and a route that declares no role fails it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from gateway.access.roles import Role
from gateway.app import create_app
from gateway.runtime import Gateway
from gateway.settings import load_settings
from tests.support import FIXTURES, Broker, GatewayProcess

PUBLIC = {"/api/v1/health"}  # and docs, openapi and the status page, which are not API routes
# no token either: booking platforms sign their requests (gateway.integrations.booking_hooks)
SIGNED = {"/api/v1/integrations/bookings"}
ROLES = tuple(Role)


def allowed_roles(dep: Dependant) -> frozenset[Role] | None:
    """The roles every role check in this dependency tree lets through (None: no check)."""
    found: frozenset[Role] | None = getattr(dep.call, "allowed_roles", None)
    for sub in dep.dependencies:
        inner = allowed_roles(sub)
        if inner is not None:
            found = inner if found is None else found & inner
    return found


def flat_routes(app: FastAPI) -> Iterator[tuple[str, set[str], Dependant]]:
    """Every API route with its full path, methods and dependency tree.

    FastAPI versions that compose included routers lazily list them as included-router
    entries; ``iter_route_contexts`` flattens those with the includer's prefix and
    dependencies applied. Older versions list flat ``APIRoute`` objects."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = iter_contexts(app.routes) if iter_contexts is not None else app.routes
    for r in routes:
        dependant = getattr(r, "dependant", None)
        path, methods = getattr(r, "path_format", None), getattr(r, "methods", None)
        if isinstance(dependant, Dependant) and path and methods:
            yield path, set(methods), dependant


def api_routes(tmp: Path) -> list[tuple[str, str, frozenset[Role] | None]]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp}/routes.db",
        building=FIXTURES / "building-small.yaml",
        admin_token="unused",
        access={"key_dir": str(tmp / "keys")},
    )
    gw = Gateway(settings)
    try:
        app = create_app(gw, manage=False)
        out = []
        for path, methods, dependant in flat_routes(app):
            if not (path.startswith("/api/v1") or path == "/metrics"):
                continue
            for method in sorted(methods):
                out.append((method, path, allowed_roles(dependant)))
        return out
    finally:
        gw.db.dispose()


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-placeholder", path)


Routes = list[tuple[str, str, frozenset[Role] | None]]


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> Routes:
    return api_routes(tmp_path_factory.mktemp("route-table"))


@pytest.fixture(scope="module")
def running(
    broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, dict[Role, str]]]:
    work = tmp_path_factory.mktemp("roles")
    gp = GatewayProcess(broker.url, work, GATEWAY_ACCESS__KEY_DIR=str(work / "keys")).start()
    tokens = {Role.admin: gp.TOKEN}
    for role in (Role.staff, Role.app):
        r = gp.http.post("/api/v1/admin/tokens", json={"role": role.value, "name": f"{role}-t"})
        assert r.status_code == 201, r.text
        tokens[role] = r.json()["token"]
    r = gp.http.post("/api/v1/members", json={"id": "m-roles", "name": "Roles"})
    assert r.status_code == 201, r.text
    r = gp.http.post(
        "/api/v1/member-tokens",
        json={"member": "m-roles"},
        headers={"Authorization": f"Bearer {tokens[Role.app]}"},
    )
    assert r.status_code == 201, r.text
    tokens[Role.member] = r.json()["token"]
    yield gp, tokens
    gp.stop()


def status_of(c: httpx.Client, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    with c.stream(method, path, headers=headers, **body) as resp:  # type: ignore[arg-type]
        return resp.status_code  # streams (SSE) are closed unread


def test_every_route_enforces_its_roles(
    running: tuple[GatewayProcess, dict[Role, str]], routes: Routes
) -> None:
    gp, tokens = running
    # a client without the process's admin header, kept alive across requests
    c = httpx.Client(base_url=gp.http.base_url, timeout=10)
    assert len(routes) >= 20  # the walk found the API
    undeclared = [(m, p) for m, p, roles in routes if roles is None and p not in PUBLIC | SIGNED]
    assert undeclared == [], f"routes without a role: {undeclared}"
    problems: list[str] = []
    checked = 0
    for method, path, roles in routes:
        if path in PUBLIC | SIGNED:
            continue
        assert roles is not None
        url = concrete(path)
        got = status_of(c, method, url, None)
        if got != 401:
            problems.append(f"{method} {path} without a token: {got}, expected 401")
        for role in ROLES:
            got = status_of(c, method, url, tokens[role])
            if role in roles and got in (401, 403):
                problems.append(f"{method} {path} as {role}: {got}, but {role} may use it")
            if role not in roles and got != 403:
                problems.append(f"{method} {path} as {role}: {got}, expected 403")
            checked += 1
    c.close()
    assert problems == [], "\n".join(problems)
    assert checked >= 60


def test_public_routes_need_no_token(running: tuple[GatewayProcess, dict[Role, str]]) -> None:
    gp, _ = running
    with httpx.Client(base_url=gp.http.base_url, timeout=10) as c:
        for path in (*PUBLIC, "/docs", "/openapi.json", "/"):
            assert status_of(c, "GET", path, None) == 200, path


def test_signed_routes_refuse_an_unsigned_request(
    running: tuple[GatewayProcess, dict[Role, str]],
) -> None:
    gp, tokens = running
    with httpx.Client(base_url=gp.http.base_url, timeout=10) as c:
        for path in SIGNED:  # 404 while no integration is configured, 401 once one is
            assert status_of(c, "POST", path, None) in (401, 404), path
            assert status_of(c, "POST", path, tokens[Role.admin]) in (401, 404), path


def test_expected_role_choices(routes: Routes) -> None:
    """Spot checks of the role table: apps search free space and act for members, admins
    manage tokens and members, staff read."""
    table = {(m, p): roles for m, p, roles in routes}
    assert table[("GET", "/api/v1/idle")] == {Role.admin, Role.staff, Role.app}
    member_facing = {Role.admin, Role.staff, Role.app, Role.member}
    assert table[("POST", "/api/v1/access/grants")] == {Role.admin, Role.app, Role.member}
    assert table[("DELETE", "/api/v1/access/grants/{grant_id}")] == {
        Role.admin,
        Role.app,
        Role.member,
    }
    assert table[("GET", "/api/v1/access/grants")] == member_facing
    assert table[("POST", "/api/v1/bookings")] == member_facing
    assert table[("GET", "/api/v1/print-jobs")] == member_facing
    assert table[("GET", "/api/v1/bookings/no-show-rate")] == {Role.admin, Role.staff, Role.app}
    assert table[("POST", "/api/v1/member-tokens")] == {Role.admin, Role.app}
    assert table[("GET", "/api/v1/access/audit")] == {Role.admin, Role.staff}
    assert table[("POST", "/api/v1/admin/tokens")] == {Role.admin}
    assert table[("POST", "/api/v1/members")] == {Role.admin}
    assert table[("GET", "/api/v1/members")] == {Role.admin, Role.staff}
    assert table[("GET", "/api/v1/spaces")] == {Role.admin, Role.staff}
