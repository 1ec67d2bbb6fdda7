"""The uplink's store-and-forward buffer: a bounded, sequenced queue in a SQLite file.

Every record the uplink sends northbound is first appended here, with the next number of the
site's sequence (kept in the file, so it keeps increasing across restarts), and deleted only
when the central broker has acknowledged it (PUBACK).

- **Durability (fsync policy).** WAL journal with ``synchronous=FULL``: each append (one
  transaction for everything gathered in one flush, a fraction of a second) is fsynced before
  it returns, so an appended record survives ``kill -9`` and power loss. Deletes after PUBACK
  ride on the same policy; a delete lost in a crash only means a resend the receiver
  recognises by its sequence number.
- **Bound.** The payload bytes held are capped at ``max_bytes``. An append that would pass it
  deletes the *oldest* records first (lowest sequence numbers) and counts them in
  ``dropped_records`` / ``dropped_items`` (kept in the file). The receiver sees the loss as a
  gap in the sequence, never as silently reordered data.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import StoreError
from gateway.private_files import private_dir, touch_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS record (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    items INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Record:
    """One message waiting for the central broker's acknowledgement."""

    seq: int
    topic: str
    payload: bytes
    items: int  # events or findings inside, for the counts


@dataclass(frozen=True, slots=True)
class Entry:
    """What the uplink asks the spool to append: a topic and a JSON body without ``seq``."""

    topic: str
    body: dict[str, Any]
    items: int = 1


class Spool:
    """Append, read in order, delete when acknowledged; oldest dropped and counted when full."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        private_dir(path.parent)  # the buffer holds the site's events: owner-only, as the store
        touch_private(path)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as err:
            raise StoreError(f"uplink buffer {path}: {err}") from err
        self._lock = threading.Lock()  # one connection, used by the worker and the API reads
        self.next_seq = self._meta("next_seq", 1)
        self.dropped_records = self._meta("dropped_records", 0)
        self.dropped_items = self._meta("dropped_items", 0)
        row = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0), MAX(seq) FROM record"
        ).fetchone()
        self.records, self.bytes = int(row[0]), int(row[1])
        if row[2] is not None and row[2] >= self.next_seq:  # never reuse a number
            self.next_seq = int(row[2]) + 1

    def _meta(self, key: str, default: int) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    def append(self, entries: Iterable[Entry], site: str) -> list[int]:
        """Number and store ``entries`` in one fsynced transaction; their sequence numbers."""
        rows: list[tuple[int, str, bytes, int]] = []
        with self._lock:
            seq = self.next_seq
            for e in entries:
                payload = json.dumps(
                    {"site": site, "seq": seq, **e.body}, separators=(",", ":"), default=str
                ).encode()
                rows.append((seq, e.topic, payload, e.items))
                seq += 1
            if not rows:
                return []
            added = sum(len(r[2]) for r in rows)
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT INTO record VALUES (?, ?, ?, ?)", rows)
                self.records += len(rows)
                self.bytes += added
                gone_r, gone_i = self._trim()
                self._db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [
                        ("next_seq", seq),
                        ("dropped_records", self.dropped_records + gone_r),
                        ("dropped_items", self.dropped_items + gone_i),
                    ],
                )
                self._db.execute("COMMIT")
            except Exception as err:
                self._abort(err)
                raise
            self.next_seq = seq
            self.dropped_records += gone_r
            self.dropped_items += gone_i
        return [r[0] for r in rows]

    def _trim(self) -> tuple[int, int]:
        """Delete the oldest records until the bytes fit (inside the caller's transaction)."""
        gone_r = gone_i = 0
        while self.bytes > self.max_bytes:
            rows = self._db.execute(
                "SELECT seq, LENGTH(payload), items FROM record ORDER BY seq LIMIT 256"
            ).fetchall()
            if not rows:  # the counters drifted from the table: trust the table
                self._recount()
                break
            cut: list[int] = []
            for seq, size, items in rows:
                if self.bytes <= self.max_bytes:
                    break
                cut.append(seq)
                self.bytes -= size
                self.records -= 1
                gone_r += 1
                gone_i += items
            self._db.execute("DELETE FROM record WHERE seq BETWEEN ? AND ?", (cut[0], cut[-1]))
        if self.records < 0:  # counted fewer than the table held
            self._recount()
        return gone_r, gone_i

    def _abort(self, err: Exception) -> None:
        """Undo the open transaction whatever failed, so later appends and deletes can begin.

        A database error is raised on as :class:`StoreError`; anything else as itself."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._recount()
        if isinstance(err, sqlite3.Error):
            raise StoreError(f"uplink buffer {self.path}: {err}") from err

    def _recount(self) -> None:
        row = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM record"
        ).fetchone()
        self.records, self.bytes = int(row[0]), int(row[1])

    def read(self, after: int, limit: int) -> list[Record]:
        """Up to ``limit`` records with a sequence number above ``after``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, items FROM record WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [Record(int(s), str(t), bytes(p), int(i)) for s, t, p, i in rows]

    def delete(self, seqs: Iterable[int]) -> int:
        """Forget acknowledged records (already dropped ones are ignored); how many went."""
        keys = [(s,) for s in seqs]
        if not keys:
            return 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                sizes = [
                    row[0]
                    for k in keys
                    for row in self._db.execute(
                        "DELETE FROM record WHERE seq = ? RETURNING LENGTH(payload)", k
                    ).fetchall()
                ]
                self._db.execute("COMMIT")
            except Exception as err:
                self._abort(err)
                raise
            self.records -= len(sizes)
            self.bytes -= sum(sizes)
        return len(sizes)

    def close(self) -> None:
        with self._lock:
            self._db.close()
