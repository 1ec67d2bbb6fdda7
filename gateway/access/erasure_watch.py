"""Erasures made outside this process, applied to what it holds in memory.

``gateway members erase ID`` at the console writes the erasure to the store while the gateway
runs; the running process still held the member in memory: its credentials in the directory
(a badge still opened doors), its grants, and its member-bound tokens (an app could still
book in its name). Every erasure writes one ``member_erased`` audit entry naming the
pseudonym; :class:`ErasureWatch` reads the entries newer than the last it saw, every
``access.erasure_check_s``, and forgets each member as an erasure through the admin API does
at once (:func:`forget`). Applying one twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from gateway.access.erasure import pseudonym
from gateway.access.grants import GrantBook
from gateway.access.members import MemberDirectory
from gateway.access.tokens import TokenStore
from gateway.credential import CredentialHasher
from gateway.store.audit import AUDIT

log = logging.getLogger(__name__)

A = AUDIT.c
ERASED = "member_erased"


class AccessParts(Protocol):
    """What an erasure is forgotten from (``gateway.access.control.AccessControl``)."""

    site: str
    directory: MemberDirectory
    grants: GrantBook
    tokens: TokenStore
    hasher: CredentialHasher

    def publish_revocations(self) -> None: ...


def forget(access: AccessParts, pseudonyms: Iterable[str]) -> int:
    """Forget the members erased as ``pseudonyms`` in memory: the directory and grants read
    again from the store (their credentials deleted, grants revoked), their member-bound
    tokens ended (each token's member compared by its pseudonym); the revoked grants
    published for offline verifiers. How many tokens ended."""
    gone = set(pseudonyms)
    if not gone:
        return 0
    access.directory.reload()
    access.grants.load()
    hasher = access.hasher
    erased: dict[str, bool] = {}  # a keyed hash per member, not per token

    def is_erased(member: str) -> bool:
        if member not in erased:
            erased[member] = pseudonym(hasher, member) in gone
        return erased[member]

    ended = access.tokens.members.revoke_members(is_erased)
    access.publish_revocations()
    return ended


class ErasureWatch:
    """Reads the store's erasure entries newer than the last seen and forgets those members."""

    def __init__(self, db: Engine, site: str) -> None:
        """Made before the members are loaded: an erasure recorded after this, even while
        they load, is applied at the first check (again, if loading saw it: no harm)."""
        self.db, self.site = db, site
        self.applied = 0  # erasures made elsewhere and applied here
        with self.db.connect() as conn:  # those before: loading reads them
            newest = conn.execute(
                select(func.max(A.id)).where(A.site == self.site, A.action == ERASED)
            ).scalar_one()
        self.seen = int(newest or 0)

    def check(self, access: AccessParts) -> int:
        """Apply to ``access`` the erasures recorded since the last check; how many."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(A.id, A.subject)
                .where(A.site == self.site, A.action == ERASED, A.id > self.seen)
                .order_by(A.id)
            ).all()
        if not rows:
            return 0
        ended = forget(access, (r.subject for r in rows))
        self.seen = int(rows[-1].id)
        self.applied += len(rows)
        log.info(
            "applied %d erasure%s recorded in the store (%d member token%s ended)",
            len(rows),
            "" if len(rows) == 1 else "s",
            ended,
            "" if ended == 1 else "s",
        )
        return len(rows)
