"""A live stream outlives neither its token's revocation nor a ticket of a revoked token."""

from __future__ import annotations

import time

import httpx

from tests.api.test_stream import SseReader, gateway  # noqa: F401  (the fixture)
from tests.support import GatewayProcess


def staff_token(gp: GatewayProcess, name: str) -> str:
    r = gp.http.post("/api/v1/admin/tokens", json={"role": "staff", "name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def test_revoking_a_token_ends_its_streams_and_tickets(gateway: GatewayProcess) -> None:  # noqa: F811
    gp = gateway
    token = staff_token(gp, "wall-screen")
    staff = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=gp.http.base_url, timeout=10) as anon:
        r = anon.post("/api/v1/stream/ticket", headers=staff)
        assert r.status_code == 200, r.text
        unused = r.json()["ticket"]
        t = anon.post("/api/v1/stream/ticket", headers=staff).json()["ticket"]
        by_ticket = SseReader(anon, f"/api/v1/stream?ticket={t}")
        by_header = SseReader(anon, "/api/v1/stream", headers=staff)
        assert by_ticket.status == by_header.status == 200
        by_ticket.next_event("reset")
        by_header.next_event("reset")
        assert gp.http.delete("/api/v1/admin/tokens/wall-screen").status_code == 200
        deadline = time.monotonic() + 5
        for sse in (by_ticket, by_header):  # keep-alives come every second until it ends
            while sse.next_block(timeout=5) is not None:
                assert time.monotonic() < deadline, "the stream outlived its token"
        # a ticket issued before the revoke no longer opens the stream
        assert anon.get("/api/v1/stream", params={"ticket": unused}).status_code == 401


def test_a_ticket_of_a_token_revoked_elsewhere_is_refused() -> None:
    """Revoked in the store by another process (``gateway tokens revoke``): no callback comes;
    the redeem still checks the token."""
    from gateway.access.roles import Principal, Role
    from gateway.api.stream import StreamHub
    from tests.api.test_stream import _FakeGateway

    class Tokens:
        live = True

        def __init__(self) -> None:
            self.on_revoke: list[object] = []

        def is_live(self, _token_id: str) -> bool:
            return self.live

    fake = _FakeGateway()
    tokens = Tokens()
    hub = StreamHub(fake, tokens)  # type: ignore[arg-type]
    who = Principal(Role.staff, "screen", "t-1")
    assert hub.redeem(hub.issue_ticket(who)) == who
    t = hub.issue_ticket(who)
    tokens.live = False
    assert hub.redeem(t) is None
