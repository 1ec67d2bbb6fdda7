"""``gateway db``: upgrade the store, show its revision, write a new migration, back it up and
restore it."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_db(args: argparse.Namespace) -> int:
    from gateway.settings import load_settings
    from gateway.store import migrate
    from gateway.store.db import create_db_engine

    if args.db_command == "revision":
        path = migrate.revision(args.message, autogenerate=not args.empty)
        print(f"wrote {path}")
        return 0
    settings = load_settings(args.config)
    if args.db_command in ("backup", "restore"):
        return _copy(args, settings.database_url, str(settings.building))
    engine = create_db_engine(settings.database_url, settings.database_busy_timeout_ms)
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(engine)
        where = engine.url.render_as_string(hide_password=True)
        at = migrate.current(engine) or "no revision"
        print(f"{where}: at {at}, head is {migrate.head()}")
    finally:
        engine.dispose()
    return 0


def _copy(args: argparse.Namespace, url: str, building: str) -> int:
    from gateway.store import backup

    if args.db_command == "backup":
        done = backup.backup(url, args.file)
    else:
        from gateway.building import load_building

        done = backup.restore(url, args.file, load_building(building).site.id)
    print(
        f"{args.db_command}: wrote {done.path} ({done.size} bytes, revision {done.revision}) "
        f"in {done.seconds:.2f} s"
    )
    return 0


def add_db_parser(sub: Any) -> None:
    """Register ``gateway db upgrade|current|revision|backup|restore`` on the console's
    subparsers."""
    db = sub.add_parser("db", help="the store: schema migrations (Alembic), backup, restore")
    dsub = db.add_subparsers(dest="db_command", required=True)
    dsub.add_parser("upgrade", help="bring GATEWAY_DATABASE_URL to the newest revision")
    dsub.add_parser("current", help="show the revision GATEWAY_DATABASE_URL is at")
    rev = dsub.add_parser(
        "revision", help="write a migration for what the tables in code add (autogenerate)"
    )
    rev.add_argument("-m", "--message", required=True, help="what the revision changes")
    rev.add_argument("--empty", action="store_true", help="an empty revision to fill by hand")
    bk = dsub.add_parser(
        "backup", help="copy the SQLite store into FILE while the gateway runs (0600)"
    )
    bk.add_argument("file", help="the backup file to write (replaced if it exists)")
    rs = dsub.add_parser(
        "restore", help="put a backup back as the SQLite store (the gateway stopped)"
    )
    rs.add_argument("file", help="a backup of this site's store at this schema revision")
    db.set_defaults(func=cmd_db)
