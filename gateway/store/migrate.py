"""Schema migrations (Alembic): upgrade a store to head, adopt older stores, write revisions.

``ensure`` is what ``init_db`` runs at start-up, on SQLite and PostgreSQL alike: a store at
``HEAD`` is left as it is; an empty one gets the tables declared in code and is stamped
``HEAD`` (Alembic's recipe for a new database; ``tests/store/test_migrations.py`` proves it
the same schema as the scripts build); any other is brought to head by ``upgrade``. Neither
of the first two loads Alembic, which alone took a fifth of a second of every start. A store
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
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from gateway.errors import StoreError
from gateway.store import db  # registers every table on the metadata
from gateway.store.event_view import create_view

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"
HEAD = "0011_compact_events"  # the newest script's revision (a test checks it is)
# tables of the baseline revision: finding one of them without alembic_version means a
# store made by create_all before migrations existed
LEGACY_MARKERS = ("site", "event", "device", "deadletter")
# the table Alembic keeps its revision in, as Alembic creates it
_VERSION_TABLE = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)
_INCREMENTAL = 2  # PRAGMA auto_vacuum's value for incremental
_LOCK_KEY = 0x6761_7465_7761_7901  # arbitrary, constant: "gateway" + 1


def config(conn: Connection | None = None) -> Config:
    """An Alembic config for the packaged scripts, bound to ``conn`` when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    """The newest revision the packaged scripts know."""
    from alembic.script import ScriptDirectory

    rev = ScriptDirectory.from_config(config()).get_current_head()
    if rev is None:
        raise StoreError("no schema revisions found")
    return rev


def current(engine: Engine) -> str | None:
    """The revision a store is at (None for an empty or pre-migration store)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def init_db(engine: Engine) -> None:
    """Bring the store's schema to the newest migration (creating it in an empty store)."""
    ensure(engine)


def ensure(engine: Engine) -> None:
    """Bring the store to head the quickest way (see the module's notes)."""
    with engine.begin() as conn:
        _lock(conn)
        names = set(inspect(conn).get_table_names())
        if "alembic_version" in names:
            at = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            if at == [HEAD]:
                return
        elif not names:
            SQLModel.metadata.create_all(conn)
            create_view(conn)
            conn.execute(text(_VERSION_TABLE))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD})
            return
    upgrade(engine)
    reclaimable(engine)


def reclaimable(engine: Engine) -> None:
    """Let a SQLite store give back the space of what is deleted (``auto_vacuum``
    incremental, which the retention pass uses). A store made before it needs one VACUUM,
    which also returns the space an upgrade freed; it needs free disk the size of the store,
    so without it the store carries on as it is and SQLite reuses its free pages."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == _INCREMENTAL:
            return
        t0 = time.monotonic()
        try:
            conn.exec_driver_sql("PRAGMA auto_vacuum=INCREMENTAL")
            conn.exec_driver_sql("VACUUM")
        except OperationalError as err:
            log.warning("store not compacted (%s); it carries on as it is", db.db_error(err))
            return
        log.info("store compacted for incremental vacuum in %.1f s", time.monotonic() - t0)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store to ``revision`` with the scripts, adopting a pre-migration store on
    the way."""
    from alembic import command

    with engine.begin() as conn:
        _lock(conn)
        names = set(inspect(conn).get_table_names())
        if "alembic_version" not in names and names & set(LEGACY_MARKERS):
            command.stamp(config(conn), BASELINE)
        command.upgrade(config(conn), revision)


def _lock(conn: Connection) -> None:
    """On PostgreSQL, wait for any other gateway migrating the same database."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def revision(message: str, autogenerate: bool = True) -> Path:
    """Write a new revision script into the package; with ``autogenerate`` its operations are
    what the tables declared in code have that a store at head lacks."""
    from alembic import command

    with tempfile.TemporaryDirectory() as tmp:
        scratch = db.create_db_engine(f"sqlite:///{tmp}/scratch.db")
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
