"""Score the shipped profiles on real payloads they were never written against.

``tests/profiles/corpus/<family>.yaml`` holds messages copied from the bridges' public
documentation and issues (never from the profiles' own samples), each with the readings it
plainly states (``expect``: canonical quantity -> value). Every message goes through the same
decode the ingest runs (:meth:`ProfileRegistry.decode` over all shipped profiles, with the
site's ``profile_variables`` where the entry needs them); each stated quantity is then
*correct* (read with that value), *wrong* (read with another value) or *missed* (not read:
absent, refused, or the whole message dead-lettered or ignored). Readings the payload does
not state are listed as *extra*.

    .venv/bin/python -m bench.profile_corpus            # table per family and overall
    .venv/bin/python -m bench.profile_corpus --misses   # and every wrong, missed and extra
    .venv/bin/python -m bench.profile_corpus --markdown # the table as Markdown

An expected key ``a|b`` accepts either quantity (an mmWave sensor's ``occupancy`` may be read
as motion or presence: both say someone is there); a list value states the quantity once per
sensor (Tasmota's ``DS18B20-1``, ``DS18B20-2``), each counted.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from gateway.errors import DecodeError
from gateway.events import QUANTITIES
from gateway.profiles import ProfileRegistry

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "tests" / "profiles" / "corpus"
PROFILES_DIR = ROOT / "device_profiles"
_ENTRY_KEYS = {
    "id",
    "model",
    "source",
    "topic",
    "payload",
    "expect",
    "not_counted",
    "variables",
    "note",
}


_TAKEN: Any = object()  # a reading already matched to a stated value


@dataclass(frozen=True, slots=True)
class Entry:
    family: str
    id: str
    topic: str
    payload: bytes
    source: str
    expect: dict[str, Any]
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """What one entry gave: per stated quantity correct / wrong / missed, and extras."""

    entry: Entry
    correct: list[str] = field(default_factory=list)
    wrong: list[tuple[str, Any, Any]] = field(default_factory=list)  # (quantity, expected, got)
    missed: list[tuple[str, Any, str]] = field(default_factory=list)  # (quantity, expected, why)
    extra: list[tuple[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Tally:
    entries: int = 0
    stated: int = 0
    correct: int = 0
    wrong: int = 0
    missed: int = 0
    extra: int = 0

    def add(self, o: Outcome) -> None:
        self.entries += 1
        self.correct += len(o.correct)
        self.wrong += len(o.wrong)
        self.missed += len(o.missed)
        self.stated += len(o.correct) + len(o.wrong) + len(o.missed)
        self.extra += len(o.extra)

    @property
    def pct(self) -> float:
        return 100.0 * self.correct / self.stated if self.stated else 0.0


def load_corpus(directory: Path = CORPUS_DIR) -> list[Entry]:
    """Every corpus entry, checked: known quantities, unique ids, a source for each."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        family = doc["family"]
        for raw in doc["entries"]:
            unknown = set(raw) - _ENTRY_KEYS
            if unknown:
                raise ValueError(f"{path.name}: {raw.get('id')}: unknown keys {sorted(unknown)}")
            ident = f"{family}/{raw['id']}"
            if ident in seen:
                raise ValueError(f"{path.name}: duplicate id {raw['id']!r}")
            seen.add(ident)
            if not str(raw.get("source", "")).strip():
                raise ValueError(f"{ident}: no source")
            expect = dict(raw.get("expect") or {})
            for key in expect:
                for q in str(key).split("|"):
                    if q not in QUANTITIES:
                        raise ValueError(f"{ident}: unknown quantity {q!r}")
            payload = raw["payload"]
            if not isinstance(payload, str):
                raise ValueError(f"{ident}: give the payload as the text published")
            entries.append(
                Entry(
                    family=family,
                    id=raw["id"],
                    topic=raw["topic"],
                    payload=payload.encode("utf-8"),
                    source=str(raw["source"]),
                    expect=expect,
                    variables=dict(raw.get("variables") or {}),
                )
            )
    return entries


@cache
def _registry(variables: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> ProfileRegistry:
    return ProfileRegistry.load(PROFILES_DIR, {name: dict(vs) for name, vs in variables})


def registry_for(entry: Entry) -> ProfileRegistry:
    """All shipped profiles, with the site settings (``profile_variables``) the entry needs."""
    key = ((entry.family, tuple(sorted(entry.variables.items()))),) if entry.variables else ()
    return _registry(key)


def same(expected: Any, got: Any) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return math.isclose(expected, got, rel_tol=1e-6, abs_tol=1e-6)
    return bool(expected == got)


def stated(entry: Entry) -> list[tuple[str, Any]]:
    """(quantity key, value) for every value the payload states; a list states several."""
    return [
        (key, v)
        for key, value in entry.expect.items()
        for v in (value if isinstance(value, list) else [value])
    ]


def score(entry: Entry) -> Outcome:
    out = Outcome(entry)
    try:
        decoded = registry_for(entry).decode(entry.topic, entry.payload)
    except DecodeError as err:
        out.missed = [(q, v, f"dead-lettered: {err.reason}") for q, v in stated(entry)]
        return out
    if decoded is None:
        out.missed = [(q, v, "ignored") for q, v in stated(entry)]
        return out
    got: dict[str, list[Any]] = {}
    for r in decoded.readings:
        got.setdefault(r.quantity, []).append(r.value)
    refused = "; ".join(decoded.refused)
    unmatched: list[tuple[str, Any]] = []
    for key, value in stated(entry):  # first every exact match, so order does not matter
        spot = next(
            (
                (q, i)
                for q in str(key).split("|")
                for i, v in enumerate(got.get(q, ()))
                if v is not _TAKEN and same(value, v)
            ),
            None,
        )
        if spot is None:
            unmatched.append((key, value))
        else:
            out.correct.append(key)
            got[spot[0]][spot[1]] = _TAKEN
    for key, value in unmatched:  # then a reading of that quantity left over is a wrong value
        spot = next(
            (
                (q, i)
                for q in str(key).split("|")
                for i, v in enumerate(got.get(q, ()))
                if v is not _TAKEN
            ),
            None,
        )
        if spot is None:
            out.missed.append((key, value, f"refused: {refused}" if refused else "not read"))
        else:
            out.wrong.append((key, value, got[spot[0]][spot[1]]))
            got[spot[0]][spot[1]] = _TAKEN
    for q, values in got.items():
        out.extra.extend((q, v) for v in values if v is not _TAKEN)
    return out


def run(entries: Iterable[Entry]) -> tuple[list[Outcome], dict[str, Tally], Tally]:
    outcomes = [score(e) for e in entries]
    families: dict[str, Tally] = {}
    total = Tally()
    for o in outcomes:
        families.setdefault(o.entry.family, Tally()).add(o)
        total.add(o)
    return outcomes, families, total


def table(families: Mapping[str, Tally], total: Tally, markdown: bool = False) -> str:
    head = ("family", "payloads", "stated", "correct", "wrong", "missed", "extra", "read")
    rows = [
        (name, t.entries, t.stated, t.correct, t.wrong, t.missed, t.extra, f"{t.pct:.1f} %")
        for name, t in sorted(families.items())
    ]
    rows.append(
        (
            "overall",
            total.entries,
            total.stated,
            total.correct,
            total.wrong,
            total.missed,
            total.extra,
            f"{total.pct:.1f} %",
        )
    )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*map(str, r)) for r in [head, *rows])


def misses(outcomes: Iterable[Outcome]) -> list[str]:
    """One line per wrong, missed or extra reading: entry, expected, got."""
    lines: list[str] = []
    for o in outcomes:
        name = f"{o.entry.family}/{o.entry.id}"
        lines += [f"WRONG  {name}: {q} expected {e!r}, got {g!r}" for q, e, g in o.wrong]
        lines += [f"MISSED {name}: {q} expected {e!r} ({why})" for q, e, why in o.missed]
        lines += [f"EXTRA  {name}: {q} = {v!r} (not stated)" for q, v in o.extra]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every wrong/missed/extra")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="a directory of entries")
    args = parser.parse_args(argv)
    outcomes, families, total = run(load_corpus(args.corpus))
    print(table(families, total, args.markdown))
    if args.misses:
        print()
        print("\n".join(misses(outcomes)) or "no misses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
