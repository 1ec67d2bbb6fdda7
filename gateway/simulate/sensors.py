"""Occupancy sensors as real ones behave: PIR repeats and times out; presence, counts on change."""

from __future__ import annotations

from typing import Any

from gateway.simulate.core import SimDevice, World
from gateway.simulate.env import Climates

#: How soon the simulated sensors tell of a change (what a harness must allow for).
FIRST_MOTION_S = (1.0, 10.0)  # a PIR sees someone who walked in this long after
SETTLE_S = (1.0, 5.0)  # a presence radar settles this long after the room changed
DEBOUNCE_S = (0.5, 2.0)  # a counter reports a changed count this long after
HEARTBEAT_S = 900.0  # on-change sensors still report now and then


class Pir(SimDevice):
    """PIR motion sensor: ``ref-occupancy`` (``motion``) or zigbee2mqtt (``occupancy``).

    While people are in it reports motion every ``pir_repeat_s`` (the Aqara RTCGQ11LM sees
    motion at most once a minute); with ``still_share`` people sometimes sit still up to
    ``still_max_s``. ``pir_clear_s`` after the last motion it says "no motion", as
    zigbee2mqtt's ``occupancy_timeout`` does (default 90 s; zigbee2mqtt.io
    docs/devices/RTCGQ11LM.md) -- also during a long sit-still with people still there.
    """

    def __init__(self, world: World, device_id: str, space: str | None, climates: Climates) -> None:
        super().__init__(world, device_id, space)
        self.zigbee = False
        self.climate = climates.of(space)
        self.battery = self.rng.randint(50, 100)
        self.moving = False  # a motion report is scheduled
        self.reported = False  # the last report said motion
        self.last_motion = 0.0
        world.listen(space, self._on_count)

    def start(self, ts: float) -> None:
        self._report(False)
        if self.world.count(self.space) > 0:
            self._wake(ts)

    def resume(self, ts: float) -> None:
        self._report(False)
        if self.world.count(self.space) > 0 and not self.moving:
            self._wake(ts)

    def _on_count(self, ts: float, old: int, new: int) -> None:
        if new > 0 and not self.moving:
            self._wake(ts)

    def _wake(self, ts: float) -> None:
        self.moving = True
        self.world.clock.at(ts + self.rng.uniform(*FIRST_MOTION_S), self._motion)

    def _motion(self, ts: float) -> None:
        if self.world.count(self.space) == 0:
            self.moving = False
            return
        b = self.world.behaviour
        self.last_motion = ts
        self._report(True)
        self.world.clock.at(ts + b.pir_clear_s, self._clear)
        gap = self.rng.uniform(*b.pir_repeat_s)
        still = b.still_max_s > b.pir_repeat_s[1]
        if still and self.rng.random() < b.still_share:
            gap = self.rng.uniform(b.pir_repeat_s[1], b.still_max_s)  # sitting still
        self.world.clock.at(ts + self.world.gap(gap), self._motion)

    def _clear(self, ts: float) -> None:
        if self.reported and ts >= self.last_motion + self.world.behaviour.pir_clear_s - 1e-6:
            self._report(False)

    def _report(self, motion: bool) -> None:
        self.reported = motion
        if not self.zigbee:
            payload: dict[str, Any] = {"motion": motion}
            if self.rng.random() < 0.1:
                payload["battery"] = self.battery
            self.world.emit(f"ref/occupancy/{self.id}", payload)
            return
        lux = self.climate.read(self.world.clock.now, self.rng)["lux"]
        payload = {
            "occupancy": motion,
            "battery": self.battery,
            "illuminance": lux,
            "linkquality": self.rng.randint(40, 200),
        }
        self.world.emit(f"zigbee2mqtt/{self.id}", payload)


class ZigbeePir(Pir):
    """zigbee2mqtt PIR (Aqara RTCGQ11LM and the like): ``occupancy`` means motion."""

    def __init__(self, world: World, device_id: str, space: str | None, climates: Climates) -> None:
        super().__init__(world, device_id, space, climates)
        self.zigbee = True


class Presence(SimDevice):
    """mmWave or desk presence sensor: reports on change (after a short settle) and as heartbeat."""

    def __init__(self, world: World, device_id: str, space: str | None, *, zigbee: bool) -> None:
        super().__init__(world, device_id, space)
        self.zigbee = zigbee
        self.state = False
        self.battery = self.rng.randint(60, 100)
        world.listen(space, self._on_count)

    def start(self, ts: float) -> None:
        self.state = self.world.count(self.space) > 0
        self._report()
        self.world.clock.at(ts + self.rng.uniform(0.2, 1.0) * HEARTBEAT_S, self._heartbeat)

    def _on_count(self, ts: float, old: int, new: int) -> None:
        if (new > 0) != self.state:
            self.world.clock.at(ts + self.rng.uniform(*SETTLE_S), self._settle)

    def resume(self, ts: float) -> None:
        self.state = self.world.count(self.space) > 0
        self._report()

    def _settle(self, ts: float) -> None:
        now = self.world.count(self.space) > 0
        if now != self.state:
            self.state = now
            self._report()

    def _heartbeat(self, ts: float) -> None:
        self._report()
        self.world.clock.at(ts + self.world.report_gap(HEARTBEAT_S), self._heartbeat)

    def _report(self) -> None:
        if self.zigbee:
            payload = {"presence": self.state, "linkquality": self.rng.randint(60, 200)}
            self.world.emit(f"zigbee2mqtt/{self.id}", payload)
        else:
            body: dict[str, Any] = {"presence": self.state}
            if self.rng.random() < 0.1:
                body["battery"] = self.battery
            self.world.emit(f"ref/occupancy/{self.id}", body)


class Counter(SimDevice):
    """``ref-counter``: people in the space now, on change (debounced) and as heartbeat."""

    def __init__(self, world: World, device_id: str, space: str | None) -> None:
        super().__init__(world, device_id, space)
        self.sent = -1
        self.pending = False
        world.listen(space, self._on_count)

    def start(self, ts: float) -> None:
        self._report(ts)
        self.world.clock.at(ts + self.rng.uniform(0.2, 1.0) * HEARTBEAT_S, self._heartbeat)

    def _on_count(self, ts: float, old: int, new: int) -> None:
        if not self.pending:
            self.pending = True
            self.world.clock.at(ts + self.rng.uniform(*DEBOUNCE_S), self._flush)

    def resume(self, ts: float) -> None:
        self._report(ts)

    def _flush(self, ts: float) -> None:
        self.pending = False
        if self.world.count(self.space) != self.sent:
            self._report(ts)

    def _heartbeat(self, ts: float) -> None:
        self._report(ts)
        self.world.clock.at(ts + self.world.report_gap(HEARTBEAT_S), self._heartbeat)

    def _report(self, ts: float) -> None:
        self.sent = self.world.count(self.space)
        self.world.emit(f"ref/counter/{self.id}", {"count": self.sent})


class ZigbeeContact(SimDevice):
    """zigbee2mqtt door contact on a room door: opens when people pass (``contact: false``)."""

    def __init__(self, world: World, device_id: str, space: str | None) -> None:
        super().__init__(world, device_id, space)
        self.battery = self.rng.randint(50, 100)
        self.closed = True
        self.close_at = 0.0
        world.listen(space, self._on_count)

    def start(self, ts: float) -> None:
        self._report()
        self.world.clock.at(
            ts + self.world.report_gap(self.rng.uniform(600, 3000)), self._heartbeat
        )

    def _on_count(self, ts: float, old: int, new: int) -> None:
        self.close_at = ts + self.rng.uniform(3, 8)
        if self.closed:
            self.closed = False
            self.world.clock.at(ts + 0.5, lambda _t: self._report())
            self.world.clock.at(self.close_at, self._close)

    def _close(self, ts: float) -> None:
        if ts < self.close_at:  # someone else came through: stay open a bit longer
            self.world.clock.at(self.close_at, self._close)
            return
        self.closed = True
        self._report()

    def _heartbeat(self, ts: float) -> None:
        self._report()
        self.world.clock.at(ts + self.world.report_gap(3000), self._heartbeat)

    def _report(self) -> None:
        payload = {
            "contact": self.closed,
            "battery": self.battery,
            "linkquality": self.rng.randint(40, 200),
        }
        self.world.emit(f"zigbee2mqtt/{self.id}", payload)
