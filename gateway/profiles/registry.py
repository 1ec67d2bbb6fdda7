"""The profile registry: loads every profile and decodes (topic, payload) into readings fast."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gateway.errors import DecodeError, ProfileError
from gateway.events import Reading
from gateway.profiles.commands import CommandError
from gateway.profiles.convert import show
from gateway.profiles.loader import load_profile
from gateway.profiles.model import Rule
from gateway.profiles.patterns import NameMap
from gateway.profiles.predicates import Predicate
from gateway.profiles.profile import Decoded, Profile
from gateway.profiles.topic_index import TopicIndex

_UNSET: Any = object()
_INVALID: Any = object()
_MAX_KEYS_SHOWN = 8
_MAX_REASONS = 3


def profile_files(directory: Path) -> list[Path]:
    """The profile files of a directory (``*.yaml`` and ``*.yml``), sorted by name."""
    if not directory.is_dir():
        raise ProfileError(f"{directory}: not a directory of device profiles")
    return sorted(
        (p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()),
        key=lambda p: (p.stem, p.suffix),
    )


_TOPICS_MAX = 65_536  # topics whose matching rules are remembered


class ProfileRegistry:
    """Every loaded profile, indexed for decoding. Build it with :meth:`load`."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.profiles: dict[str, Profile] = {
            p.name: p for p in sorted(profiles, key=lambda p: p.name)
        }
        self.names: list[str] = list(self.profiles)
        rules = [(r.topic, r) for p in self.profiles.values() for r in p.rules]
        ignores = [(t, t) for p in self.profiles.values() for t in p.ignore]
        self._rules = TopicIndex(rules)
        self._ignores = TopicIndex(ignores)
        self._topics: dict[str, Any] = {}  # see _matches

    @classmethod
    def load(
        cls, directory: Path, variables: Mapping[str, Mapping[str, str]] | None = None
    ) -> ProfileRegistry:
        """Load every profile in ``directory``; raises ProfileError on the first bad file.

        ``variables`` sets profile variables by profile name (``{"zigbee2mqtt": {"base_topic":
        "z2m"}}``, the ``profile_variables`` setting)."""
        profiles: dict[str, Profile] = {}
        files = profile_files(directory)
        unknown = sorted(set(variables or {}) - {p.stem for p in files})
        if unknown:
            raise ProfileError(f"profile_variables name profiles that do not exist: {unknown}")
        for path in files:
            profile = load_profile(path, (variables or {}).get(path.stem))
            if profile.name in profiles:
                raise ProfileError(
                    f"{path}: profile {profile.name!r} is also defined by "
                    f"{profiles[profile.name].path}"
                )
            profiles[profile.name] = profile
        return cls(profiles.values())

    def subscriptions(self) -> list[str]:
        """MQTT topic filters covering every rule (``{x}`` becomes ``+``), deduplicated."""
        seen: dict[str, None] = {}
        for profile in self.profiles.values():
            for rule in profile.rules:
                seen.setdefault(rule.topic.filter, None)
        return list(seen)

    def silence_timeout(self, profile: str, model: str | None = None) -> float | None:
        """Seconds a device of ``profile`` (and ``model``) may stay silent before it counts as
        offline; None when the profile declares no ``availability``."""
        found = self.profiles.get(profile)
        if found is None or found.availability is None:
            return None
        return found.availability.silence_timeout(model)

    def render_command(
        self, profile: str, device_id: str, name: str, params: dict[str, Any] | None = None
    ) -> tuple[str, bytes]:
        """(topic, payload) asking ``device_id`` to do ``name``; raises CommandError."""
        found = self.profiles.get(profile)
        if found is None:
            raise CommandError(f"no profile {profile!r}")
        command = found.commands.get(name)
        if command is None:
            known = ", ".join(sorted(found.commands)) or "none"
            raise CommandError(f"profile {profile!r} has no command {name!r} (it has {known})")
        return command.render(device_id, params or {})

    def decode(
        self,
        topic: str,
        payload: bytes,
        entities: Mapping[str, NameMap[str]] | None = None,
    ) -> Decoded | None:
        """Decode one message. None when its topic is ignored on purpose.

        ``entities`` is the building's binding of topic-level names to quantities per device
        (``devices[].entities``: ESPHome object ids); select rules look it up first.
        Raises DecodeError (and nothing else) with a reason a person can act on.
        """
        try:
            return self._decode(topic, payload, entities)
        except DecodeError:
            raise
        except Exception as err:  # a safety net: the ingest loop must only ever see DecodeError
            raise DecodeError(
                f"cannot decode payload: {type(err).__name__}: {show(str(err))}"
            ) from err

    def _matches(self, topic: str) -> tuple[tuple[Rule, dict[str, str]], ...] | None:
        """The rules whose pattern matches ``topic`` with their captures (read, never
        changed), in order; None when the topic is ignored. Memoized per topic: a building's
        devices publish on the same few thousand topics, and matching each message against
        the candidate patterns again took several regex runs a message."""
        found = self._topics.get(topic, _UNSET)
        if found is not _UNSET:
            return found  # type: ignore[no-any-return]
        if any(p.regex.match(topic) for p in self._ignores.lookup(topic)):
            found = None
        else:
            found = tuple(
                (rule, m.groupdict())
                for rule in self._rules.lookup(topic)
                if (m := rule.topic.regex.match(topic)) is not None
            )
        if len(self._topics) < _TOPICS_MAX:  # a flood of fresh topics is matched, not kept
            self._topics[topic] = found
        return found  # type: ignore[no-any-return]

    def _decode(
        self, topic: str, payload: bytes, entities: Mapping[str, NameMap[str]] | None
    ) -> Decoded | None:
        matches = self._matches(topic)
        if matches is None:
            return None
        text: str | None = None
        obj: Any = _UNSET
        reasons: list[str | tuple[Rule, Predicate]] = []  # a rule's unmet condition: lazily
        json_error = ""
        for rule, captures in matches:
            if text is None:
                text = _utf8(payload)
            model = None
            refused: list[str] = []
            is_json = rule.format == "json"
            if is_json:
                if obj is _UNSET:
                    obj, json_error = _parse_json(text)
                if obj is _INVALID:
                    reasons.append(json_error)
                    continue
                if not isinstance(obj, dict):
                    reasons.append(f"payload is not a JSON object (got {type(obj).__name__})")
                    continue
            if rule.when:
                pred = rule.unmet(obj if is_json else None, captures)
                if pred is not None:
                    reasons.append((rule, pred))
                    continue
            if rule.drop:
                return None
            if is_json:
                device = rule.device(captures, obj)
                readings = rule.readings(obj, refused)
                if rule.model_key is not None:
                    model = rule.model(obj)
            else:
                value = text.strip()
                if not value:
                    reasons.append("payload is empty")
                    continue
                device = rule.device(captures, None)
                bound = entities.get(device) if entities and rule.names is not None else None
                got = rule.text_readings(value, captures, bound)
                if got is None:
                    return None  # an entity the profile or the building ignores on purpose
                readings = got
            return _outcome(rule, device, readings, model, refused, obj)
        if not reasons:
            raise DecodeError(f"no profile matches topic {show(topic)}")
        # every rule for this topic refused the payload: say why, each reason once
        said = (r if isinstance(r, str) else r[0].needs(r[1]) for r in reasons)
        raise DecodeError("; ".join(list(dict.fromkeys(said))[:_MAX_REASONS]))


def _utf8(payload: bytes) -> str:
    try:
        return bytes(payload).decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(f"payload is not valid UTF-8: {err.reason} at byte {err.start}") from err


def _outcome(
    rule: Rule,
    device: str,
    readings: list[Reading],
    model: str | None,
    refused: list[str],
    obj: Any,
) -> Decoded | None:
    """What the rule that read a message makes of it: its readings, or why it gave none."""
    if not readings:
        if rule.seen_empty:  # the device was heard: it is seen, its refusals kept
            return Decoded(rule.profile, device, readings, model, tuple(refused))
        if refused:  # nothing in it could be read: the message is refused whole
            raise DecodeError("; ".join(refused[:_MAX_REASONS]))
        if rule.ignore_empty:
            return None
        raise DecodeError(_no_readings(rule, obj if rule.format == "json" else None))
    if refused:
        return Decoded(rule.profile, device, readings, model, tuple(refused))
    return Decoded(rule.profile, device, readings, model)


def _parse_json(text: str) -> tuple[Any, str]:
    try:
        return json.loads(text), ""
    except ValueError as err:
        return _INVALID, f"payload is not valid JSON: {err}"
    except RecursionError:
        return _INVALID, "payload is not valid JSON: nested too deeply"


def _no_readings(rule: Rule, obj: Any = None) -> str:
    keys = list(dict.fromkeys(f.key for f in rule.fields))
    shown = ", ".join(keys[:_MAX_KEYS_SHOWN]) + (", ..." if len(keys) > _MAX_KEYS_SHOWN else "")
    has = ""
    if isinstance(obj, dict) and obj:  # what it does carry, so the reason says what to map
        names = [str(k)[:40] for k in obj]
        has = "; it carries " + ", ".join(names[:_MAX_KEYS_SHOWN])
        has += ", ..." if len(names) > _MAX_KEYS_SHOWN else ""
    return f"payload yields no readings (profile {rule.profile!r} reads {shown}{has})"
