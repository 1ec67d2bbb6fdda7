"""Scripted parts of a simulated day: who is in a space when, and sensors that die or come back."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from gateway.building import DeviceBinding
from gateway.simulate.core import SimDevice, World

#: (start, end) epoch seconds of one person's stay.
Visit = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Outage:
    """A sensor that dies at ``start``: from then on nothing it says reaches the broker.

    ``announce_s``: zigbee2mqtt's availability feature publishes ``{"state": "offline"}``
    this long after (its ``availability.active/passive.timeout``; zigbee2mqtt.io
    guide/configuration/device-availability); None: nobody says so, the device just goes
    quiet. ``end``: it comes back (online again, its state reported anew); None: for good.
    """

    device: str
    start: float
    end: float | None = None
    announce_s: float | None = None


@dataclass(slots=True)
class Script:
    """What a run plays instead of the seeded plan: the visits of some spaces, outages."""

    visits: dict[str, list[Visit]] = field(default_factory=dict)
    outages: list[Outage] = field(default_factory=list)


class _Visitors(Protocol):
    scripted: dict[str, list[Visit]]


class Traffic(Protocol):
    """What a script plays on: the world, its people and its devices by id."""

    @property
    def world(self) -> World: ...
    @property
    def people(self) -> _Visitors: ...
    @property
    def by_id(self) -> dict[str, tuple[DeviceBinding, SimDevice]]: ...


def device_topic(binding: DeviceBinding, device: SimDevice) -> str:
    """The topic a simulated device publishes its readings on."""
    topic = getattr(device, "topic", None)
    if isinstance(topic, str):
        return topic
    if binding.profile == "zigbee2mqtt":
        return f"zigbee2mqtt/{binding.id}"
    kind = binding.profile.removeprefix("ref-")
    return f"ref/{kind}/{binding.id}"


def apply(traffic: Traffic, script: Script) -> None:
    """Hand the scripted visits to the people and schedule the outages."""
    traffic.people.scripted.update(script.visits)
    for outage in script.outages:
        if outage.device not in traffic.by_id:
            raise KeyError(f"outage of an unknown device {outage.device!r}")
        clock = traffic.world.clock
        clock.at(outage.start, partial(_die, traffic, outage))
        if outage.end is not None:
            clock.at(outage.end, partial(_revive, traffic, outage))


def _availability(traffic: Traffic, device: str, state: str) -> None:
    traffic.world.emit(f"zigbee2mqtt/{device}/availability", {"state": state})


def _die(traffic: Traffic, outage: Outage, ts: float) -> None:
    binding, device = traffic.by_id[outage.device]
    traffic.world.muted.add(device_topic(binding, device))
    if outage.announce_s is not None and binding.profile == "zigbee2mqtt":
        traffic.world.clock.at(
            ts + outage.announce_s, lambda _t: _availability(traffic, outage.device, "offline")
        )


def _revive(traffic: Traffic, outage: Outage, ts: float) -> None:
    binding, device = traffic.by_id[outage.device]
    traffic.world.muted.discard(device_topic(binding, device))
    if binding.profile == "zigbee2mqtt":
        _availability(traffic, outage.device, "online")
    device.resume(ts)
