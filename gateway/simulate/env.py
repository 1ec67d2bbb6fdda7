"""Indoor climate per space (CO2 follows people, temperature drifts) and the monitors reading it."""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import Any

from gateway.simulate.core import SimDevice, World

OUTDOOR_CO2 = 420.0


class Climate:
    """A space's air, integrated exactly between head-count changes (first-order lags)."""

    def __init__(self, world: World, space: str | None) -> None:
        self.world = world
        self.space = space
        self.rng = world.rng("climate", str(space))
        cap = world.spaces[space].space.capacity if space is not None else 0
        self.capacity = max(cap, 1)
        self.kind = world.spaces[space].space.type if space is not None else "corridor"
        self.co2 = OUTDOOR_CO2 + self.rng.uniform(0, 40)
        self.temp = self.rng.uniform(19.5, 21.0)
        self.hum = self.rng.uniform(36.0, 44.0)
        self.drift = 0.0
        self.last = world.clock.now
        world.listen(space, self._on_count)

    def _on_count(self, ts: float, old: int, _new: int) -> None:
        self._advance(ts, old)

    def _daylight(self, ts: float) -> float:
        local = datetime.fromtimestamp(ts, self.world.building.site.tz)
        hour = local.hour + local.minute / 60
        return max(0.0, math.sin(math.pi * (hour - 7) / 12)) if 7 <= hour <= 19 else 0.0

    def _targets(self, ts: float, count: int) -> tuple[float, float, float]:
        load = min(count / self.capacity, 1.6)
        co2 = OUTDOOR_CO2 + 950 * load + (60 if count else 0)
        temp = 20.5 + 1.6 * load + 0.8 * self._daylight(ts) + self.drift
        return co2, temp, 38.0 + 8.0 * load

    def settle(self, ts: float) -> None:
        """Start from the steady state of the current head count (the run starts mid-day)."""
        co2, temp, hum = self._targets(ts, self.world.count(self.space))
        self.co2 = co2 * 0.85 + self.co2 * 0.15
        self.temp, self.hum, self.last = temp, hum, ts

    def _advance(self, ts: float, count: int) -> None:
        dt = ts - self.last
        if dt <= 0:
            return
        self.last = ts
        co2_target, temp_target, hum_target = self._targets(ts, count)
        self.co2 += (co2_target - self.co2) * (1 - math.exp(-dt / 1200))
        self.temp += (temp_target - self.temp) * (1 - math.exp(-dt / 2400))
        self.hum += (hum_target - self.hum) * (1 - math.exp(-dt / 1800))
        self.drift += self.rng.gauss(0, 0.05 * math.sqrt(dt / 60))
        self.drift = max(-1.2, min(1.2, self.drift))

    def read(self, ts: float, rng: random.Random) -> dict[str, float]:
        """What a monitor measures now (with its own sensor noise)."""
        count = self.world.count(self.space)
        self._advance(ts, count)
        load = min(count / self.capacity, 1.6)
        lit = count > 0 or self.kind in ("open_area", "lounge", "corridor")
        open_now = self.world.building.site.business_hours.is_open(ts)
        day = self._daylight(ts)
        lux = (380 + 150 * day if lit and open_now else 2 + 120 * day) + rng.gauss(0, 8)
        pm25 = 3.0 + 4.0 * load + abs(rng.gauss(0, 1.0))
        return {
            "temperature": round(self.temp + rng.gauss(0, 0.05), 1),
            "humidity": round(self.hum + rng.gauss(0, 0.3), 1),
            "co2": round(self.co2 + rng.gauss(0, 8)),
            "pm25": round(pm25, 1),
            "pm10": round(pm25 * rng.uniform(1.6, 2.0), 1),
            "tvoc": round(90 + 250 * load + abs(rng.gauss(0, 10))),
            "noise": round(31 + 14 * math.log10(1 + count) + rng.gauss(0, 1.5), 1),
            "lux": max(0, round(lux)),
        }


class Climates:
    """One climate per space, created on first use."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._by_space: dict[str | None, Climate] = {}

    def settle(self, ts: float) -> None:
        """Bring every climate to the steady state of its space's current head count."""
        for climate in self._by_space.values():
            climate.settle(ts)

    def of(self, space: str | None) -> Climate:
        """The climate of ``space`` (``None``: the corridor)."""
        if space not in self._by_space:
            self._by_space[space] = Climate(self.world, space)
        return self._by_space[space]


class _Periodic(SimDevice):
    """A monitor that reports every ``period`` simulated seconds (rate-capped to real devices)."""

    period = (60.0, 60.0)

    def __init__(self, world: World, device_id: str, space: str | None, climates: Climates) -> None:
        super().__init__(world, device_id, space)
        self.climate = climates.of(space)

    def start(self, ts: float) -> None:
        self.world.clock.at(ts + self.rng.uniform(1, self.period[0]), self._tick)

    def _tick(self, ts: float) -> None:
        self.report(ts, self.climate.read(ts, self.rng))
        self.world.clock.at(ts + self.world.report_gap(self.rng.uniform(*self.period)), self._tick)

    def report(self, ts: float, air: dict[str, float]) -> None:
        raise NotImplementedError


class RefEnvironment(_Periodic):
    """``ref-environment``: every ~60 s, all eight readings."""

    def report(self, ts: float, air: dict[str, float]) -> None:
        self.world.emit(f"ref/env/{self.id}", air)


class ZigbeeAirQuality(_Periodic):
    """zigbee2mqtt air-quality box (mains powered): co2, voc, pm25, temperature, humidity."""

    period = (60.0, 120.0)

    def report(self, ts: float, air: dict[str, float]) -> None:
        payload: dict[str, Any] = {
            "co2": air["co2"],
            "voc": air["tvoc"],
            "pm25": air["pm25"],
            "temperature": air["temperature"],
            "humidity": air["humidity"],
            "linkquality": self.rng.randint(60, 200),
        }
        self.world.emit(f"zigbee2mqtt/{self.id}", payload)


class ZigbeeTempHum(_Periodic):
    """zigbee2mqtt temperature/humidity sensor (battery): reports every few minutes."""

    period = (180.0, 300.0)

    def __init__(self, world: World, device_id: str, space: str | None, climates: Climates) -> None:
        super().__init__(world, device_id, space, climates)
        self.battery = self.rng.randint(55, 100)

    def report(self, ts: float, air: dict[str, float]) -> None:
        payload = {
            "temperature": air["temperature"],
            "humidity": air["humidity"],
            "battery": self.battery,
            "linkquality": self.rng.randint(40, 180),
        }
        self.world.emit(f"zigbee2mqtt/{self.id}", payload)
