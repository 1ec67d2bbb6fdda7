"""Commands to devices: a named topic template and payload template, rendered with parameters.

A profile says how its devices are asked to act (``unlock``, ``release_job``, ``setback``), so
the rest of the gateway renders a command by name without knowing the vendor::

    commands:
      unlock:
        topic: acme/{device}/cmd
        payload: {action: unlock, door: "{door}", seconds: "{seconds}"}
        params: [door]                  # required
        defaults: {seconds: 5}          # optional, with their value

A string that is exactly ``"{name}"`` takes the parameter's own JSON type (a number stays a
number); inside longer text it is substituted as text. ``{device}`` is the device id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import GatewayError

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
Template = Any  # a str, or JSON-like data whose strings may hold placeholders


class CommandError(GatewayError):
    """A command cannot be rendered: unknown profile or command, or a parameter is missing."""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One named command of a profile."""

    name: str
    topic: str
    payload: Template
    params: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    qos: int = 1
    retain: bool = False

    def placeholders(self) -> set[str]:
        """Every ``{name}`` the templates use."""
        found = set(_PLACEHOLDER.findall(self.topic))
        _collect(self.payload, found)
        return found

    def render(self, device: str, params: dict[str, Any]) -> tuple[str, bytes]:
        """(topic, payload bytes); raises CommandError naming what is missing or wrong."""
        unknown = sorted(set(params) - set(self.params) - set(self.defaults))
        if unknown:
            allowed = ", ".join(sorted({*self.params, *self.defaults})) or "none"
            raise CommandError(
                f"command {self.name!r}: unknown parameter(s) {', '.join(unknown)} "
                f"(it takes {allowed})"
            )
        values: dict[str, Any] = {**self.defaults, **params, "device": device}
        missing = [p for p in self.params if p not in params]
        if missing:
            raise CommandError(f"command {self.name!r}: missing parameter(s) {', '.join(missing)}")
        for name in set(_PLACEHOLDER.findall(self.topic)):
            text = str(values[name])
            if not text or any(c in text for c in "/+#\x00"):
                raise CommandError(
                    f"command {self.name!r}: {name} {text!r} cannot be one topic level"
                )
        topic = _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.topic)
        body = _fill(self.payload, values)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return topic, data


def _collect(template: Template, found: set[str]) -> None:
    if isinstance(template, str):
        found.update(_PLACEHOLDER.findall(template))
    elif isinstance(template, dict):
        for v in template.values():
            _collect(v, found)
    elif isinstance(template, list):
        for v in template:
            _collect(v, found)


def _fill(template: Template, values: dict[str, Any]) -> Template:
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole is not None:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template
