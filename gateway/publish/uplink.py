"""Northbound uplink: events and findings to a central broker, stored and forwarded in order.

Topics, under ``<prefix>/<site>`` (``prefix`` from ``GATEWAY_UPLINK__PREFIX``, default ``gw``):

- ``events``: ``{"site", "seq", "type": "events", "count", "events": [...]}``, up to
  ``batch_events`` normalized events per message, in commit order;
- ``findings/<kind>``: one finding per message (``ghost_booking``, ``unverified_booking``,
  ``idle_episode``, ``recommendations``, and every hub notice by its ``type``: alerts, booking
  releases, work orders);
- ``status``: ``online`` / ``offline`` (retained; ``offline`` is the last will).

Every message carries ``seq``, one per site, increasing across restarts: a receiver keeps the
highest it has seen, ignores anything at or below it (a resend), and sees a gap only where the
bounded buffer dropped its oldest records (``gateway_uplink_dropped_records_total``).

The flow: hub callbacks (under the engine's lock) only append to an in-memory list; the uplink
thread moves that list into the disk spool every ``flush_ms`` (one fsynced transaction), feeds
the spool in sequence order to paho with at most ``window`` records unacknowledged, and deletes
records as their PUBACKs arrive. Paho resends unacknowledged records, in order, on reconnect;
after a restart the spool is replayed from its oldest record. Nothing on the ingest path waits
for the central broker. What has been committed to the local store but not yet flushed to the
spool (at most ``flush_ms`` of data) is not forwarded after a ``kill -9``; it stays in the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import paho.mqtt.client as mqtt

from gateway.errors import StoreError
from gateway.events import Event
from gateway.hub import Hub
from gateway.occupancy.accumulate import Finding, IdleEpisode
from gateway.publish.client import OutClient
from gateway.publish.spool import Entry, Spool
from gateway.supervisor import Loop

log = logging.getLogger(__name__)

MAX_PENDING_ITEMS = 200_000  # events waiting for the next flush; beyond it they are counted


def event_body(ev: Event) -> dict[str, Any]:
    """One normalized event as it travels northbound (the site is on the message)."""
    d: dict[str, Any] = {
        "device": ev.device,
        "space": ev.space,
        "ts": ev.ts,
        "kind": ev.kind,
        "quantity": ev.quantity,
        "value": ev.value,
        "unit": ev.unit,
    }
    if ev.attrs:
        d["attrs"] = ev.attrs
    return d


def finding_body(f: Finding | IdleEpisode) -> tuple[str, dict[str, Any]]:
    """The kind and JSON body of an engine finding or idle episode."""
    if isinstance(f, IdleEpisode):
        return "idle_episode", {"type": "finding", "kind": "idle_episode", **asdict(f)}
    body = asdict(f)
    body["booking"] = body.pop("ref")
    return f.kind, {"type": "finding", **body}


class Uplink:
    """Store-and-forward of the hub's events, findings and notices to a central broker."""

    def __init__(
        self,
        client: OutClient,
        spool: Spool,
        site: str,
        prefix: str,
        *,
        batch_events: int = 500,
        flush_ms: int = 200,
        window: int = 100,
        recommend: Callable[[float], list[dict[str, Any]]] | None = None,
        recommend_every_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.spool = spool
        self.site = site
        self.base = f"{prefix.rstrip('/')}/{site}"
        self.batch_events = batch_events
        self.flush_s = flush_ms / 1000.0
        self.window = window
        self.recommend = recommend
        self.recommend_every_s = recommend_every_s
        self.clock = clock
        self._pending: list[tuple[str, Any]] = []  # ("events", [Event]) or (kind, body)
        self._pending_items = 0
        self._pending_lock = threading.Lock()
        self.dropped_pending = 0  # events refused because the flush fell that far behind
        self._acked: deque[int] = deque()  # mids from paho's thread
        self._inflight: dict[int, int] = {}  # mid -> seq, owned by the uplink thread
        self._fed_upto = 0  # highest seq handed to paho in this process
        self.sent_records = 0  # acknowledged by the central broker since start
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.loop = Loop("uplink", time.time)  # the gateway hands its supervisor's record
        self._unsubscribe: list[Callable[[], None]] = []
        client.client.on_publish = self._on_publish

    # -- hub callbacks: hand off only -------------------------------------------------------
    def attach(self, hub: Hub) -> None:
        """Subscribe to the hub's ``events``, ``findings`` and ``notices`` channels."""
        self._unsubscribe = [
            hub.subscribe("events", self.on_events),
            hub.subscribe("findings", self.on_findings),
            hub.subscribe("notices", self.on_notice),
        ]

    def _hand_off(self, item: tuple[str, Any], n: int) -> None:
        with self._pending_lock:
            if self._pending_items + n > MAX_PENDING_ITEMS:
                self.dropped_pending += n
                return
            self._pending.append(item)
            self._pending_items += n

    def on_events(self, events: list[Event], _now: float) -> None:
        if events:
            self._hand_off(("events", list(events)), len(events))

    def on_findings(self, findings: list[Finding | IdleEpisode], _now: float) -> None:
        for f in findings:
            self._hand_off(finding_body(f), 1)

    def on_notice(self, notice: dict[str, Any], _now: float) -> None:
        kind = str(notice.get("type", "notice"))
        self._hand_off((kind, {**notice, "type": "finding", "kind": kind}), 1)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self.client.start()
        self._thread = threading.Thread(target=self._run, name="uplink", daemon=True)
        self.loop.thread, self.loop.stopped = self._thread, False
        self._thread.start()

    def stop(self, drain_s: float = 2.0) -> None:
        """Flush to disk, give in-flight records a moment to be acknowledged, disconnect."""
        for unsub in self._unsubscribe:
            unsub()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        deadline = time.monotonic() + drain_s
        while self._inflight and self.client.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
            self._settle()
        self.client.stop()
        self.spool.close()

    @property
    def connected(self) -> bool:
        return self.client.connected.is_set()

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    # -- the uplink thread ------------------------------------------------------------------
    def _on_publish(self, _c: mqtt.Client, _ud: Any, mid: int, _rc: Any, _props: Any) -> None:
        self._acked.append(mid)  # paho's thread: hand off, the uplink thread deletes
        self._wake.set()

    def _run(self) -> None:
        next_flush = time.monotonic()
        next_recommend = time.monotonic() + min(60.0, self.recommend_every_s)
        while True:
            stopping = self._stop.is_set()
            try:
                self.loop.beat()
                if stopping or time.monotonic() >= next_flush:
                    next_flush = time.monotonic() + self.flush_s
                    self.flush()
                self._settle()
                if self.recommend is not None and time.monotonic() >= next_recommend:
                    next_recommend = time.monotonic() + self.recommend_every_s
                    self._recommend()
                if not stopping:
                    self._feed()
            except StoreError as err:
                self.loop.failed(err, "the uplink buffer")
                self._stop.wait(1.0)
            except Exception as err:  # the uplink must outlive a bug in one pass
                self.loop.failed(err, "an uplink pass")
                self._stop.wait(1.0)
            else:
                self.loop.passed()
            if stopping:
                return
            self._wake.wait(max(0.0, min(self.flush_s, next_flush - time.monotonic())))
            self._wake.clear()

    def flush(self) -> int:
        """Move what the hub handed over into the spool; how many records were appended."""
        with self._pending_lock:
            pending, self._pending, self._pending_items = self._pending, [], 0
        if not pending:
            return 0
        entries: list[Entry] = []
        events: list[Event] = []
        for kind, payload in pending:
            if kind == "events":
                events.extend(payload)
                continue
            entries.extend(self._event_entries(events))
            events = []
            entries.append(Entry(f"{self.base}/findings/{kind}", payload))
        entries.extend(self._event_entries(events))
        try:
            return len(self.spool.append(entries, self.site))
        except StoreError:
            with self._pending_lock:  # keep them, in order, for the next try
                self._pending[:0] = pending
                self._pending_items += sum(len(p) if k == "events" else 1 for k, p in pending)
            raise

    def _event_entries(self, events: list[Event]) -> list[Entry]:
        out = []
        for i in range(0, len(events), self.batch_events):
            chunk = [event_body(e) for e in events[i : i + self.batch_events]]
            body = {"type": "events", "count": len(chunk), "events": chunk}
            out.append(Entry(f"{self.base}/events", body, len(chunk)))
        return out

    def _settle(self) -> None:
        seqs: list[int] = []
        while self._acked:
            seq = self._inflight.pop(self._acked.popleft(), None)
            if seq is not None:
                seqs.append(seq)
        if seqs:
            self.spool.delete(seqs)
            self.sent_records += len(seqs)

    def _feed(self) -> None:
        """Hand the next records, in sequence order, to paho while there is room."""
        room = self.window - len(self._inflight)
        if room <= 0 or not self.client.connected.is_set():
            return
        for rec in self.spool.read(self._fed_upto, room):
            info = self.client.client.publish(rec.topic, rec.payload, qos=1)
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                return
            # MQTT_ERR_NO_CONN still queues a QoS 1 message: paho sends it on reconnect
            self._inflight[info.mid] = rec.seq
            self._fed_upto = rec.seq

    def _recommend(self) -> None:
        assert self.recommend is not None
        try:
            items = self.recommend(self.clock())
        except Exception:  # a failing report must not stop the uplink
            log.exception("uplink: recommendations not computed")
            return
        body = {"type": "finding", "kind": "recommendations", "items": items}
        self._hand_off(("recommendations", body), 1)

    def stats(self) -> dict[str, int]:
        """Counts for /metrics."""
        return {
            "connected": int(self.connected),
            "buffered_records": self.spool.records,
            "buffered_bytes": self.spool.bytes,
            "inflight_records": len(self._inflight),
            "sent_records": self.sent_records,
            "dropped_records": self.spool.dropped_records,
            "dropped_items": self.spool.dropped_items + self.dropped_pending,
            "next_seq": self.spool.next_seq,
        }
