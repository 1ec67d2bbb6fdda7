"""A batch the store refused for its data: split it to find the messages it refuses, dead-letter
those with the store's reason, commit the rest."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.credential import CredentialHasher
from gateway.ingest.batch import Batch, DeviceUpdate, Key
from gateway.ingest.live import IngestStats
from gateway.ingest.storable import clean_text
from gateway.store.refusals import StoreDataError
from gateway.store.writer import BatchWriter

log = logging.getLogger(__name__)
_QUOTED = re.compile(r'"[^"]*"')  # a value a database error may quote


@dataclass(frozen=True, slots=True)
class Isolation:
    """What isolating needs: the writer, the device settling before each write, the site
    (for the dead letters), the credential hasher (to scrub them), the counters."""

    writer: BatchWriter
    settle: Callable[[Mapping[Key, DeviceUpdate]], None]
    site: str
    hasher: CredentialHasher
    stats: IngestStats


def commit_isolating(pipe: Isolation, batch: Batch, err: StoreDataError) -> Batch:
    """Commit what of ``batch`` the store takes, in halves until each refusal is one
    message's, whose rows become a dead letter with the store's reason; returns what was
    committed. Each piece's id derives from the batch's, so a retry after a store outage
    midway finds the pieces already committed and writes none twice. Raises StoreError when
    the store (not the data) fails meanwhile."""
    landed = Batch()
    log.warning(
        "store refused a batch of %d messages for its data; isolating: %s", len(batch.parts), err
    )
    _split(pipe, batch, 0, len(batch.parts), err, landed)
    landed.written = True
    return landed


def _split(pipe: Isolation, batch: Batch, i: int, j: int, err: StoreDataError,
           landed: Batch) -> None:  # fmt: skip
    if j - i == 1:
        _refuse(pipe, batch, i, err, landed)
        return
    mid = (i + j) // 2
    for lo, hi in ((i, mid), (mid, j)):
        sub = piece(batch, lo, hi)
        if not (sub.events or sub.dead_letters or sub.fingerprints or sub.devices):
            continue
        pipe.settle(sub.devices)
        try:
            pipe.writer.write(sub)
        except StoreDataError as refused:
            _split(pipe, batch, lo, hi, refused, landed)
        else:
            landed.extend(sub)


def piece(batch: Batch, i: int, j: int) -> Batch:
    """The rows of messages ``i`` to ``j`` (exclusive) of ``batch``, as a batch of its own."""
    _, e0, d0, f0, t0 = batch.parts[i - 1] if i else (None, 0, 0, 0, 0)
    _, e1, d1, f1, t1 = batch.parts[j - 1]
    sub = Batch(
        events=batch.events[e0:e1],
        dead_letters=batch.dead_letters[d0:d1],
        fingerprints=batch.fingerprints[f0:f1],
        id=_derived(batch.id, i, j),
        # a retried batch's pieces may have committed before the store failed
        tries=max(0, batch.tries - 1),
    )
    sub.parts = [(m, e - e0, d - d0, f - f0, t - t0) for m, e, d, f, t in batch.parts[i:j]]
    sub.touches = batch.touches[t0:t1]
    sub.evicted = batch.evicted if i == 0 else []
    sub.replay_touches()
    return sub


def _refuse(pipe: Isolation, batch: Batch, i: int, err: StoreDataError, landed: Batch) -> None:
    """Message ``i`` alone is refused: store a dead letter for it instead of its rows."""
    m = batch.parts[i][0]
    _, _, _, f0, _ = batch.parts[i - 1] if i else (None, 0, 0, 0, 0)
    fps = batch.fingerprints[f0 : batch.parts[i][3]]
    reason = clean_text(f"the store refused it: {_first_line(err)}", 512)
    letter: dict[str, Any] = {
        "site": pipe.site,
        "topic": clean_text(m.topic),
        "payload": pipe.hasher.scrub(m.payload),
        "reason": reason,
        "profile": None,
        "device": None,
        "received_at": m.received_at,
    }
    tries = max(0, batch.tries - 1)
    dead = Batch(dead_letters=[letter], fingerprints=fps, id=_derived(batch.id, i, -1),
                 tries=tries)  # fmt: skip
    try:
        pipe.writer.write(dead)
    except StoreDataError:  # even its dead letter: keep the least that says it came
        letter.update(topic=clean_text(m.topic.encode("ascii", "replace").decode(), 256),
                      payload=b"", reason="the store refused it and its dead letter")  # fmt: skip
        dead = Batch(dead_letters=[letter], fingerprints=fps, id=_derived(batch.id, i, -2),
                     tries=tries)  # fmt: skip
        pipe.writer.write(dead)
    pipe.stats.dead_lettered += 1
    pipe.stats.store_refused += 1
    log.warning("dead letter on %s: %s", letter["topic"], reason)
    landed.extend(dead)


def _first_line(err: BaseException) -> str:
    """The store's reason without a batch's values (its first line, cut short)."""
    text = str(err).strip().split("\n", 1)[0]
    return _QUOTED.sub('"…"', text)[:300]


def _derived(parent: int, i: int, j: int) -> int:
    h = hashlib.blake2b(f"{parent}:{i}:{j}".encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big") >> 1
