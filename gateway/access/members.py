"""Members and plans: who they are, which spaces their plan opens, which credential is whose.

``MemberDirectory`` is the in-memory view the door decisions, grants and bookings read (no
store round trip on the hot path); changes go to the store first, then into memory. Members
and plans of the building file are written to the store at start (the file wins for them);
members created through the API live only in the store. Credentials are kept as hashes only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.engine import Connection, Engine

from gateway.building import Building
from gateway.building.model import MemberSpec
from gateway.credential import CredentialHasher, mask, normalize_credential
from gateway.errors import GatewayError
from gateway.store.access_tables import CredentialRow, MemberRow, PlanRow

__all__ = ["MemberDirectory", "MemberError", "mask", "normalize_credential"]

PLANS = PlanRow.__table__  # type: ignore[attr-defined]
MEMBERS = MemberRow.__table__  # type: ignore[attr-defined]
CREDENTIALS = CredentialRow.__table__  # type: ignore[attr-defined]


class MemberError(GatewayError):
    """A member change is refused: unknown plan, a credential already someone else's, ..."""


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    spaces: frozenset[str] = frozenset()
    floors: frozenset[str] = frozenset()
    space_types: frozenset[str] = frozenset()
    from_file: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    company: str | None = None
    plan: str | None = None
    credentials: int = 0  # how many; the credentials themselves are never handed out
    from_file: bool = False


class MemberDirectory:
    """Members, plans and credential hashes of one site, in memory, backed by the store."""

    def __init__(
        self, db: Engine, building: Building, hasher: CredentialHasher | None = None
    ) -> None:
        self.db, self.building, self.site = db, building, building.site.id
        # the same hasher as ingest's and the doors', so a badge read anywhere finds its member
        self.hasher = hasher or CredentialHasher.ephemeral(self.site)
        self._lock = threading.Lock()
        self._plans: dict[str, Plan] = {}
        self._members: dict[str, Member] = {}
        self._by_hash: dict[str, str] = {}
        # called with a member id after it is deleted or replaced (grants re-check their basis)
        self.on_change: list[Callable[[str], object]] = []

    # -- the interface the other member services use ---------------------------------------
    def get(self, member_id: str) -> Member | None:
        return self._members.get(member_id)

    def plan(self, plan_id: str) -> Plan | None:
        return self._plans.get(plan_id)

    def covers(self, member_id: str, space_id: str) -> tuple[bool, str]:
        """Whether the member's plan opens the space, and why (or why not)."""
        m = self._members.get(member_id)
        if m is None:
            return False, f"unknown member {member_id!r}"
        sp = self.building.spaces.get(space_id)
        if sp is None:
            return False, f"unknown space {space_id!r}"
        if m.plan is None:
            return False, f"member {member_id} has no plan"
        p = self._plans.get(m.plan)
        if p is None:
            return False, f"member {member_id}'s plan {m.plan!r} does not exist"
        if space_id in p.spaces:
            return True, f"plan {p.id} covers space {space_id}"
        if sp.floor in p.floors:
            return True, f"plan {p.id} covers floor {sp.floor}"
        if sp.type in p.space_types:
            return True, f"plan {p.id} covers {sp.type} spaces"
        return False, f"plan {p.id} does not cover space {space_id}"

    def by_credential(self, raw_credential: str) -> Member | None:
        return self.by_hash(self.hasher.hash(raw_credential))

    def by_hash(self, credential_hash: str) -> Member | None:
        mid = self._by_hash.get(credential_hash)
        return None if mid is None else self._members.get(mid)

    def members(self) -> list[Member]:
        return sorted(self._members.values(), key=lambda m: m.id)

    def plans(self) -> list[Plan]:
        return sorted(self._plans.values(), key=lambda p: p.id)

    # -- loading ---------------------------------------------------------------------------
    def load(self) -> None:
        """Write the building file's plans and members to the store, then read all back."""
        b, site = self.building, self.site
        with self.db.begin() as conn:
            conn.execute(delete(PLANS).where(PLANS.c.site == site, PLANS.c.from_file.is_(True)))
            for p in b.plans.values():
                _replace(
                    conn,
                    PLANS,
                    site,
                    id=p.id,
                    name=p.name,
                    spaces=list(p.spaces),
                    floors=list(p.floors),
                    space_types=list(p.space_types),
                    from_file=True,
                )
            gone = select(MEMBERS.c.id).where(
                MEMBERS.c.site == site,
                MEMBERS.c.from_file.is_(True),
                MEMBERS.c.id.not_in(list(b.members)),
            )
            conn.execute(
                delete(CREDENTIALS).where(
                    CREDENTIALS.c.site == site, CREDENTIALS.c.member.in_(gone.scalar_subquery())
                )
            )
            conn.execute(
                delete(MEMBERS).where(
                    MEMBERS.c.site == site, MEMBERS.c.id.in_(gone.scalar_subquery())
                )
            )
            for m in b.members.values():
                self._write_member(conn, replace(_member_of(m), from_file=True), m.credentials)
        self.reload()

    def reload(self) -> None:
        """Read plans, members and credential hashes from the store into memory."""
        with self.db.connect() as conn:
            plans = conn.execute(select(PLANS).where(PLANS.c.site == self.site)).all()
            members = conn.execute(select(MEMBERS).where(MEMBERS.c.site == self.site)).all()
            creds = conn.execute(select(CREDENTIALS).where(CREDENTIALS.c.site == self.site)).all()
        counts: dict[str, int] = {}
        for c in creds:
            counts[c.member] = counts.get(c.member, 0) + 1
        with self._lock:
            self._plans = {
                p.id: Plan(
                    p.id,
                    p.name,
                    frozenset(p.spaces),
                    frozenset(p.floors),
                    frozenset(p.space_types),
                    p.from_file,
                )
                for p in plans
            }
            self._members = {
                m.id: Member(m.id, m.name, m.company, m.plan, counts.get(m.id, 0), m.from_file)
                for m in members
            }
            self._by_hash = {c.credential_hash: c.member for c in creds}

    # -- changes through the API -----------------------------------------------------------
    def put(self, member: Member, credentials: Iterable[str] | None) -> Member:
        """Create or replace a member; ``credentials`` None keeps the ones it has."""
        if member.plan is not None and member.plan not in self._plans:
            raise MemberError(f"unknown plan {member.plan!r}")
        existing = self._members.get(member.id)
        if existing is not None and existing.from_file:
            raise MemberError(f"member {member.id} comes from the building file; edit it there")
        with self.db.begin() as conn:
            self._write_member(conn, member, credentials)
        self.reload()
        got = self._members[member.id]
        if existing is not None and existing.plan != got.plan:
            self._changed(member.id)
        return got

    def delete(self, member_id: str) -> bool:
        m = self._members.get(member_id)
        if m is None:
            return False
        if m.from_file:
            raise MemberError(f"member {member_id} comes from the building file; edit it there")
        with self.db.begin() as conn:
            conn.execute(
                delete(CREDENTIALS).where(
                    CREDENTIALS.c.site == self.site, CREDENTIALS.c.member == member_id
                )
            )
            conn.execute(
                delete(MEMBERS).where(MEMBERS.c.site == self.site, MEMBERS.c.id == member_id)
            )
        self.reload()
        self._changed(member_id)
        return True

    def _changed(self, member_id: str) -> None:
        for cb in self.on_change:
            cb(member_id)

    def _write_member(self, conn: Connection, m: Member, credentials: Iterable[str] | None) -> None:
        site = self.site
        _replace(
            conn,
            MEMBERS,
            site,
            id=m.id,
            name=m.name,
            company=m.company,
            plan=m.plan,
            from_file=m.from_file,
        )
        if credentials is None:
            return
        hashes = sorted({self.hasher.hash(c) for c in credentials})
        if hashes and m.from_file:
            # the building file wins: a credential it gives moves to its member
            conn.execute(
                delete(CREDENTIALS).where(
                    CREDENTIALS.c.site == site, CREDENTIALS.c.credential_hash.in_(hashes)
                )
            )
        elif hashes:
            taken = conn.execute(
                select(CREDENTIALS.c.member).where(
                    CREDENTIALS.c.site == site,
                    CREDENTIALS.c.credential_hash.in_(hashes),
                    CREDENTIALS.c.member != m.id,
                )
            ).first()
            if taken is not None:
                raise MemberError(f"a credential is already given to member {taken.member!r}")
        conn.execute(
            delete(CREDENTIALS).where(CREDENTIALS.c.site == site, CREDENTIALS.c.member == m.id)
        )
        if hashes:
            conn.execute(
                CREDENTIALS.insert(),
                [{"site": site, "credential_hash": h, "member": m.id} for h in hashes],
            )


def _replace(conn: Connection, table: Table, site: str, **values: Any) -> None:
    """Write the site's row ``values["id"]`` of ``table``, in place of the one it has."""
    conn.execute(delete(table).where(table.c.site == site, table.c.id == values["id"]))
    conn.execute(table.insert().values(site=site, **values))


def _member_of(spec: MemberSpec) -> Member:
    return Member(id=spec.id, name=spec.name, company=spec.company, plan=spec.plan)
