"""A loaded profile and what it gives: its rules, samples, availability; a decoded message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.events import Reading, Value
from gateway.profiles.commands import CommandSpec
from gateway.profiles.model import Rule
from gateway.profiles.topics import TopicPattern


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one message decodes to: the profile that read it, the device, its readings."""

    profile: str
    device: str
    readings: list[Reading]
    model: str | None = None  # when the payload names the device model
    #: why some fields of the message gave no reading while others did (one reason a field)
    refused: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExpectedReading:
    """One reading a sample must produce; unit, ts and attrs are checked when given."""

    quantity: str
    value: Value
    unit: str | None = None
    check_unit: bool = False
    ts: float | None = None
    attrs: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """A recorded payload and what decoding it must give."""

    index: int
    topic: str
    payload: bytes
    name: str | None = None
    device: str | None = None
    expect: tuple[ExpectedReading, ...] | None = None
    reject: str | None = None  # a substring of the expected DecodeError reason
    ignored: bool = False
    refused: str | None = None  # a substring of the reason one field is refused with


@dataclass(frozen=True, slots=True)
class Profile:
    """A loaded profile file."""

    name: str
    path: str
    description: str
    source: str
    rules: tuple[Rule, ...]
    ignore: tuple[TopicPattern, ...]
    samples: tuple[Sample, ...]
    schema_version: int = 2
    availability: Availability | None = None
    commands: dict[str, CommandSpec] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Availability:
    """How long a device of this profile may stay silent before it counts as offline.

    ``timeouts`` is per power class (``mains``, ``battery``); ``models`` puts a model in a class;
    ``default`` is the class of a device whose model is unknown.
    """

    default: str
    timeouts: dict[str, float]
    models: dict[str, str]

    def silence_timeout(self, model: str | None) -> float:
        """The timeout of ``model``'s class: an exact model name, else the longest model name
        it starts with (Shelly ids are ``<model>-<mac>``), else the default class."""
        cls = self.default
        if model is not None:
            found = self.models.get(model)
            if found is None:
                prefixes = [m for m in self.models if model.startswith(m)]
                found = self.models[max(prefixes, key=len)] if prefixes else None
            cls = found or cls
        return self.timeouts[cls]
