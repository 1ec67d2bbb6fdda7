"""``gateway db``: upgrade the store, show its revision, write a new migration."""

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


def add_db_parser(sub: Any) -> None:
    """Register ``gateway db upgrade|current|revision`` on the console's subparsers."""
    db = sub.add_parser("db", help="store schema migrations (Alembic)")
    dsub = db.add_subparsers(dest="db_command", required=True)
    dsub.add_parser("upgrade", help="bring GATEWAY_DATABASE_URL to the newest revision")
    dsub.add_parser("current", help="show the revision GATEWAY_DATABASE_URL is at")
    rev = dsub.add_parser(
        "revision", help="write a migration for what the tables in code add (autogenerate)"
    )
    rev.add_argument("-m", "--message", required=True, help="what the revision changes")
    rev.add_argument("--empty", action="store_true", help="an empty revision to fill by hand")
    db.set_defaults(func=cmd_db)
