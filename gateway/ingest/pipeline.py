"""The worker: decode raw messages through the profiles, bind them to the building, commit, ack.

It runs the same from a live broker or from a list of recorded messages (``process``), which
is how the tests feed real payloads through the real path. A batch is ``prepare``d (screened,
decoded, bound) and then ``commit``ted (written, acknowledged, applied); the live worker
(``gateway.ingest.worker``) overlaps preparing one batch with committing the previous one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gateway.building import Building
from gateway.building.bridges import Bridge
from gateway.credential import CredentialHasher
from gateway.errors import DecodeError
from gateway.events import KIND_OF, Event
from gateway.fastdata import positional_builder
from gateway.ingest.bridges import (
    BridgeWatch,
    forced_reading,
    read_state,
    released_reading,
)
from gateway.ingest.floods import DeadLetterLimit, UnknownDevices
from gateway.ingest.handoff import Handoff
from gateway.ingest.isolate import commit_isolating
from gateway.ingest.live import IngestStats
from gateway.ingest.messages import RawMessage
from gateway.ingest.screen import DEAD_LETTER_PREFIX, Screen, fingerprint
from gateway.ingest.storable import PROFILE_MAX, clean_device, clean_text, refusal
from gateway.ingest.worker import run_worker
from gateway.profiles import ProfileRegistry
from gateway.state.devices import DeviceTable
from gateway.store.refusals import StoreDataError
from gateway.store.writer import Batch, BatchWriter, DeviceUpdate
from gateway.supervisor import Supervisor

__all__ = ["IngestStats", "Pipeline"]

log = logging.getLogger(__name__)

MAX_FUTURE_SKEW_S = 60.0  # a device clock ahead of ours by more than this is not believed
MAX_PAST_SKEW_S = 86_400.0  # nor one a day behind: bridges batch, but not for days
_event = positional_builder(Event)  # every field positionally: the hot path builds ~4 a message


class Pipeline:
    """Decode, bind, batch, commit, then acknowledge and apply to the live state."""

    def __init__(
        self,
        building: Building,
        registry: ProfileRegistry,
        writer: BatchWriter,
        *,
        devices: DeviceTable,
        apply: Callable[[list[Event], float], None],
        ack: Callable[[int, int], None] = lambda mid, qos: None,
        ack_message: Callable[[RawMessage], bool] | None = None,
        ack_batch: Callable[[list[RawMessage]], None] | None = None,
        is_stale: Callable[[RawMessage], bool] | None = None,
        screen: Screen | None = None,
        batch_size: int = 500,
        batch_ms: int = 50,
        clock: Callable[[], float] = time.time,
        hasher: CredentialHasher | None = None,
        dead_letter_limit: DeadLetterLimit | None = None,
        max_unknown_devices: int = 0,
        bridges: BridgeWatch | None = None,
    ) -> None:
        self.building = building
        # each bridge's state, and what its devices said of themselves meanwhile
        self.bridges = bridges if bridges is not None else BridgeWatch(building)
        devices.force_offline(self.bridges.seed(devices.all()))
        # credentials are hashed with the site's key; without one, a key of this pipeline's own
        self.hasher = hasher or CredentialHasher.ephemeral(building.site.id)
        self.registry = registry
        self.writer = writer
        self.devices = devices
        self.apply = apply
        # set by the live worker while it runs: hands the events to its applying thread
        self.apply_later: Callable[[list[Event], float], None] | None = None
        # the live worker's threads report their passes here (the gateway sets its own)
        self.supervisor = Supervisor()
        self.ack = ack
        self.ack_message = ack_message
        self.ack_batch = ack_batch
        self.is_stale = is_stale
        self.screen = screen
        self.crash_after_batches = 0  # tests: exit right after this many commits, before acks
        self.batch_size = batch_size
        self.batch_s = batch_ms / 1000
        self.clock = clock
        self.stats = IngestStats()
        self.store_ok = True
        # since when (monotonic) the store has refused batches: the broker holds the stream
        # meanwhile, and what it queued is a backlog when the store is back
        self.refused_since: float | None = None
        # batches prepared and not yet committed (the live worker runs one ahead)
        self._in_flight = 0
        self._flight = threading.Condition()
        # bounds against a flood of fresh topics (None, 0: unbounded)
        self.dead_letter_limit = dead_letter_limit
        self.unknown = UnknownDevices(max_unknown_devices) if max_unknown_devices else None
        if self.unknown is not None:
            self.unknown.load(devices.unbound_seen())

    # -- the loop ---------------------------------------------------------------------------
    def run(self, source: Handoff, stop: threading.Event) -> None:
        """Drain ``source`` in batches until ``stop`` is set and the queue is empty."""
        run_worker(self, source, stop)

    def begin_flight(self) -> None:
        with self._flight:
            self._in_flight += 1

    def idle(self) -> bool:
        """True when no prepared batch is waiting or being committed."""
        return self._in_flight == 0

    def end_flight(self) -> None:
        with self._flight:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._flight.notify_all()

    # -- one batch --------------------------------------------------------------------------
    def process(self, msgs: Iterable[RawMessage]) -> Batch:
        """Decode and commit ``msgs`` as one batch, acknowledge them, apply them to live state."""
        kept, batch = self.prepare(msgs)
        self.commit(kept, batch)
        return batch

    def prepare(
        self, msgs: Iterable[RawMessage], after_earlier: bool = True
    ) -> tuple[list[RawMessage], Batch]:
        """Screen and decode ``msgs`` into a batch; (the messages it answers for, the batch).

        A message from a connection that has gone is dropped unacknowledged (the broker
        resends it). A DUP whose packet id and digest were committed recently is a redelivery
        of a message whose PUBACK was lost: acknowledged again, not stored again. A repeated
        reading that is not a DUP is a new message and stored. A batch holding DUPs waits
        until every earlier batch has committed (``after_earlier``), so the redelivery of a
        message in a batch still committing is recognised too.
        """
        msgs = list(msgs)
        if after_earlier and any(m.dup and m.qos for m in msgs):
            with self._flight:
                self._flight.wait_for(lambda: self._in_flight == 0)
        return self.build(msgs)

    def build(self, msgs: list[RawMessage]) -> tuple[list[RawMessage], Batch]:
        """``prepare`` without waiting for earlier batches."""
        if self.is_stale is not None:
            fresh = [m for m in msgs if not self.is_stale(m)]
            if len(fresh) != len(msgs):
                self.stats.stale_dropped += len(msgs) - len(fresh)
                log.info("dropped %d messages of a lost connection", len(msgs) - len(fresh))
            msgs = fresh
        batch = Batch()
        keys = [(m.mid, fingerprint(m)) if m.qos else (0, 0) for m in msgs]
        dups = [k for m, k in zip(msgs, keys, strict=True) if m.dup and m.qos]
        known = self.writer.committed(dups) if dups else set()
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
                self._decode_into(m, batch)
            elif verdict.kind == "oversized":
                self.stats.oversized += 1
                self._dead(batch, m, verdict.reason, payload=m.payload[:DEAD_LETTER_PREFIX])
            else:
                self.stats.rate_limited += 1
                if verdict.dead_letter:
                    log.warning("%s", clean_text(verdict.reason))
                    self._dead(batch, m, verdict.reason)
            batch.parts.append((m, len(batch.events), len(batch.dead_letters),
                                len(batch.fingerprints), len(batch.touches)))  # fmt: skip
        if self.dead_letter_limit is not None and msgs:
            self.dead_letter_limit.tick(msgs[-1].received_at)
        return msgs, batch

    def allow_backlog(self, held_s: float, why: str) -> None:
        """The broker held messages for the gateway ``held_s`` seconds: what it queued
        meanwhile is a backlog, not a flood, up to the rate the flood limit allows."""
        allowance = self.screen.allow_backlog(held_s, time.time()) if self.screen else 0.0
        if allowance:
            log.info(
                "backlog (%s): the broker held messages for %.1f s; each topic may pass up "
                "to %.0f queued messages above its burst",
                why,
                held_s,
                allowance,
            )

    def commit(self, msgs: list[RawMessage], batch: Batch) -> None:
        """Write ``batch``, then acknowledge ``msgs`` and apply the batch to the live state.

        Raises StoreError (nothing acknowledged) when the store refuses it. When it refuses
        it for its data, the messages it refuses are dead-lettered and the rest committed."""
        if not batch.written:
            self._settle_devices(batch)
            try:
                self.writer.write(batch)
            except StoreDataError as err:
                landed = commit_isolating(self, batch, err)
                batch.events, batch.devices = landed.events, landed.devices
                batch.written = True
        self.store_ok = True
        if self.refused_since is not None:  # before the acks let the broker send the rest
            held, self.refused_since = time.monotonic() - self.refused_since, None
            self.allow_backlog(held, "the store took writes again")
        if self.crash_after_batches and self.writer.batches_written >= self.crash_after_batches:
            os._exit(137)  # fault injection for tests: committed, never acknowledged
        if self.ack_batch is not None:
            self.ack_batch(msgs)
        elif self.ack_message is not None:
            for m in msgs:
                self.ack_message(m)
        else:
            for m in msgs:
                self.ack(m.mid, m.qos)
        self.stats.committed += len(msgs)
        try:  # committed and acknowledged: whatever happens now, never process it again
            self._apply_devices(batch)
            if batch.events:
                (self.apply_later or self.apply)([e for e, _ in batch.events], self.clock())
        except Exception:
            log.exception("applying a committed batch to the live state failed")

    def _decode_into(self, m: RawMessage, batch: Batch) -> None:
        site = self.building.site.id
        bridge = self.bridges.bridge_at(m.topic, self.building)
        if bridge is not None:
            self._bridge_state(m, batch, bridge)
            return
        try:
            decoded = self.registry.decode(m.topic, m.payload, self.building.entities)
        except DecodeError as err:
            self._dead(batch, m, err.reason)
            return
        if decoded is None:
            self.stats.ignored += 1
            return
        why = refusal(decoded)
        if why is not None:
            self._dead(batch, m, f"cannot store it: {why}", decoded.profile, decoded.device)
            return
        binding = self.building.devices.get(decoded.device)
        if binding is None:
            self._dead(
                batch,
                m,
                f"unknown device '{decoded.device}' (read by profile '{decoded.profile}'); "
                "bind it in the building file",
                decoded.profile,
                decoded.device,
            )
            if self.unknown is not None:
                self._evict(batch, self.unknown.touch(decoded.device, m.received_at))
            self._touch(
                batch, decoded.device, decoded.profile, None, False, m.received_at, {}, None
            )
            return
        if binding.profile != decoded.profile:
            self._dead(
                batch,
                m,
                f"device '{decoded.device}' is bound to profile '{binding.profile}' "
                f"but published as '{decoded.profile}'",
                decoded.profile,
                decoded.device,
            )
            return
        for reason in decoded.refused:  # the fields it could not read; the rest is stored
            self._dead(batch, m, f"reading refused: {reason}", decoded.profile, decoded.device)
        readings: dict[str, dict[str, Any]] = {}
        online: bool | None = None
        held = self.bridges.down(decoded.device, self.building)  # its bridge is offline
        for r in decoded.readings:
            ts = m.received_at
            if r.ts is not None:
                if (
                    r.ts - m.received_at > MAX_FUTURE_SKEW_S
                    or m.received_at - r.ts > MAX_PAST_SKEW_S
                ):
                    self.stats.clock_corrected += 1
                    log.warning(
                        "device %s clock is off by %.0f s; using receive time",
                        decoded.device,
                        r.ts - m.received_at,
                    )
                else:
                    ts = r.ts
            q, value, attrs = r.quantity, r.value, r.attrs
            if q == "online":
                self.bridges.heard(decoded.device, bool(value))
                if held is not None:  # remembered for when the bridge is back, not applied
                    continue
            if q == "badge" or (attrs and "credential" in attrs):
                value, attrs = self.hasher.protect(q, value, attrs)  # never store a card number
            ev = _event(
                site,
                decoded.device,
                binding.space,
                ts,
                KIND_OF.get(q, "measurement"),
                q,
                value,
                r.unit,
                attrs,
            )
            batch.events.append((ev, m.received_at))
            if q == "online":
                online = bool(value)
            # several sensors of one quantity (Tasmota DS18B20-1, -2): the first is the live one
            readings.setdefault(q, {"value": value, "unit": r.unit, "ts": ts})
        if held is not None:  # whatever it said, it stays offline while its bridge is
            own = self.bridges.own.get(decoded.device)
            if readings:
                ev = _event(site, decoded.device, binding.space, m.received_at, "availability",
                            "online", False, None, {"bridge": held})  # fmt: skip
                batch.events.append((ev, m.received_at))
            readings["online"] = forced_reading(held, own, m.received_at)
            online = False
        self._touch(
            batch,
            decoded.device,
            decoded.profile,
            binding.space,
            True,
            m.received_at,
            readings,
            online,
        )

    def _bridge_state(self, m: RawMessage, batch: Batch, bridge: Bridge) -> None:
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
        changes = self.bridges.apply(bridge, online, m.received_at, self.building)
        if changes is None:
            self.stats.ignored += 1  # the state it had (a retained replay)
            return
        log.info("bridge %s is %s: %d devices follow", bridge.id,
                 "online" if online else "offline", len(changes))  # fmt: skip
        site, ts = self.building.site.id, m.received_at
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
        batch.dead_letters.append(
            {
                "site": self.building.site.id,
                "topic": topic,
                "payload": self.hasher.scrub(m.payload if payload is None else payload),
                "reason": reason,
                "profile": clean_device(profile, PROFILE_MAX),
                "device": clean_device(device),
                "received_at": m.received_at,
            }
        )

    def _touch(
        self,
        batch: Batch,
        device: str,
        profile: str,
        space: str | None,
        bound: bool,
        seen: float,
        readings: dict[str, dict[str, Any]],
        online: bool | None,
    ) -> None:
        key = (self.building.site.id, device)
        batch.touches.append((key, profile, space, bound, seen, readings, online))
        u = batch.devices.get(key)
        if u is None:
            u = batch.devices[key] = DeviceUpdate(profile, space, bound, seen, seen)
        u.absorb(seen, readings, online)

    def settle_devices(self, batch: Batch) -> None:
        """``_settle_devices`` (for a part of a batch written on its own)."""
        self._settle_devices(batch)

    def _settle_devices(self, batch: Batch) -> None:
        self.devices.settle(batch.devices)

    def _evict(self, batch: Batch, gone: list[str]) -> None:
        """Discovered devices evicted over the cap: their rows go with this batch."""
        site = self.building.site.id
        for dev in gone:
            self.stats.unknown_evicted += 1
            batch.devices.pop((site, dev), None)
            batch.evicted.append((site, dev))

    def _apply_devices(self, batch: Batch) -> None:
        self.devices.apply(batch.devices, batch.evicted)
