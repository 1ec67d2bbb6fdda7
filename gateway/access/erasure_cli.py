"""``gateway members erase ID``, and the same erasure in a running gateway (the admin API)."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from gateway.access.erasure import Erasure, erase_member
from gateway.access.erasure_watch import forget

if TYPE_CHECKING:
    from gateway.access.control import AccessControl


def erase_live(access: AccessControl, member_id: str, actor: str) -> Erasure:
    """Erase in the store, then forget the member in memory: directory, grants, its tokens."""
    d = access.directory
    done = erase_member(
        d.db,
        access.hasher,
        member_id,
        actor=actor,
        now=access.clock(),
        file_members=frozenset(d.building.members),
    )
    if not done.already:
        forget(access, [done.pseudonym])
    return done


def cmd_erase(args: argparse.Namespace) -> int:
    from gateway.building import load_building
    from gateway.credential import CredentialHasher
    from gateway.settings import load_settings
    from gateway.store import create_db_engine, init_db

    settings = load_settings(args.config)
    building = load_building(settings.building)
    db = create_db_engine(settings.database_url, settings.database_busy_timeout_ms)
    try:
        init_db(db)
        hasher = CredentialHasher.from_key_dir(building.site.id, settings.access.key_dir)
        done = erase_member(
            db,
            hasher,
            args.member,
            actor="console",
            now=time.time(),
            file_members=frozenset(building.members),
        )
    finally:
        db.dispose()
    print(describe(args.member, done))
    return 0


def describe(member_id: str, done: Erasure) -> str:
    if done.already:
        return f"member {member_id} was erased before, as {done.pseudonym}; nothing left to erase"
    counts = ", ".join(f"{n} {what}" for what, n in done.changed.items())
    return (
        f"erased member {member_id}: now {done.pseudonym} ({counts}); "
        "a running gateway on this store forgets it within access.erasure_check_s"
    )


def add_members_parser(sub: Any) -> None:
    """Register ``gateway members erase`` on the console's subparsers."""
    members = sub.add_parser("members", help="members: erase one's personal data")
    msub = members.add_subparsers(dest="members_command", required=True)
    erase = msub.add_parser(
        "erase", help="remove a member's personal data; bookings and audit rows stay, pseudonymous"
    )
    erase.add_argument("member", metavar="ID")
    erase.set_defaults(func=cmd_erase)
