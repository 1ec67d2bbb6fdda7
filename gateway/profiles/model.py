"""The compiled profile: rules, predicates, samples; a rule turns a payload into readings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from gateway.errors import DecodeError
from gateway.events import Reading, Value
from gateway.fastdata import positional_builder
from gateway.profiles.convert import (
    SKIP,
    FieldSpec,
    TimestampSpec,
    get_path,
    show,
)
from gateway.profiles.patterns import NameMap, glob_all, glob_get
from gateway.profiles.predicates import Predicate
from gateway.profiles.topics import TopicPattern

PayloadFormat = Literal["json", "text"]
AttrSpec = tuple[str, str, tuple[str, ...] | None]  # (attr name, payload key, dotted path)
_MAX_NAMES = 12
_reading = positional_builder(Reading)  # (quantity, value, unit, ts, attrs): the hot path

#: The unit each canonical quantity is reported in; None for booleans, counts and enums.
CANONICAL_UNITS: dict[str, str | None] = {
    "temperature_c": "°C",
    "humidity_pct": "%",
    "co2_ppm": "ppm",
    "pm25_ugm3": "µg/m³",
    "pm10_ugm3": "µg/m³",
    "tvoc_ppb": "ppb",
    "voc_ugm3": "µg/m³",
    "pressure_hpa": "hPa",
    "hcho_mgm3": "mg/m³",
    "noise_dba": "dBA",
    "illuminance_lux": "lx",
    "battery_pct": "%",
    "paper_pct": "%",
    "toner_pct": "%",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One topic pattern with its payload format, predicates and field map."""

    profile: str
    index: int
    topic: TopicPattern
    format: PayloadFormat
    fields: tuple[FieldSpec, ...]
    when: tuple[Predicate, ...] = ()
    timestamp: TimestampSpec | None = None
    attrs: tuple[AttrSpec, ...] = ()
    device_key: tuple[str, tuple[str, ...] | None] | None = None
    ignore_empty: bool = False
    dedupe: bool = False  # several keys feed one quantity: the first present wins
    drop: bool = False  # a matching message is ignored on purpose (``ignore: true``)
    model_key: tuple[str, tuple[str, ...] | None] | None = None  # where the payload names it
    globs: frozenset[str] = frozenset()  # field keys with a ``*``/``?`` part (``SHT3X*.Humidity``)
    names: NameMap[FieldSpec | None] | None = None  # select rules: names, patterns; None: ignore
    each: frozenset[str] = frozenset()  # ``each: true`` fields: one reading per matching sensor
    select: str | None = None  # text rules: the capture choosing the field (``by_capture``)
    by_capture: dict[str, FieldSpec] | None = None
    per_field: bool = False  # some field has its own timestamp or unit_from
    device_id: str | None = None  # ``device:``: the device a topic naming none stands for
    seen_empty: bool = False  # ``on_empty: seen``: no reading, but the device was heard

    def unmet(self, obj: dict[str, Any] | None, captures: dict[str, str]) -> Predicate | None:
        """The first ``when`` condition ``obj`` fails, or None when the rule applies. The
        sentence (:meth:`needs`) is written only if every rule refuses: most messages try a
        rule or two that do not apply before the one that does."""
        for pred in self.when:
            if not pred.holds(obj, captures):
                return pred
        return None

    def needs(self, pred: Predicate) -> str:
        """Why this rule did not apply: the condition ``pred`` (from :meth:`unmet`) failed."""
        return f"rules[{self.index}] of profile {self.profile!r} needs {pred.describe()}"

    def model(self, obj: dict[str, Any]) -> str | None:
        """The model the payload names (``model:``), if any."""
        if self.model_key is None:
            return None
        value = get_path(obj, *self.model_key)
        return value if isinstance(value, str) and value else None

    def device(self, captures: dict[str, str], obj: dict[str, Any] | None) -> str:
        if self.device_key is None:
            return captures["device"] if self.device_id is None else self.device_id
        key, path = self.device_key
        raw = get_path(obj, key, path) if obj is not None else None
        if isinstance(raw, str) and raw:
            return raw
        if isinstance(raw, int) and raw.__class__ is not bool:
            return str(raw)
        raise DecodeError(f"field {key!r}: expected a device id, got {show(raw)}")

    def readings(self, obj: dict[str, Any], refused: list[str] | None = None) -> list[Reading]:
        """The readings of a JSON object payload; raises DecodeError.

        With ``refused`` given, a field whose value cannot be read (out of bounds, wrong type,
        unknown word) refuses that reading only: its reason is appended and the other fields
        are still read. A missing required field still refuses the whole message.
        """
        ts = None
        if self.timestamp is not None:
            raw_ts = get_path(obj, self.timestamp.key, self.timestamp.path)
            if raw_ts is not None:
                ts = self.timestamp.parse(raw_ts)
        common = _attrs(obj, self.attrs) if self.attrs else None
        out: list[Reading] = []
        seen: set[str] | None = set() if self.dedupe else None
        for spec in self.fields:
            if self.each and spec.key in self.each:
                self._each(spec, obj, ts, common, out, seen, refused)
                continue
            raw = obj.get(spec.key)
            if raw is None:
                if spec.path is not None:
                    raw = get_path(obj, spec.key, spec.path)
                if raw is None and self.globs and spec.key in self.globs:
                    raw = glob_get(obj, spec.path or (spec.key,))
                if raw is None:
                    if spec.required:
                        raise spec.fail("is missing")
                    continue
            if seen is not None and spec.quantity in seen:
                continue
            try:
                if self.per_field:
                    value, at = self._special(spec, raw, obj, ts)
                else:
                    value, at = spec.convert(raw), ts
            except DecodeError as err:
                if refused is None:
                    raise
                refused.append(err.reason)
                continue
            if value is SKIP:
                continue
            if seen is not None:
                seen.add(spec.quantity)
            if common is None and not spec.attrs:
                out.append(_reading(spec.quantity, value, spec.unit, at, {}))
            else:
                out.append(_reading_with(spec, value, at, obj, common))
        return out

    def _each(
        self,
        spec: FieldSpec,
        obj: dict[str, Any],
        ts: float | None,
        common: dict[str, Any] | None,
        out: list[Reading],
        seen: set[str] | None,
        refused: list[str] | None,
    ) -> None:
        """An ``each: true`` field: a reading per sensor its key matches (payload order), each
        with ``attrs.sensor`` naming it. Fields of the quantity that are ``each`` all read;
        a plain field listed earlier that read the quantity stops them."""
        quantity = spec.quantity
        if (
            seen is not None
            and quantity in seen
            and not any(r.attrs.get("sensor") is not None for r in out if r.quantity == quantity)
        ):
            return
        for sensor, raw in glob_all(obj, spec.path or (spec.key,)):
            try:  # without per-field timestamps or units this is the plain conversion
                value, at = self._special(spec, raw, obj, ts)
            except DecodeError as err:
                if refused is None:
                    raise
                refused.append(f"{err.reason} (sensor {show(sensor)})")
                continue
            if value is SKIP:
                continue
            attrs = dict(common) if common else {}
            if spec.attrs:
                attrs.update(_attrs(obj, spec.attrs))
            attrs["sensor"] = sensor
            out.append(_reading(quantity, value, spec.unit, at, attrs))
            if seen is not None:
                seen.add(quantity)

    def _selected(self, name: str, bound: NameMap[str] | None) -> FieldSpec | None:
        """The field a select rule reads for the topic level ``name``; None: ignored."""
        assert self.names is not None
        if bound is not None:
            found, quantity = bound.find(name)
            if found:
                if quantity == "ignore":
                    return None
                for spec in self.fields:
                    if spec.quantity == quantity:
                        return replace(spec, label=name, key=name)
                have = sorted({f.quantity for f in self.fields})
                raise DecodeError(
                    f"the building binds {self.select} {show(name)} to {quantity}, which "
                    f"profile {self.profile!r} does not read on this topic (it reads "
                    f"{', '.join(have)})"
                )
        found, chosen = self.names.find(name)
        if not found:
            known = ", ".join(self.names.names()[:_MAX_NAMES])
            raise DecodeError(
                f"profile {self.profile!r} does not read {self.select} {show(name)} "
                f"(it reads {known}); bind it to a quantity in the building file "
                f"(devices[].entities) or add it to the profile"
            )
        return chosen

    @staticmethod
    def _special(
        spec: FieldSpec, raw: Any, obj: dict[str, Any], ts: float | None
    ) -> tuple[Value, float | None]:
        value = spec.convert_in(raw, obj) if spec.unit_from is not None else spec.convert(raw)
        if spec.ts is not None:
            raw_ts = get_path(obj, spec.ts.key, spec.ts.path)
            if raw_ts is not None:
                ts = spec.ts.parse(raw_ts)
        return value, ts

    def text_readings(
        self, text: str, captures: dict[str, str], bound: NameMap[str] | None = None
    ) -> list[Reading] | None:
        """The reading of a plain-text payload (one value); None when the profile (or the
        building's binding) ignores the entity on purpose.

        ``bound`` is the building's binding for the device (``entities:``, name or pattern ->
        quantity); it is looked up before the profile's own names."""
        if self.names is not None:
            spec = self._selected(captures.get(self.select or "", ""), bound)
            if spec is None:
                return None
        elif self.by_capture is not None:
            assert self.select is not None
            name = captures.get(self.select, "")
            found = self.by_capture.get(name)
            if found is None:
                known = ", ".join(sorted(self.by_capture)[:_MAX_NAMES])
                raise DecodeError(
                    f"profile {self.profile!r} does not read {self.select} {show(name)} "
                    f"(it reads {known}); add it to the profile or to its ignore list"
                )
            spec = found
        else:
            spec = self.fields[0]
        value = spec.convert(text)
        if value is SKIP:
            return []
        return [_reading_with(spec, value, None, None, None)]


def _attrs(obj: dict[str, Any], specs: tuple[AttrSpec, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, key, path in specs:
        value = get_path(obj, key, path)
        if value is not None:
            out[name] = value
    return out


def _reading_with(
    spec: FieldSpec,
    value: Value,
    ts: float | None,
    obj: dict[str, Any] | None,
    common: dict[str, Any] | None,
) -> Reading:
    if spec.attrs and obj is not None:
        attrs = dict(common) if common else {}
        attrs.update(_attrs(obj, spec.attrs))
    elif common:
        attrs = dict(common)  # a copy per reading: readings must not share a mutable dict
    else:
        return _reading(spec.quantity, value, spec.unit, ts, {})
    return _reading(spec.quantity, value, spec.unit, ts, attrs)
