"""The chunked hand-off: bounded, ordered, and a full queue holds the network thread back."""

from __future__ import annotations

import threading
import time

from gateway.ingest.handoff import Handoff
from gateway.ingest.messages import RawMessage


def msgs(start: int, n: int) -> list[RawMessage]:
    return [RawMessage("t", b"x", 0.0, 1, i) for i in range(start, start + n)]


def test_messages_come_out_in_order_and_chunks_are_split_at_the_limit() -> None:
    q = Handoff(maxsize=100)
    assert q.put_many(msgs(1, 3)) and q.put_many(msgs(4, 5))
    assert q.qsize() == 8
    first = q.get_many(4, timeout=0.1)
    rest = q.get_many(100, timeout=0.1)
    assert [m.mid for m in first] == [1, 2, 3, 4]
    assert [m.mid for m in rest] == [5, 6, 7, 8]
    assert q.empty() and q.get_many(10, timeout=0.01) == []


def test_a_full_queue_refuses_until_the_worker_takes_some() -> None:
    q = Handoff(maxsize=10)
    assert q.put_many(msgs(1, 10))
    assert not q.put_many(msgs(11, 1), timeout=0.05)  # full: the network thread would wait
    assert q.qsize() == 10

    done = threading.Event()

    def network() -> None:
        q.put_many(msgs(11, 5), timeout=5.0)
        done.set()

    t = threading.Thread(target=network)
    t.start()
    time.sleep(0.1)
    assert not done.is_set()  # still held back
    got = q.get_many(3, timeout=0.1)
    t.join(timeout=5)
    assert done.is_set()
    assert [m.mid for m in got] == [1, 2, 3]
    assert [m.mid for m in q.get_many(100, timeout=0.1)] == list(range(4, 16))


def test_a_waiting_worker_wakes_when_messages_arrive() -> None:
    q = Handoff(maxsize=10)
    got: list[RawMessage] = []
    t = threading.Thread(target=lambda: got.extend(q.get_many(10, timeout=5.0)))
    t.start()
    time.sleep(0.05)
    q.put_many(msgs(1, 2))
    t.join(timeout=5)
    assert [m.mid for m in got] == [1, 2]
