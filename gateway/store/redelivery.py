"""The redelivery record of a batch, packed: 10 bytes per QoS 1 message instead of a row.

Each committed batch writes one ``ingest_record`` row: its id and the (packet id, digest)
pairs of its QoS 1 messages as one blob -- the packet ids as unsigned 16-bit integers, then
the digests as signed 64-bit ones, little-endian. A redelivered (DUP) message is looked up
among the newest records; a retried write looks for its batch's id.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator

from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.engine import Connection

from gateway.store.rows import BATCH_MARK
from gateway.store.tables import IngestRecord

RECORDS: Table = IngestRecord.__table__  # type: ignore[attr-defined]
PRUNE_EVERY = 50  # batches between prunes of the record
MARKS_KEPT = 2 * PRUNE_EVERY  # the fewest batch records kept, however few messages they hold
_MID = "H"  # MQTT packet ids are 1..65535
_DIGEST = "q"


def pack(pairs: list[tuple[int, int]]) -> bytes:
    """The (packet id, digest) pairs as one blob."""
    mids = array(_MID, [m for m, _ in pairs])
    digests = array(_DIGEST, [d for _, d in pairs])
    if mids.itemsize != 2 or digests.itemsize != 8:  # pragma: no cover - every CPython has
        raise RuntimeError("unexpected C integer sizes")
    if sys.byteorder == "big":  # pragma: no cover - stored little-endian everywhere
        mids.byteswap()
        digests.byteswap()
    return mids.tobytes() + digests.tobytes()


def unpack(blob: bytes) -> list[tuple[int, int]]:
    """The pairs ``pack`` made of ``blob``."""
    n = len(blob) // 10
    mids, digests = array(_MID), array(_DIGEST)
    mids.frombytes(blob[: 2 * n])
    digests.frombytes(blob[2 * n : 10 * n])
    if sys.byteorder == "big":  # pragma: no cover
        mids.byteswap()
        digests.byteswap()
    return list(zip(mids, digests, strict=True))


def found(blobs: Iterable[bytes], candidates: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of ``candidates`` the records ``blobs`` hold."""
    out: set[tuple[int, int]] = set()
    for blob in blobs:
        out.update(candidates.intersection(unpack(blob)))
        if out == candidates:
            break
    return out


class RedeliveryRecord:
    """One writer's records (per site and MQTT client: gateways may share a store)."""

    def __init__(self, site: str, client: str, window: int) -> None:
        self.site, self.client, self.window = site, client, window
        self._batches = 0

    def write(self, conn: Connection, fps: list[tuple[int, int]]) -> None:
        """Record a batch in its transaction: its id (the mark ``batch_rows`` put last) and
        its QoS 1 messages; every ``PRUNE_EVERY`` batches, prune."""
        marks = [d for m, d in fps if m == BATCH_MARK] or [0]
        pairs = [p for p in fps if p[0] != BATCH_MARK]
        rows = [
            {"site": self.site, "client": self.client, "batch": mark,
             "messages": len(pairs) if i == 0 else 0, "fingerprints": pack(pairs if i == 0 else [])}
            for i, mark in enumerate(marks)
        ]  # fmt: skip
        conn.execute(RECORDS.insert(), rows)
        self._batches += 1
        if self._batches % PRUNE_EVERY == 0:
            self.prune(conn)

    def committed(self, conn: Connection, wanted: set[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of ``wanted`` were committed: (mid, digest) pairs among the newest records,
        (BATCH_MARK, id) pairs by their batch's id."""
        r = RECORDS.c
        marks = {d for m, d in wanted if m == BATCH_MARK}
        msgs = {p for p in wanted if p[0] != BATCH_MARK}
        out: set[tuple[int, int]] = set()
        if marks:
            got = conn.execute(select(r.batch).where(*self._mine(), r.batch.in_(marks)))
            out |= {(BATCH_MARK, int(b)) for b in got.scalars()}
        if msgs:
            out |= found(self._recent(conn), msgs)
        return out

    def prune(self, conn: Connection) -> None:
        """Keep the newest records that cover the window (and at least ``MARKS_KEPT``
        batches, for a retry looking for its own within seconds)."""
        r = RECORDS.c
        seen, keep = 0, None
        rows = conn.execute(select(r.id, r.messages).where(*self._mine()).order_by(r.id.desc()))
        for k, (rid, n) in enumerate(rows):
            seen += n
            keep = rid
            if seen >= self.window and k + 1 >= MARKS_KEPT:
                break
        else:
            return  # fewer than the window: nothing is due
        conn.execute(delete(RECORDS).where(*self._mine(), r.id < keep))

    def _mine(self) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return (RECORDS.c.site == self.site, RECORDS.c.client == self.client)

    def _recent(self, conn: Connection) -> Iterator[bytes]:
        """The fingerprint blobs of the newest records covering the window."""
        r = RECORDS.c
        rows = conn.execute(
            select(r.messages, r.fingerprints).where(*self._mine()).order_by(r.id.desc())
        )
        seen = 0
        for n, blob in rows:
            yield bytes(blob)
            seen += n
            if seen >= self.window:
                break
