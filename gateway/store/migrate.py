"""Schema migrations (Alembic): upgrade a store to head, adopt older stores, write revisions.

``upgrade`` is what ``init_db`` runs at start-up, on SQLite and PostgreSQL alike. A store
created by an older gateway with ``create_all`` (tables present, no ``alembic_version``) is
stamped at the baseline revision first and then upgraded. On PostgreSQL an advisory lock
serialises gateways of several sites starting at once against one empty database.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from gateway.errors import StoreError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"
# tables of the baseline revision: finding one of them without alembic_version means a
# store made by create_all before migrations existed
LEGACY_MARKERS = ("site", "event", "device", "deadletter")
_LOCK_KEY = 0x6761_7465_7761_7901  # arbitrary, constant: "gateway" + 1


def config(conn: Connection | None = None) -> Config:
    """An Alembic config for the packaged scripts, bound to ``conn`` when given."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    """The newest revision the packaged scripts know."""
    rev = ScriptDirectory.from_config(config()).get_current_head()
    if rev is None:
        raise StoreError("no schema revisions found")
    return rev


def current(engine: Engine) -> str | None:
    """The revision a store is at (None for an empty or pre-migration store)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store to ``revision``, adopting a pre-migration store on the way."""
    with engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        if pg:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        names = set(inspect(conn).get_table_names())
        if "alembic_version" not in names and names & set(LEGACY_MARKERS):
            command.stamp(config(conn), BASELINE)
        command.upgrade(config(conn), revision)


def revision(message: str, autogenerate: bool = True) -> Path:
    """Write a new revision script into the package; with ``autogenerate`` its operations are
    what the tables declared in code have that a store at head lacks."""
    with tempfile.TemporaryDirectory() as tmp:
        from gateway.store.db import create_db_engine

        scratch = create_db_engine(f"sqlite:///{tmp}/scratch.db")
        try:
            upgrade(scratch)
            with scratch.begin() as conn:
                script = command.revision(config(conn), message, autogenerate=autogenerate)
        finally:
            scratch.dispose()
    scripts = script if isinstance(script, list) else [script]
    if not scripts or scripts[0] is None:
        raise StoreError("no revision written")
    path = Path(scripts[0].path)
    # autogenerate writes unformatted code; format it when ruff is at hand (a dev install)
    for step in (["check", "--fix-only"], ["format"]):
        with contextlib.suppress(OSError):
            subprocess.run([sys.executable, "-m", "ruff", *step, "-q", str(path)], check=False)
    return path
