"""Writing the broker's credentials: 0600 from the first byte, by rename, never via a symlink."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from gateway.errors import ConfigError

log = logging.getLogger(__name__)


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise ConfigError(f"{path} is a symbolic link; refusing to write secrets through it")


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    The file never exists with wider permissions than ``mode``, a reader never sees it half
    written, and a symlink at ``path`` is refused rather than followed (its target is left
    alone). A file that was there, whatever its mode, is replaced by one with ``mode``."""
    _refuse_symlink(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)  # mkstemp creates it 0600 already; mode may only narrow it
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        _refuse_symlink(path)  # still no symlink planted meanwhile
        os.replace(tmp, path)  # rename replaces a symlink itself, never its target
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _passwd_tool() -> str | None:
    found = shutil.which("mosquitto_passwd")
    if found is None and os.path.exists("/usr/bin/mosquitto_passwd"):
        found = "/usr/bin/mosquitto_passwd"
    return found


def write_credentials(users: list[str], out_dir: Path) -> dict[str, str]:
    """Random passwords for ``users``; writes ``credentials`` (plain, 0600) and, when
    ``mosquitto_passwd`` is installed, the hashed ``passwd`` (0600). Returns user -> password.
    """
    creds = {u: secrets.token_urlsafe(18) for u in users}
    out_dir.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{u}:{p}\n" for u, p in creds.items())
    write_private(out_dir / "credentials", text)
    tool = _passwd_tool()
    if tool is not None:
        hashed = out_dir / "passwd"
        _refuse_symlink(hashed)
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".passwd.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            subprocess.run([tool, "-U", tmp], check=True, capture_output=True)
            os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
            _refuse_symlink(hashed)
            os.replace(tmp, hashed)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    else:
        log.warning("mosquitto_passwd not found: only the plain credentials file was written")
    return creds
