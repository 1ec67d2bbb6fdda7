"""The batch writer in a child process: the store's statement steps and fsyncs off our GIL.

Under line-rate ingest the commit stage was the bottleneck: SQLite's work itself, and then
each statement waiting for the GIL the decoding thread held. ``WriterProcess`` has the same
interface as ``BatchWriter`` (``write``, ``committed``, the counts) and sends each batch's
rows to ``python -m gateway.store.writer_process`` over a pipe, which commits them with a
``BatchWriter`` of its own and answers; ``write`` returns only after that answer, so a batch
is still acknowledged to the broker only once it is committed.

When the child dies (it should not; it is restarted), whether the batch in flight committed
is read back from the redelivery record, where every batch (QoS 0 or 1) records its id in
its own transaction. The child asks the kernel to kill it when
the thread that started it ends, and leaves when the pipe closes, so it never outlives us.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import Engine

from gateway.errors import StoreError
from gateway.store.refusals import StoreDataError
from gateway.store.rows import DeviceRow, Rows, StoredBatch, batch_rows
from gateway.store.writer import BatchWriter

log = logging.getLogger(__name__)

_LEN = struct.Struct("!I")
PIPE_BYTES = 4 << 20  # what the pipe to the child may hold, where the system allows it
_PR_SET_PDEATHSIG = 1


def _pack(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _send(pipe: IO[bytes], *frames: bytes) -> None:
    """Write packed frames, each behind its length, in one flush."""
    for data in frames:
        pipe.write(_LEN.pack(len(data)))
        pipe.write(data)
    pipe.flush()


def _recv(pipe: IO[bytes]) -> Any:
    head = pipe.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError("the other end closed the pipe")
    n = _LEN.unpack(head)[0]
    data = pipe.read(n)
    if len(data) < n:
        raise EOFError("the other end closed the pipe mid-message")
    return pickle.loads(data)  # noqa: S301 - our own child process, over its own pipe


def _bulk(batch: StoredBatch) -> bytes:
    """A batch's events, dead letters and fingerprints, packed for the child."""
    rows = batch_rows(batch)
    return _pack((rows.events, rows.dead_letters, rows.fingerprints))


class WriterProcess(BatchWriter):
    """A ``BatchWriter`` (its counts, observers and redelivery lookups) whose batches are
    written by a child process."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        client: str = "gateway",
        redelivery_window: int = 10_000,
        site: str = "",
        busy_timeout_ms: int = 5_000,
    ) -> None:
        super().__init__(engine, client=client, redelivery_window=redelivery_window, site=site)
        self._init = {
            "url": url,
            "client": client,
            "redelivery_window": redelivery_window,
            "site": site,
            "busy_timeout_ms": busy_timeout_ms,
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.restarts = 0
        self._start()  # its imports run while the rest of the gateway starts

    def seal(self, batch: StoredBatch) -> None:
        """Pack the batch's rows on the preparing thread, so that between two commits the
        child waits only for the device updates (the rest is most of the packing)."""
        batch.sealed = _bulk(batch)

    def write(self, batch: StoredBatch) -> None:
        """Commit the batch in the child; raises StoreError (nothing kept) when it was not."""
        if self.landed(batch):
            return
        bulk = batch.sealed if batch.sealed is not None else _bulk(batch)
        # as the store's own rows: the child needs nothing of ingest to read them
        devices = _pack(([(k, DeviceRow.of(u)) for k, u in batch.devices.items()], batch.evicted))
        batch.tries += 1
        with self._lock:
            elapsed = self._write(bulk, devices, batch)
        batch.written = True
        self.counted(batch, elapsed)

    def close(self) -> None:
        """Let the child finish and leave (it exits when its input closes)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    # -- the child ----------------------------------------------------------------------------
    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.store.writer_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self._proc.stdin is not None
        _widen(self._proc.stdin)
        # the URL may hold a password: it goes over the pipe, not on the command line
        _send(self._proc.stdin, _pack({**self._init, "parent": os.getpid()}))

    def _write(self, bulk: bytes, devices: bytes, batch: StoredBatch) -> float:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self._restart("it was not running")
            proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            _send(proc.stdin, bulk, devices)
            kind, value = _recv(proc.stdout)
        except (OSError, EOFError, pickle.PickleError) as err:
            self._restart(f"it failed mid-batch: {err}")
            if self.committed([batch.mark]):
                return 0.0  # it committed the batch before it went (QoS 0 or 1)
            raise StoreError(f"store writer process failed; batch not committed: {err}") from err
        if kind == "refused":
            raise StoreDataError(str(value))
        if kind == "error":
            raise StoreError(str(value))
        return float(value)

    def _restart(self, why: str) -> None:
        old = self._proc
        if old is not None:
            with contextlib.suppress(OSError):
                old.kill()
            old.wait()
            for pipe in (old.stdin, old.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        self.restarts += 1
        log.error("store writer process restarted (%s)", why)
        self._start()


def _widen(pipe: IO[bytes]) -> None:
    """Let the pipe hold a whole batch (Linux allows up to ``fs.pipe-max-size``, 1 MiB by
    default): written in 64 KiB pieces, each piece released the GIL and then waited to take it
    back while the decoding thread ran, which cost more than the child's own commit time."""
    with contextlib.suppress(OSError, AttributeError):
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, min(limit, PIPE_BYTES))


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when the thread that started it ends (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)  # it went before the request took effect


def main() -> None:
    """The child: commit each batch read from stdin, answer on stdout, until stdin closes."""
    # a terminal's ^C, or a service manager's SIGTERM to the whole group, is the gateway's to
    # handle: it drains, commits its last batches through this process, then closes the pipe
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the answers
    init = _recv(stdin)
    _die_with_parent(init["parent"])
    from gateway.store.db import create_db_engine

    engine = create_db_engine(init["url"], busy_timeout_ms=init["busy_timeout_ms"])
    writer = BatchWriter(
        engine,
        client=init["client"],
        redelivery_window=init["redelivery_window"],
        site=init["site"],
    )
    while True:
        try:
            events, dead_letters, fingerprints = _recv(stdin)
            devices, evicted = _recv(stdin)
            rows = Rows(events, dead_letters, devices, fingerprints, evicted)
        except EOFError:
            break
        try:
            answer: tuple[str, Any] = ("ok", writer.write_rows(rows))
        except StoreDataError as err:
            answer = ("refused", str(err))
        except StoreError as err:
            answer = ("error", str(err))
        except Exception as err:  # a bug: report it as a failed batch, keep serving
            log.exception("store writer process: batch failed")
            answer = ("error", f"store writer process: {type(err).__name__}: {err}")
        _send(stdout, _pack(answer))
    engine.dispose()


if __name__ == "__main__":
    main()
