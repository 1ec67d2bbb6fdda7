"""API tokens: random, stored as sha256, created and revoked by name or id, looked up fast.

Tokens are 32 random bytes (``secrets.token_urlsafe``), so an unsalted sha256 is enough to keep
them safe at rest: there is nothing to guess. The token itself is returned once, at creation,
and never logged. Lookups go through a small cache; a create or revoke in this process
invalidates it at once, and entries expire after ``ttl_s`` so a token revoked by another
process (``gateway tokens revoke`` against a running gateway) stops working within that time.
Revoking a token also ends the member-bound tokens exchanged from it (``tokens_member``) and
tells ``on_revoke`` listeners (the live stream closes its streams).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from gateway.access.roles import Principal, Role
from gateway.access.tokens_member import MemberTokens
from gateway.errors import GatewayError
from gateway.logtext import clean
from gateway.store.access_tables import ApiToken

log = logging.getLogger(__name__)

TOKEN = ApiToken.__table__  # type: ignore[attr-defined]


class TokenError(GatewayError):
    """A token cannot be created or revoked (bad role, duplicate name, unknown token)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A stored token as listed (never the token itself)."""

    id: str
    name: str
    role: str
    created_at: float
    revoked_at: float | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The site's tokens in the store, with a lookup cache."""

    def __init__(
        self,
        db: Engine,
        site: str,
        clock: Callable[[], float] = time.time,
        ttl_s: float = 1.0,
        cache_max: int = 1024,
    ) -> None:
        self.db, self.site, self.clock = db, site, clock
        self.ttl_s, self.cache_max = ttl_s, cache_max
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped by invalidate: a lookup racing a revoke is not cached
        self._live_ids: dict[str, tuple[bool, float]] = {}  # token id -> (live, until)
        self.members = MemberTokens(clock, self.is_live)
        self.on_revoke: list[Callable[[TokenInfo], None]] = []

    def create(self, role: str, name: str) -> tuple[TokenInfo, str]:
        """A new token of ``role`` under ``name``: (its record, the token, shown only now)."""
        try:
            r = Role(role)
        except ValueError as err:
            raise TokenError(f"unknown role {role!r} (expected admin, staff or app)") from err
        if r is Role.member:
            raise TokenError("member tokens come from an exchange (POST /api/v1/member-tokens)")
        name = name.strip()
        if not name or len(name) > 128:
            raise TokenError("a token needs a name of 1 to 128 characters")
        raw = secrets.token_urlsafe(32)
        info = TokenInfo(f"t-{secrets.token_hex(6)}", name, r.value, self.clock(), None)
        with self.db.begin() as conn:
            taken = conn.execute(
                select(TOKEN.c.id).where(
                    TOKEN.c.site == self.site, TOKEN.c.name == name, TOKEN.c.revoked_at.is_(None)
                )
            ).first()
            if taken is not None:
                raise TokenError(f"a live token named {name!r} exists; revoke it first")
            conn.execute(
                TOKEN.insert().values(
                    site=self.site,
                    id=info.id,
                    name=name,
                    role=r.value,
                    token_hash=digest(raw),
                    created_at=info.created_at,
                )
            )
        self.invalidate()
        log.info("token %s (%s, role %s) created", info.id, clean(name), r.value)
        return info, raw

    def revoke(self, name_or_id: str) -> TokenInfo:
        """Revoke the live token with this id or name; it fails from now on."""
        now = self.clock()
        with self.db.begin() as conn:
            row = conn.execute(
                select(TOKEN).where(
                    TOKEN.c.site == self.site,
                    TOKEN.c.revoked_at.is_(None),
                    or_(TOKEN.c.id == name_or_id, TOKEN.c.name == name_or_id),
                )
            ).first()
            if row is None:
                raise TokenError(f"no live token with id or name {name_or_id!r}")
            conn.execute(
                update(TOKEN)
                .where(TOKEN.c.site == self.site, TOKEN.c.id == row.id)
                .values(revoked_at=now)
            )
        self.invalidate()
        ended = self.members.revoke_issued_by(row.id)
        log.info("token %s (%s) revoked, with %d member tokens", row.id, clean(row.name), ended)
        info = TokenInfo(row.id, row.name, row.role, row.created_at, now)
        for listener in list(self.on_revoke):
            try:
                listener(info)
            except Exception:  # a listener's trouble must not undo or fail the revoke
                log.exception("token %s: revoke listener failed", row.id)
        return info

    def list(self, include_revoked: bool = False) -> list[TokenInfo]:
        q = select(TOKEN).where(TOKEN.c.site == self.site)
        if not include_revoked:
            q = q.where(TOKEN.c.revoked_at.is_(None))
        with self.db.connect() as conn:
            rows = conn.execute(q.order_by(col(ApiToken.created_at))).all()
        return [TokenInfo(r.id, r.name, r.role, r.created_at, r.revoked_at) for r in rows]

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()
            self._live_ids.clear()
            self._generation += 1

    def is_live(self, token_id: str) -> bool:
        """Whether the token with this id is live (cached for ``ttl_s``, as lookups are)."""
        now = time.monotonic()
        with self._lock:
            hit = self._live_ids.get(token_id)
        if hit is not None and hit[1] > now:
            return hit[0]
        with self.db.connect() as conn:
            row = conn.execute(
                select(TOKEN.c.id).where(
                    TOKEN.c.site == self.site,
                    TOKEN.c.id == token_id,
                    TOKEN.c.revoked_at.is_(None),
                )
            ).first()
        live = row is not None
        with self._lock:
            if len(self._live_ids) >= self.cache_max:
                self._live_ids.clear()
            self._live_ids[token_id] = (live, now + self.ttl_s)
        return live

    def lookup(self, presented: str) -> Principal | None:
        """The principal behind a live token, or None. Unknown tokens are not cached."""
        if presented.startswith("m."):  # never a stored token's spelling (no '.' in those)
            return self.members.lookup(presented)
        h = digest(presented)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(h)
            generation = self._generation
        if hit is not None and hit[1] > now:
            return hit[0]
        with self.db.connect() as conn:
            row = conn.execute(
                select(TOKEN.c.id, TOKEN.c.name, TOKEN.c.role).where(
                    TOKEN.c.token_hash == h,
                    TOKEN.c.site == self.site,
                    TOKEN.c.revoked_at.is_(None),
                )
            ).first()
        if row is None:
            with self._lock:
                self._cache.pop(h, None)
            return None
        principal = Principal(Role(row.role), row.name, row.id)
        with self._lock:
            if generation == self._generation:
                if len(self._cache) >= self.cache_max:
                    self._cache.clear()
                self._cache[h] = (principal, now + self.ttl_s)
        return principal
