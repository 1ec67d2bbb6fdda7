"""A door's request as it arrives: which door asked (from the topic), what it asked (the body).

``parse_request`` reads ``{"request": "r-123", "credential": "04A1B2C3", ...}``: the request
id a string or number, the credential anything but null (a card reads as any type).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Decision:
    granted: bool
    reason: str
    member: str | None
    grant: str | None = None


def door_of(pattern: str, topic: str) -> str | None:
    """The door id: the topic's segment where ``pattern`` has ``+`` (None if it does not match)."""
    p, t = pattern.split("/"), topic.split("/")
    if len(p) != len(t):
        return None
    door = None
    for a, b in zip(p, t, strict=True):
        if a == "+":
            door = b
        elif a != b:
            return None
    return door


def parse_request(payload: bytes) -> tuple[str, Any]:
    """(request id cut to 128 characters, credential); raises on any body that is neither."""
    body = json.loads(payload)
    request, credential = body["request"], body["credential"]
    if not isinstance(request, str | int) or credential is None:  # a card: any type
        raise TypeError("request must be a string or number, credential not null")
    return str(request)[:128], credential


def rarely(count: int) -> bool:
    """Whether the ``count``-th of a repeated warning is logged: the first ten, then every
    thousandth."""
    return count <= 10 or count % 1000 == 0
