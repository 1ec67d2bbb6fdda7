"""One-time stream tickets: a bearer token traded for a short-lived ticket a URL may carry."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

from gateway.access.roles import Principal


class Tickets:
    """Tickets standing for a principal for ``ttl_s`` seconds, each redeemed once."""

    def __init__(self, ttl_s: float, is_live: Callable[[str | None], bool]) -> None:
        self.ttl_s = ttl_s
        self._is_live = is_live  # whether the token a ticket was issued for is still live
        self._tickets: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def issue(self, principal: Principal) -> str:
        """A one-time ticket standing for ``principal`` for ``ttl_s`` seconds."""
        now = time.monotonic()
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            for t, (exp, _p) in list(self._tickets.items()):  # forget expired ones
                if exp < now:
                    del self._tickets[t]
            self._tickets[ticket] = (now + self.ttl_s, principal)
        return ticket

    def redeem(self, ticket: str) -> Principal | None:
        """The principal of a valid ticket, which is used up; None when unknown or expired."""
        with self._lock:
            got = self._tickets.pop(ticket, None)
        if got is None or got[0] < time.monotonic():
            return None
        if not self._is_live(got[1].token_id):
            return None  # its token was revoked after the ticket was issued
        return got[1]

    def forget_token(self, token_id: str) -> None:
        """Drop the tickets issued for a token that was revoked."""
        with self._lock:
            for t, (_exp, p) in list(self._tickets.items()):
                if p.token_id == token_id:
                    del self._tickets[t]
