"""Erasure: a member's personal data removed, the counts utilization needs kept.

``erase_member`` deletes the member's credentials and, in one transaction, puts a stable
pseudonym (``erased-`` and a keyed hash prefix) in place of the member id wherever it names
them: the member row (name and company cleared), bookings, print jobs, grants (live ones
revoked), the raw door and print-job events (their credential dropped) and the audit trail
(credential column cleared). Rows are never deleted, so bookings
per space, audit rows and utilization read the same. The erasure writes one audit entry that
names the pseudonym, never the erased identity. A member the building file declares is
refused: the next load would bring it back, so it is removed from the file first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, Text, cast, delete, or_, select, update
from sqlalchemy.engine import Connection, Engine

from gateway.credential import CredentialHasher
from gateway.errors import GatewayError
from gateway.store.access_tables import CredentialRow, GrantRow, MemberRow
from gateway.store.audit import AUDIT, Audit, record
from gateway.store.member_tables import BOOKINGS, PRINT_JOBS
from gateway.store.series import SERIES
from gateway.store.writer import EVENT_DATA

MEMBERS: Table = MemberRow.__table__  # type: ignore[attr-defined]
CREDENTIALS: Table = CredentialRow.__table__  # type: ignore[attr-defined]
GRANTS: Table = GrantRow.__table__  # type: ignore[attr-defined]
ERASED_NAME = "erased member"


class ErasureError(GatewayError):
    """An erasure is refused: no such member, and nothing recorded about it."""


class FileMemberError(ErasureError):
    """The building file declares the member: the next load would bring it back."""


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did: the pseudonym and how many rows of each table it changed."""

    pseudonym: str
    already: bool = False  # the id was erased before: nothing left to change
    changed: dict[str, int] = field(default_factory=dict)


def pseudonym(hasher: CredentialHasher, member_id: str) -> str:
    """The stable stand-in for ``member_id``: the same for the same site key, not reversible."""
    return "erased-" + hasher.hash(f"erased-member\x00{member_id}")[:16]


def _scrub(value: Any, old: str, new: str) -> Any:
    """``value`` (JSON) with the id ``old`` replaced by ``new`` wherever a string, key or value
    holds it as a whole word (``bob`` in ``app/member:bob``, not in ``bobby``)."""
    if isinstance(value, str):
        return re.sub(rf"(?<![\w.-]){re.escape(old)}(?![\w.-])", new, value)
    if isinstance(value, list):
        return [_scrub(v, old, new) for v in value]
    if isinstance(value, dict):
        return {_scrub(k, old, new): _scrub(v, old, new) for k, v in value.items()}
    return value


def _names(column: Any, member_id: str) -> Any:
    """A text column that is the member id or a principal acting for it (``app/member:id``)."""
    return or_(column == member_id, column.endswith(f"member:{member_id}"))


def _rewrite(
    conn: Connection,
    table: Table,
    key: tuple[str, ...],
    where: Any,
    cols: tuple[str, ...],
    old: str,
    new: str,
) -> int:
    """Replace ``old`` by ``new`` in the text/JSON ``cols`` of the rows ``where`` selects."""
    rows = conn.execute(
        select(*(table.c[k] for k in key), *(table.c[c] for c in cols)).where(where)
    )
    n = 0
    for r in rows.all():
        m = r._mapping
        values = {c: _scrub(m[c], old, new) for c in cols}
        conn.execute(update(table).where(*(table.c[k] == m[k] for k in key)).values(**values))
        n += 1
    return n


def _rewrite_events(conn: Connection, site: str, member_id: str, p: str) -> int:
    """Raw door and print-job events (kept until they age out) whose attributes name the
    member: the id becomes the pseudonym, a credential beside it is dropped. Read through
    the (series, ts) index of those kinds' series only, not every event of the store."""
    s, d = SERIES.c, EVENT_DATA.c
    series = select(s.id).where(s.site == site, s.kind.in_(("door", "print_job")))
    rows = conn.execute(
        select(d.id, d.attrs).where(
            d.series.in_(series.scalar_subquery()), cast(d.attrs, Text).contains(member_id)
        )
    ).all()
    n = 0
    for rid, attrs in rows:
        new = _scrub(attrs, member_id, p)
        if new == attrs:
            continue  # the id was part of another word
        if isinstance(new, dict) and "credential" in new:
            new = {k: v for k, v in new.items() if k != "credential"}
        conn.execute(update(EVENT_DATA).where(d.id == rid).values(attrs=new))
        n += 1
    return n


def _erase_in(conn: Connection, site: str, member_id: str, p: str, now: float) -> dict[str, int]:
    """Every table's rows naming ``member_id`` rewritten to ``p``; counts per table."""
    changed: dict[str, int] = {}
    c = CREDENTIALS.c
    gone = conn.execute(delete(CREDENTIALS).where(c.site == site, c.member == member_id))
    changed["credentials"] = gone.rowcount
    m = MEMBERS.c
    changed["members"] = conn.execute(
        update(MEMBERS)
        .where(m.site == site, m.id == member_id)
        .values(id=p, name=ERASED_NAME, company=None, from_file=False)
    ).rowcount
    b, j, g, a = BOOKINGS.c, PRINT_JOBS.c, GRANTS.c, AUDIT.c
    changed["bookings"] = _rewrite(
        conn,
        BOOKINGS,
        ("site", "id"),
        (b.site == site) & (b.member == member_id),
        ("member", "created_by"),
        member_id,
        p,
    )
    mine = (j.site == site) & or_(j.owner == member_id, _names(j.released_by, member_id))
    changed["print_jobs"] = _rewrite(
        conn, PRINT_JOBS, ("site", "id"), mine, ("owner", "released_by", "history"), member_id, p
    )
    conn.execute(
        update(GRANTS)
        .where(g.site == site, g.member == member_id, g.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    changed["grants"] = _rewrite(
        conn,
        GRANTS,
        ("site", "id"),
        (g.site == site) & (g.member == member_id),
        ("member", "created_by", "basis", "detail"),
        member_id,
        p,
    )
    named = (a.site == site) & or_(
        a.member == member_id, a.subject == member_id, _names(a.actor, member_id)
    )
    changed["events"] = _rewrite_events(conn, site, member_id, p)
    conn.execute(update(AUDIT).where(named).values(credential=None))
    changed["audit"] = _rewrite(
        conn,
        AUDIT,
        ("id",),
        named,
        ("member", "actor", "subject", "reason", "detail"),
        member_id,
        p,
    )
    return changed


def erase_member(
    db: Engine,
    hasher: CredentialHasher,
    member_id: str,
    *,
    actor: str,
    now: float,
    file_members: frozenset[str] = frozenset(),
) -> Erasure:
    """Erase ``member_id`` of the hasher's site; raises ErasureError when there is nothing to
    erase or the building file still declares the member."""
    site, p = hasher.site, pseudonym(hasher, member_id)
    if member_id in file_members:
        raise FileMemberError(
            f"member {member_id} is declared in the building file: remove it there and reload "
            "first, or the next load brings it back"
        )
    with db.begin() as conn:
        changed = _erase_in(conn, site, member_id, p, now)
        if not any(changed.values()):
            m = MEMBERS.c
            seen = conn.execute(select(m.id).where(m.site == site, m.id == p)).first()
            if seen is None:
                raise ErasureError(f"no member {member_id!r} and nothing recorded about it")
            return Erasure(p, already=True)
        entry = Audit(site, now, actor, "member_erased", p, "ok", member=p, detail=changed)
        record(conn, [entry])
    return Erasure(p, changed=changed)
