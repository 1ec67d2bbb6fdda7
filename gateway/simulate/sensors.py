"""Occupancy sensors as real ones behave: PIR repeats and times out; presence, counts on change."""

from __future__ import annotations

from typing import Any

from gateway.simulate.core import SimDevice, World
from gateway.simulate.env import Climates

PIR_TIMEOUT_S = 90.0  # a PIR reports "no motion" this long after the last motion it saw
PIR_REPEAT_S = (30.0, 60.0)  # while people move, motion is reported again this often
HEARTBEAT_S = 900.0  # on-change sensors still report now and then


class Pir(SimDevice):
    """PIR motion sensor: ``ref-occupancy`` (``motion``) or zigbee2mqtt (``occupancy``)."""

    def __init__(self, world: World, device_id: str, space: str | None, climates: Climates) -> None:
        super().__init__(world, device_id, space)
        self.zigbee = False
        self.climate = climates.of(space)
        self.battery = self.rng.randint(50, 100)
        self.active = False  # between first motion and the timeout's "false"
        self.last_motion = 0.0
        world.listen(space, self._on_count)

    def start(self, ts: float) -> None:
        self._report(False)
        if self.world.count(self.space) > 0:
            self._wake(ts)

    def _on_count(self, ts: float, old: int, new: int) -> None:
        if new > 0 and not self.active:
            self._wake(ts)

    def _wake(self, ts: float) -> None:
        self.active = True
        self.world.clock.at(ts + self.rng.uniform(1, 10), self._tick)

    def _tick(self, ts: float) -> None:
        if self.world.count(self.space) > 0:
            self.last_motion = ts
            self._report(True)
            self.world.clock.at(ts + self.world.gap(self.rng.uniform(*PIR_REPEAT_S)), self._tick)
        else:
            self.world.clock.at(self.last_motion + PIR_TIMEOUT_S, self._expire)

    def _expire(self, ts: float) -> None:
        if self.world.count(self.space) > 0:
            self.world.clock.at(ts + self.rng.uniform(1, 10), self._tick)
        else:
            self.active = False
            self._report(False)

    def _report(self, motion: bool) -> None:
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
            self.world.clock.at(ts + self.rng.uniform(1, 5), self._settle)

    def _settle(self, ts: float) -> None:
        now = self.world.count(self.space) > 0
        if now != self.state:
            self.state = now
            self._report()

    def _heartbeat(self, ts: float) -> None:
        self._report()
        self.world.clock.at(ts + self.world.gap(HEARTBEAT_S), self._heartbeat)

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
            self.world.clock.at(ts + self.rng.uniform(0.5, 2.0), self._flush)

    def _flush(self, ts: float) -> None:
        self.pending = False
        if self.world.count(self.space) != self.sent:
            self._report(ts)

    def _heartbeat(self, ts: float) -> None:
        self._report(ts)
        self.world.clock.at(ts + self.world.gap(HEARTBEAT_S), self._heartbeat)

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
        self.world.clock.at(ts + self.world.gap(self.rng.uniform(600, 3000)), self._heartbeat)

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
        self.world.clock.at(ts + self.world.gap(3000), self._heartbeat)

    def _report(self) -> None:
        payload = {
            "contact": self.closed,
            "battery": self.battery,
            "linkquality": self.rng.randint(40, 200),
        }
        self.world.emit(f"zigbee2mqtt/{self.id}", payload)
