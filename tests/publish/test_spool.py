"""The uplink's disk buffer: sequence numbers, byte bound (oldest dropped, counted), reopen."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from gateway.publish.spool import Entry, Spool


def entries(n: int, start: int = 0, items: int = 3) -> list[Entry]:
    return [Entry("gw/s/events", {"n": start + i, "pad": "x" * 200}, items) for i in range(n)]


def test_sequence_numbers_increase_and_payload_carries_them(tmp_path: Path) -> None:
    sp = Spool(tmp_path / "s.sqlite", max_bytes=1_000_000)
    assert sp.append(entries(3), "site-a") == [1, 2, 3]
    assert sp.append(entries(2, 3), "site-a") == [4, 5]
    recs = sp.read(0, 100)
    assert [r.seq for r in recs] == [1, 2, 3, 4, 5]
    bodies = [json.loads(r.payload) for r in recs]
    assert [(b["site"], b["seq"], b["n"]) for b in bodies] == [
        ("site-a", i + 1, i) for i in range(5)
    ]
    assert [r.seq for r in sp.read(3, 100)] == [4, 5]
    assert [r.seq for r in sp.read(0, 2)] == [1, 2]
    sp.close()


def test_full_buffer_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    sp = Spool(tmp_path / "s.sqlite", max_bytes=5_000)
    for i in range(10):
        sp.append(entries(5, i * 5), "site-a")  # 50 records of about 240 bytes
    assert sp.bytes <= 5_000
    kept = sp.read(0, 1000)
    assert sp.records == len(kept) > 0
    assert sp.bytes == sum(len(r.payload) for r in kept)
    # the newest survive, contiguous up to the last one appended; the oldest are gone
    assert [r.seq for r in kept] == list(range(51 - len(kept), 51))
    assert sp.dropped_records == 50 - len(kept)
    assert sp.dropped_items == 3 * sp.dropped_records
    sp.close()


def test_acknowledged_records_are_deleted_and_counts_follow(tmp_path: Path) -> None:
    sp = Spool(tmp_path / "s.sqlite", max_bytes=1_000_000)
    sp.append(entries(4), "site-a")
    before = sp.bytes
    assert sp.delete([2, 3, 99]) == 2  # 99 was never there (or dropped earlier)
    assert [r.seq for r in sp.read(0, 10)] == [1, 4]
    assert sp.records == 2 and 0 < sp.bytes < before
    sp.close()


def test_reopened_buffer_keeps_records_sequence_and_drop_counts(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    sp = Spool(path, max_bytes=2_000)
    for i in range(6):
        sp.append(entries(3, i * 3), "site-a")
    sp.delete([r.seq for r in sp.read(0, 1000)][-1:])  # the newest was acknowledged
    left = [r.seq for r in sp.read(0, 1000)]
    dropped = sp.dropped_records
    sp.close()

    sp = Spool(path, max_bytes=2_000)
    assert [r.seq for r in sp.read(0, 1000)] == left
    assert sp.dropped_records == dropped > 0
    # a number is never reused, even for the acknowledged newest record
    assert sp.append(entries(1), "site-a") == [19]
    sp.close()


def test_drifted_counters_are_recounted_and_never_lock_the_buffer(tmp_path: Path) -> None:
    sp = Spool(tmp_path / "s.sqlite", max_bytes=5_000)
    sp.append(entries(3), "site-a")
    sp.bytes += 1_000_000  # counters claim far more than the table holds
    sp.records += 10
    sp.append(entries(2, 3), "site-a")  # trims every row, finds none left, recounts
    assert (sp.records, sp.bytes) == (0, 0)
    assert sp.append(entries(2, 5), "site-a") == [6, 7]  # no transaction was left open
    kept = sp.read(0, 10)
    assert [r.seq for r in kept] == [6, 7]
    assert (sp.records, sp.bytes) == (2, sum(len(r.payload) for r in kept))
    sp.close()


class FailingDelete:
    """The spool's connection, except that a DELETE raises something that is not sqlite3's."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("DELETE"):
            raise RuntimeError("not a database error")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


def test_any_failure_inside_a_transaction_rolls_it_back(tmp_path: Path) -> None:
    sp = Spool(tmp_path / "s.sqlite", max_bytes=1_000_000)
    sp.append(entries(3), "site-a")
    real = sp._db
    sp._db = FailingDelete(real)  # type: ignore[assignment]
    with pytest.raises(RuntimeError):
        sp.delete([1])
    assert not real.in_transaction
    sp._db = real
    assert sp.append(entries(1, 3), "site-a") == [4]
    assert sp.delete([1]) == 1
    assert [r.seq for r in sp.read(0, 10)] == [2, 3, 4]
    assert sp.records == 3
    sp.close()
