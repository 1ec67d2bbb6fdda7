"""`gateway profiles try`: decode one payload with one profile; its readings, or why not."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.errors import DecodeError
from gateway.profiles.profile import Profile
from gateway.profiles.registry import ProfileRegistry
from gateway.profiles.topics import TopicPattern


@dataclass(slots=True)
class Trial:
    """The outcome of decoding one payload: readings, ignored, or the rejection reason."""

    profile: str
    topic: str
    lines: list[str] = field(default_factory=list)
    ok: bool = True


def guess_topic(profile: Profile) -> str:
    """A topic the profile's last rule (its main state topic) matches: each
    capture becomes ``<name>`` (``zigbee2mqtt/{device}`` -> ``zigbee2mqtt/device``)."""
    rule = profile.rules[-1]
    return _example(rule.topic)


def _example(pattern: TopicPattern) -> str:
    levels = []
    for level in pattern.pattern.split("/"):
        if level.startswith("{") and level.endswith("}"):
            levels.append(level[1:-1])
        elif level in ("+", "#"):
            levels.append("x")
        else:
            levels.append(level)
    return "/".join(levels)


def try_payload(profile: Profile, payload: bytes, topic: str | None = None) -> Trial:
    """Decode ``payload`` on ``topic`` (or a topic the profile reads) with ``profile`` alone."""
    topic = topic or guess_topic(profile)
    trial = Trial(profile.name, topic)
    try:
        got = ProfileRegistry([profile]).decode(topic, payload)
    except DecodeError as err:
        trial.ok = False
        trial.lines.append(f"rejected: {err.reason}")
        return trial
    if got is None:
        trial.lines.append("ignored: the profile ignores this topic or message on purpose")
        return trial
    model = f", model {got.model!r}" if got.model else ""
    trial.lines.append(f"device {got.device!r}{model}: {len(got.readings)} reading(s)")
    for r in got.readings:
        unit = f" {r.unit}" if r.unit else ""
        ts = f"  ts={r.ts:.3f}" if r.ts is not None else ""
        attrs = f"  attrs={r.attrs}" if r.attrs else ""
        trial.lines.append(f"  {r.quantity} = {r.value!r}{unit}{ts}{attrs}")
    return trial
