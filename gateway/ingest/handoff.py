"""The bounded hand-off from the network thread to the worker, passed in chunks of messages."""

from __future__ import annotations

import threading
import time
from collections import deque

from gateway.ingest.messages import RawMessage


class Handoff:
    """A bounded queue of raw messages that moves whole chunks under one lock.

    The network thread puts everything one socket read produced at once and the worker takes
    up to a batch at once, so the cost of locking and waking is per chunk, not per message.
    ``maxsize`` bounds the messages held: ``put_many`` waits while the queue is at or over it
    (a chunk may overshoot by its own length), which stops the network thread reading and so
    slows the broker instead of growing memory.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = max(1, maxsize)
        self._chunks: deque[list[RawMessage]] = deque()
        self._n = 0
        self._cond = threading.Condition(threading.Lock())

    def qsize(self) -> int:
        """Messages waiting."""
        return self._n

    def empty(self) -> bool:
        return self._n == 0

    def put(self, msg: RawMessage, timeout: float | None = None) -> bool:
        """Put one message; False when it did not fit within ``timeout``."""
        return self.put_many([msg], timeout)

    def put_many(self, msgs: list[RawMessage], timeout: float | None = None) -> bool:
        """Put ``msgs`` (the list is kept, not copied); False when they did not fit in time."""
        if not msgs:
            return True
        with self._cond:
            if self._n >= self.maxsize:
                deadline = None if timeout is None else time.monotonic() + timeout
                while self._n >= self.maxsize:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cond.wait(left)
            was_empty = self._n == 0
            self._chunks.append(msgs)
            self._n += len(msgs)
            if was_empty:
                self._cond.notify_all()  # only a worker waits on an empty queue
            return True

    def get_many(self, limit: int, timeout: float) -> list[RawMessage]:
        """Up to ``limit`` messages in arrival order, waiting up to ``timeout`` for the first;
        an empty list when none came."""
        with self._cond:
            if self._n == 0:
                deadline = time.monotonic() + timeout
                while self._n == 0:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return []
                    self._cond.wait(left)
            out: list[RawMessage] = []
            chunks = self._chunks
            while chunks and len(out) < limit:
                chunk = chunks[0]
                room = limit - len(out)
                if len(chunk) <= room:
                    chunks.popleft()
                    if out:
                        out.extend(chunk)
                    else:
                        out = chunk  # the common case: one whole chunk, not copied
                else:
                    out.extend(chunk[:room])
                    chunks[0] = chunk[room:]
            was_full = self._n >= self.maxsize
            self._n -= len(out)
            if was_full and self._n < self.maxsize:
                self._cond.notify_all()  # the network thread may be waiting for room
            return out
