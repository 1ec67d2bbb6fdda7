"""Member-bound tokens: an app or admin token exchanged for one that acts for one member only.

An ``app`` token is the trusted backend credential: it acts for any member it names. A member's
own device (a phone app talking to the gateway directly) gets a member-bound token instead: the
server fills in, or checks, the member on every member-facing route, whatever the body says.
Such tokens are short-lived (``api.member_token_ttl_s``), kept in memory only as their sha256
(a restart ends them; the app exchanges again), and die with the token they were exchanged
from: each use checks that the issuing token is still live.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from gateway.access.roles import Principal, Role

MAX_LIVE = 100_000  # member tokens held at most; beyond it the soonest to expire go first


@dataclass(frozen=True, slots=True)
class MemberToken:
    principal: Principal
    expires_at: float
    issuer: str | None  # the issuing token's id; None for the bootstrap admin


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MemberTokens:
    """The live member-bound tokens of one process."""

    def __init__(self, clock: Callable[[], float], issuer_live: Callable[[str], bool]) -> None:
        self.clock, self.issuer_live = clock, issuer_live
        self._live: dict[str, MemberToken] = {}
        self._lock = threading.Lock()

    def issue(self, issuer: Principal, member: str, ttl_s: float) -> tuple[str, float]:
        """A new token acting for ``member`` on behalf of ``issuer``: (token, expires at)."""
        if issuer.role not in (Role.admin, Role.app):
            raise PermissionError("only an app or admin token can be exchanged")
        now = self.clock()
        raw = "m." + secrets.token_urlsafe(32)
        expires = now + ttl_s
        name = f"{issuer.name}/member:{member}"[:200]
        principal = Principal(Role.member, name, issuer.token_id, member)
        with self._lock:
            for h in [h for h, t in self._live.items() if t.expires_at <= now]:
                del self._live[h]
            if len(self._live) >= MAX_LIVE:
                for h, _t in sorted(self._live.items(), key=lambda kv: kv[1].expires_at)[
                    : len(self._live) - MAX_LIVE + 1
                ]:
                    del self._live[h]
            self._live[_digest(raw)] = MemberToken(principal, expires, issuer.token_id)
        return raw, expires

    def lookup(self, presented: str) -> Principal | None:
        """The member principal of a live token, or None (unknown, expired, issuer revoked)."""
        if not presented.startswith("m."):
            return None
        h = _digest(presented)
        with self._lock:
            t = self._live.get(h)
        if t is None:
            return None
        revoked = t.issuer is not None and not self.issuer_live(t.issuer)
        if revoked or t.expires_at <= self.clock():
            with self._lock:
                self._live.pop(h, None)
            return None
        return t.principal

    def revoke_members(self, which: Callable[[str], bool]) -> int:
        """End every token acting for a member ``which`` picks (erased ones); how many ended."""
        return self._end(lambda t: t.principal.member is not None and which(t.principal.member))

    def revoke_issued_by(self, issuer: str) -> int:
        """End every member token exchanged from the token ``issuer``; how many ended."""
        return self._end(lambda t: t.issuer == issuer)

    def _end(self, which: Callable[[MemberToken], bool]) -> int:
        with self._lock:
            gone = [h for h, t in self._live.items() if which(t)]
            for h in gone:
                del self._live[h]
        return len(gone)
