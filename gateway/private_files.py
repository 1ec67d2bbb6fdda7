"""Folders and files only the gateway's user may open, owner-only from the moment they exist.

The store, ``.gateway/``, the key folder and the admin-token file hold what lets someone act
as the site: a mode set after writing would leave a moment (or, after a crash, for good) in
which another local user could read them. ``os.mkdir`` and ``os.open`` apply the mode as the
inode is created, narrowed by the umask and never widened, so no ``chmod`` follows. Folders and
files that already exist keep the mode their operator gave them.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path | str) -> Path:
    """``path`` as a folder; it and every missing parent are created 0700."""
    path = Path(path).expanduser()
    missing: list[Path] = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:  # made by another process meanwhile
            if not d.is_dir():
                raise
    return path


def touch_private(path: Path | str) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; True when it was created here.

    SQLite opens an empty file as an empty database, and makes its ``-wal`` and ``-shm``
    files with the database file's mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_new_private(path: Path | str, data: bytes) -> bool:
    """Write ``data`` to a new 0600 file ``path``; False, writing nothing, when it exists.

    ``O_EXCL`` never follows a symlink planted at ``path`` nor truncates a file made first by
    another process."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return True
