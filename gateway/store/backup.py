"""``gateway db backup|restore``: a consistent copy of a SQLite store, taken while the gateway
runs, and putting one back.

The backup goes through SQLite's online backup API in one step: it reads the store in one
read transaction, so under WAL it is the store as of one commit while the writer goes on
committing (readers never block writers). It is written into a 0600 file beside the
destination, checked, fsynced and renamed into place, so a crash never leaves a half file
under the name asked for. The copy is a single file (rollback journal, no ``-wal``).

A restore refuses a file that is not a gateway store, one of another schema revision and one
of another site, then copies it beside the store, fsyncs it and renames it over the store
while holding the store's exclusive lock. That lock cannot be had while any gateway has the
store open, so a running gateway is refused too instead of going on writing into a file that
is no longer there.

PostgreSQL has its own tools for both (``pg_dump``, ``pg_restore``); the commands say exactly
what to run rather than copy rows by hand.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from gateway.errors import StoreError
from gateway.private_files import FILE_MODE
from gateway.store.db import sqlite_file
from gateway.store.migrate import HEAD

SQLITE_MAGIC = b"SQLite format 3\x00"
LOCK_WAIT_S = 0.5  # how long a restore waits for the store's lock before saying who holds it


@dataclass(frozen=True)
class Copied:
    """What a backup or restore wrote: where, how many bytes, at which revision, how fast."""

    path: Path
    size: int
    revision: str
    seconds: float


def backup(url: str, dest: Path | str) -> Copied:
    """Copy the store at ``url`` into ``dest`` (replaced if it exists), consistently."""
    source = _sqlite_store(url, "backup")
    if not source.is_file():
        raise StoreError(f"no store to back up: {source} does not exist")
    dest = Path(dest).expanduser().absolute()
    if dest.is_dir():
        raise StoreError(f"cannot write the backup to {dest}: it is a folder; name a file")
    if dest.resolve() == source.resolve():
        raise StoreError(f"cannot write the backup to {dest}: it is the store itself")
    t0 = time.perf_counter()
    tmp = _new_private_beside(dest, "backup")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # all pages in one step: one read transaction, one commit's state
            dst.execute("PRAGMA journal_mode=DELETE")  # a single file, no -wal beside it
            revision = _check_store(dst, tmp)
        finally:
            dst.close()
            src.close()
        _fsync(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)
    return Copied(dest, dest.stat().st_size, revision, time.perf_counter() - t0)


def restore(url: str, src: Path | str, site: str) -> Copied:
    """Put the backup ``src`` back as the store at ``url`` of site ``site``."""
    target = _sqlite_store(url, "restore")
    src = Path(src).expanduser().absolute()
    t0 = time.perf_counter()
    revision = check_backup(src, site)
    tmp = _new_private_beside(target, "restore")
    try:
        with src.open("rb") as fin, tmp.open("wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        _swap_in(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return Copied(target, target.stat().st_size, revision, time.perf_counter() - t0)


def check_backup(path: Path, site: str) -> str:
    """The revision of the gateway store at ``path`` of ``site``; StoreError saying why not."""
    try:
        with path.open("rb") as f:
            magic = f.read(len(SQLITE_MAGIC))
    except OSError as err:
        raise StoreError(f"cannot read the backup {path}: {err.strerror}") from err
    if magic != SQLITE_MAGIC:
        raise StoreError(f"{path} is not a gateway store: not a SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        revision = _check_store(conn, path)
        sites = {r[0] for r in conn.execute("SELECT id FROM site")}
    finally:
        conn.close()
    if site not in sites:
        held = ", ".join(sorted(sites)) or "no site"
        raise StoreError(
            f"{path} is the store of {held}, not of site {site} (the configured building's)"
        )
    return revision


def _check_store(conn: sqlite3.Connection, path: Path) -> str:
    """The schema revision of the store open on ``conn``, which must be this gateway's."""
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        # "event" is a table before the compact event store, "event_data" since
        if not {"alembic_version", "site"} <= names or not {"event", "event_data"} & names:
            raise StoreError(f"{path} is not a gateway store: it has no gateway tables")
        at = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
        bad = [r[0] for r in conn.execute("PRAGMA quick_check")] != ["ok"]
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path} is not a gateway store: {err}") from err
    if bad:
        raise StoreError(f"{path} is damaged: SQLite's quick_check does not pass")
    if at != [HEAD]:
        raise StoreError(
            f"{path} is at schema revision {', '.join(at) or 'none'}, this gateway at {HEAD}: "
            "restore it with the gateway version that wrote it"
        )
    return HEAD


def _swap_in(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` over ``target`` holding the store's exclusive lock, its WAL folded in
    and removed first (an old ``-wal`` beside a new file would be read as the new file's)."""
    if not target.exists():
        os.replace(tmp, target)
        return
    conn = sqlite3.connect(target, timeout=LOCK_WAIT_S, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        # needs the store to itself: fails while any gateway has it open
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("BEGIN EXCLUSIVE")
        os.replace(tmp, target)
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as err:
        if "locked" in str(err) or "busy" in str(err):
            raise StoreError(
                f"{target} is open in a running gateway: stop it, then restore"
            ) from err
        raise StoreError(f"cannot restore into {target}: {err}") from err
    finally:
        conn.close()


def _sqlite_store(url: str, what: str) -> Path:
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        raise StoreError(_postgres_advice(url, what))
    path = sqlite_file(u)
    if path is None:
        raise StoreError(f"cannot {what} {u.render_as_string()}: only a SQLite file or PostgreSQL")
    return Path(path).expanduser().absolute()


def _postgres_advice(url: str, what: str) -> str:
    """What to run instead on PostgreSQL: its own dump and restore, consistent while running."""
    u = make_url(url).set(drivername="postgresql")
    dsn = u.render_as_string(hide_password=True)
    if what == "backup":
        cmd = f"pg_dump --format=custom --file FILE '{dsn}'"
        how = "pg_dump takes a consistent copy while the gateway runs"
    else:
        cmd = f"pg_restore --clean --if-exists --single-transaction --dbname '{dsn}' FILE"
        how = "stop every gateway on the database first"
    return (
        f"the store is PostgreSQL: {what} it with PostgreSQL's own tool ({how}): {cmd}"
        " (the password as in PGPASSWORD or ~/.pgpass; the database holds every site on it)"
    )


def _new_private_beside(path: Path, what: str) -> Path:
    """A new empty 0600 file in ``path``'s folder; StoreError naming the folder if it cannot be."""
    tmp = path.with_name(f".{path.name}.{what}-{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)  # left by a crashed run of this same process id
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except OSError as err:
        raise StoreError(
            f"cannot write the {what} to {path}: {err.strerror} ({path.parent})"
        ) from err
    return tmp


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        _fsync(path)
