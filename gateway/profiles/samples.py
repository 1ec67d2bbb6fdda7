"""Sample payloads in a profile: loading them, and running them against a registry."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Protocol

from gateway.errors import DecodeError
from gateway.events import QUANTITIES, Reading
from gateway.profiles.convert import TimestampSpec
from gateway.profiles.profile import Decoded, ExpectedReading, Sample

if TYPE_CHECKING:
    from gateway.profiles.validate import Ctx

_SAMPLE_KEYS = {
    "name",
    "source",
    "topic",
    "payload",
    "device",
    "expect",
    "reject",
    "ignored",
    "refused",
}
_EXPECT_KEYS = {"quantity", "value", "unit", "ts", "attrs"}
_ISO = TimestampSpec(key="ts", path=None, format="auto")


class Decoder(Protocol):
    def decode(self, topic: str, payload: bytes) -> Decoded | None: ...


def load_samples(ctx: Ctx, raw: Any) -> tuple[Sample, ...]:
    """Validate the ``samples:`` list of a profile."""
    return tuple(_sample(ctx, i, s) for i, s in enumerate(ctx.list_of(raw, "samples")))


def _sample(ctx: Ctx, index: int, raw: Any) -> Sample:
    where = f"samples[{index}]"
    spec = ctx.mapping(raw, where, _SAMPLE_KEYS)
    for key in ("topic", "payload"):
        if key not in spec:
            ctx.fail(f"{where}.{key}", "is missing")
    outcomes = [k for k in ("expect", "reject", "ignored") if k in spec]
    if len(outcomes) != 1:
        ctx.fail(where, "give exactly one of expect (readings), reject (reason) or ignored: true")
    payload = spec["payload"]
    if isinstance(payload, str):
        data = payload.encode("utf-8")
    else:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    expect = None
    if "expect" in spec:
        items = ctx.list_of(spec["expect"], f"{where}.expect")
        expect = tuple(_expected(ctx, e, f"{where}.expect[{i}]") for i, e in enumerate(items))
    if "ignored" in spec and spec["ignored"] is not True:
        ctx.fail(f"{where}.ignored", "must be true when given")
    refused = None
    if "refused" in spec:  # a field refused while the rest of the message is read
        if expect is None:
            ctx.fail(f"{where}.refused", "goes with expect (the readings still given)")
        refused = ctx.string(spec["refused"], f"{where}.refused")
    return Sample(
        index=index,
        topic=ctx.string(spec["topic"], f"{where}.topic"),
        payload=data,
        name=ctx.string(spec["name"], f"{where}.name") if "name" in spec else None,
        device=ctx.string(spec["device"], f"{where}.device") if "device" in spec else None,
        expect=expect,
        reject=ctx.string(spec["reject"], f"{where}.reject") if "reject" in spec else None,
        ignored="ignored" in spec,
        refused=refused,
    )


def _expected(ctx: Ctx, raw: Any, where: str) -> ExpectedReading:
    spec = ctx.mapping(raw, where, _EXPECT_KEYS)
    quantity = ctx.string(spec.get("quantity"), f"{where}.quantity")
    if quantity not in QUANTITIES:
        ctx.fail(f"{where}.quantity", f"unknown quantity {quantity!r}")
    if "value" not in spec or isinstance(spec["value"], dict | list) or spec["value"] is None:
        ctx.fail(f"{where}.value", "expected a scalar value")
    ts = None
    if "ts" in spec:
        try:
            ts = _ISO.parse(spec["ts"])
        except DecodeError as err:
            ctx.fail(f"{where}.ts", err.reason)
    attrs = ctx.mapping(spec["attrs"], f"{where}.attrs") if "attrs" in spec else None
    unit = spec.get("unit")
    if unit is not None:
        unit = ctx.string(unit, f"{where}.unit")
    return ExpectedReading(
        quantity=quantity,
        value=spec["value"],
        unit=unit,
        check_unit="unit" in spec,
        ts=ts,
        attrs=attrs,
    )


def run_sample(decoder: Decoder, profile: str, sample: Sample) -> list[str]:
    """The problems found running one sample (empty when it passes)."""
    label = f"samples[{sample.index}]" + (f" ({sample.name})" if sample.name else "")
    try:
        got = decoder.decode(sample.topic, sample.payload)
    except DecodeError as err:
        if sample.reject is not None:
            if sample.reject.lower() in err.reason.lower():
                return []
            return [
                f"{label}: rejected with {err.reason!r}, expected a reason containing "
                f"{sample.reject!r}"
            ]
        return [f"{label}: rejected: {err.reason}"]
    if sample.ignored:
        return [] if got is None else [f"{label}: expected the topic to be ignored, got readings"]
    if got is None:
        return [f"{label}: topic {sample.topic!r} was ignored"]
    if sample.reject is not None:
        return [
            f"{label}: expected a rejection containing {sample.reject!r}, got "
            f"{len(got.readings)} reading(s)"
        ]
    problems: list[str] = []
    if got.profile != profile:
        problems.append(f"{label}: decoded by profile {got.profile!r}, not {profile!r}")
    if sample.device is not None and got.device != sample.device:
        problems.append(f"{label}: device {got.device!r}, expected {sample.device!r}")
    problems += [f"{label}: {p}" for p in compare(sample.expect or (), got.readings)]
    if sample.refused is not None:
        if not any(sample.refused.lower() in r.lower() for r in got.refused):
            problems.append(
                f"{label}: expected a refused field containing {sample.refused!r}, got "
                f"{list(got.refused) or 'none'}"
            )
    elif got.refused:
        problems.append(f"{label}: refused {'; '.join(got.refused)}")
    return problems


def compare(expected: tuple[ExpectedReading, ...], readings: list[Reading]) -> list[str]:
    """Differences between expected and actual readings (matched by quantity)."""
    problems: list[str] = []
    by_quantity: dict[str, list[Reading]] = {}
    for r in readings:  # several sensors may give one quantity: matched in order
        by_quantity.setdefault(r.quantity, []).append(r)
    for exp in expected:
        queue = by_quantity.get(exp.quantity)
        if not queue:
            problems.append(f"missing reading {exp.quantity}")
            continue
        got = queue.pop(0)
        if not _same(exp.value, got.value):
            problems.append(f"{exp.quantity}: value {got.value!r}, expected {exp.value!r}")
        if exp.check_unit and got.unit != exp.unit:
            problems.append(f"{exp.quantity}: unit {got.unit!r}, expected {exp.unit!r}")
        if exp.ts is not None and (got.ts is None or not math.isclose(got.ts, exp.ts)):
            problems.append(f"{exp.quantity}: ts {got.ts!r}, expected {exp.ts!r}")
        if exp.attrs is not None and got.attrs != exp.attrs:
            problems.append(f"{exp.quantity}: attrs {got.attrs!r}, expected {exp.attrs!r}")
    problems += [
        f"unexpected reading {q} = {r.value!r}" for q, rs in by_quantity.items() for r in rs
    ]
    return problems


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool | str):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
    return False
