"""Decode: a run of raw messages into one batch, read with one configuration snapshot.

Each message is screened (size, flood), decoded by the profiles, bound to the building and
turned into events, device updates and dead letters; a redelivered DUP is recognised here.
Nothing is written: the batch goes on to ``gateway.ingest.commit``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gateway.building.bridges import Bridge
from gateway.credential import CredentialHasher
from gateway.errors import DecodeError
from gateway.events import Event
from gateway.fastdata import positional_builder
from gateway.ingest.batch import Batch
from gateway.ingest.bridges import BridgeWatch, forced_reading, read_state, released_reading
from gateway.ingest.floods import DeadLetterLimit, UnknownDevices
from gateway.ingest.live import IngestStats
from gateway.ingest.messages import RawMessage
from gateway.ingest.readings import bound_readings
from gateway.ingest.screen import DEAD_LETTER_PREFIX, Screen, fingerprint
from gateway.ingest.storable import PROFILE_MAX, clean_device, clean_text, refusal
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable

log = logging.getLogger(__name__)
_event = positional_builder(Event)


class Decoder:
    """Turns messages into batches; one batch at a time (its own lock)."""

    def __init__(
        self,
        config: Current,
        devices: DeviceTable,
        bridges: BridgeWatch,
        hasher: CredentialHasher,
        stats: IngestStats,
        *,
        committed: Callable[[list[tuple[int, int]]], set[tuple[int, int]]],
        is_stale: Callable[[RawMessage], bool] | None = None,
        screen: Screen | None = None,
        dead_letter_limit: DeadLetterLimit | None = None,
        unknown: UnknownDevices | None = None,
    ) -> None:
        self.devices, self.bridges, self.hasher, self.stats = devices, bridges, hasher, stats
        self.config = config  # read once a batch: one building and one set of profiles
        self.committed = committed  # which (mid, digest) pairs the store committed recently
        self.is_stale = is_stale  # a message of a connection gone since (the broker resends)
        self.screen = screen
        self.dead_letter_limit = dead_letter_limit
        self.unknown = unknown
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None

    def decode(self, msgs: list[RawMessage]) -> tuple[list[RawMessage], Batch]:
        """(the messages the batch answers for, the batch). A message of a connection that
        has gone is dropped unacknowledged (the broker resends it); a DUP whose packet id and
        digest were committed recently is acknowledged again, not stored again."""
        with self._lock:
            self._snap = self.config.get()
            is_stale = self.is_stale
            if is_stale is not None:
                fresh = [m for m in msgs if not is_stale(m)]
                if len(fresh) != len(msgs):
                    self.stats.stale_dropped += len(msgs) - len(fresh)
                    log.info("dropped %d messages of a lost connection", len(msgs) - len(fresh))
                msgs = fresh
            return msgs, self._batch(msgs)

    def _batch(self, msgs: list[RawMessage]) -> Batch:
        batch = Batch()
        keys = [(m.mid, fingerprint(m)) if m.qos else (0, 0) for m in msgs]
        dups = [k for m, k in zip(msgs, keys, strict=True) if m.dup and m.qos]
        known = self.committed(dups) if dups else set()
        seen: set[tuple[int, int]] = set()
        screen = self.screen
        for m, key in zip(msgs, keys, strict=True):
            if m.qos:
                if dups:
                    if m.dup and (key in known or key in seen):
                        self.stats.redelivered += 1
                        continue
                    seen.add(key)
                batch.fingerprints.append(key)
            verdict = screen.check(m) if screen is not None else None
            if verdict is None:
                self._message(m, batch)
            elif verdict.kind == "oversized":
                self.stats.oversized += 1
                self._dead(batch, m, verdict.reason, payload=m.payload[:DEAD_LETTER_PREFIX])
            else:
                self.stats.rate_limited += 1
                if verdict.dead_letter:
                    log.warning("%s", clean_text(verdict.reason))
                    self._dead(batch, m, verdict.reason)
            batch.mark_end(m)
        if self.dead_letter_limit is not None and msgs:
            self.dead_letter_limit.tick(msgs[-1].received_at)
        return batch

    # -- one message ---------------------------------------------------------------------------
    def _message(self, m: RawMessage, batch: Batch) -> None:
        snap = self._snap
        assert snap is not None
        building = snap.building
        bridge = self.bridges.bridge_at(m.topic, building)
        if bridge is not None:
            self._bridge_state(m, batch, bridge, snap)
            return
        try:
            decoded = snap.registry.decode(m.topic, m.payload, building.entities)
        except DecodeError as err:
            self._dead(batch, m, err.reason)
            return
        if decoded is None:
            self.stats.ignored += 1
            return
        profile, device = decoded.profile, decoded.device
        why = refusal(decoded)
        if why is not None:
            self._dead(batch, m, f"cannot store it: {why}", profile, device)
            return
        binding = building.devices.get(device)
        if binding is None:
            self._dead(batch, m, f"unknown device '{device}' (read by profile '{profile}'); "
                       "bind it in the building file", profile, device)  # fmt: skip
            if self.unknown is not None:
                self._evict(batch, self.unknown.touch(device, m.received_at))
            self._touch(batch, device, profile, None, False, m.received_at, {}, None)
            return
        if binding.profile != profile:
            self._dead(batch, m, f"device '{device}' is bound to profile '{binding.profile}' "
                       f"but published as '{profile}'", profile, device)  # fmt: skip
            return
        for reason in decoded.refused:  # the fields it could not read; the rest is stored
            self._dead(batch, m, f"reading refused: {reason}", profile, device)
        readings, online = bound_readings(
            batch.events,
            (building.site.id, device, binding.space, m.received_at),
            decoded.readings,
            self.bridges.down(device, building),  # its bridge is offline
            self.bridges,
            self.hasher,
            self.stats,
        )
        self._touch(batch, device, profile, binding.space, True, m.received_at, readings, online)

    def _bridge_state(self, m: RawMessage, batch: Batch, bridge: Bridge, snap: Snapshot) -> None:
        """A bridge says it is online or offline: so are its devices (see ``ingest.bridges``)."""
        if not m.payload.strip():
            self.stats.ignored += 1  # its retained state was cleared: it says nothing
            return
        online = read_state(m.payload)
        if online is None:
            self.stats.bridge_states_refused += 1
            self._dead(batch, m, f"unreadable state of bridge '{bridge.id}': expected "
                       "online/offline (plain or {\"state\": ...}) or a ConnState",
                       bridge.profile)  # fmt: skip
            return
        changes = self.bridges.apply(bridge, online, m.received_at, snap.building)
        if changes is None:
            self.stats.ignored += 1  # the state it had (a retained replay)
            return
        log.info("bridge %s is %s: %d devices follow", bridge.id,
                 "online" if online else "offline", len(changes))  # fmt: skip
        site, ts = snap.building.site.id, m.received_at
        for c in changes:
            attrs: dict[str, Any] = {"bridge": bridge.id, "own": None} if c.unknown else {
                "bridge": bridge.id}  # fmt: skip
            ev = _event(site, c.device, c.space, ts, "availability", "online", c.online, None,
                        attrs)  # fmt: skip
            batch.events.append((ev, ts))
            reading = (
                released_reading(bridge.id, c, ts)
                if online
                else forced_reading(bridge.id, c.own, ts)
            )
            seen = self.devices.last_seen(c.device) or ts
            self._touch(batch, c.device, c.profile, c.space, True, seen, {"online": reading},
                        None if c.unknown else c.online)  # fmt: skip

    # -- what a message leaves in the batch ------------------------------------------------------
    def _dead(
        self,
        batch: Batch,
        m: RawMessage,
        reason: str,
        profile: str | None = None,
        device: str | None = None,
        payload: bytes | None = None,
    ) -> None:
        limit = self.dead_letter_limit
        if limit is not None and not limit.allow(m.received_at):
            self.stats.dead_letters_dropped += 1  # a flood of them: counted, not stored
            return
        self.stats.dead_lettered += 1
        topic, reason = clean_text(m.topic), clean_text(reason)  # storable whatever came
        if limit is None or limit.may_log(m.received_at):
            log.info("dead letter on %s: %s", topic, reason)
        assert self._snap is not None
        batch.dead_letters.append(
            {
                "site": self._snap.building.site.id,
                "topic": topic,
                "payload": self.hasher.scrub(m.payload if payload is None else payload),
                "reason": reason,
                "profile": clean_device(profile, PROFILE_MAX),
                "device": clean_device(device),
                "received_at": m.received_at,
            }
        )

    def _touch(self, batch: Batch, device: str, profile: str, space: str | None, bound: bool,
               seen: float, readings: dict[str, dict[str, Any]],
               online: bool | None) -> None:  # fmt: skip
        assert self._snap is not None
        key = (self._snap.building.site.id, device)
        batch.touch(key, profile, space, bound, seen, readings, online)

    def _evict(self, batch: Batch, gone: list[str]) -> None:
        """Discovered devices evicted over the cap: their rows go with this batch."""
        assert self._snap is not None
        site = self._snap.building.site.id
        for dev in gone:
            self.stats.unknown_evicted += 1
            batch.devices.pop((site, dev), None)
            batch.evicted.append((site, dev))
