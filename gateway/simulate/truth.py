"""Ground truth of a simulated run: every space's head count as played, and the sensor outages.

Written by ``gateway simulate --truth FILE`` and read by ``bench/detection.py``. The file is
JSON: per space the count at ``start`` and each change ``[ts, count, people_in, people_out]``
in time order (epoch seconds, to the millisecond), and the outages the run played.
:class:`Timeline` answers the count at any instant and the counts second by second.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateway.simulate.core import World
from gateway.simulate.script import Outage

FORMAT = "gateway-truth/1"


class TruthRecorder:
    """Listens to every space's head count from the first instant of the run."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.start: float | None = None
        self.initial: dict[str, int] = {}
        self.changes: dict[str, list[list[float]]] = {sid: [] for sid in world.spaces}
        self.outages: list[Outage] = []
        for sid in world.spaces:
            world.listen(sid, self._listener(sid))

    def _listener(self, sid: str) -> Any:
        def on_count(ts: float, old: int, new: int) -> None:
            if self.start is not None:
                self.changes[sid].append([round(ts, 3), new, max(new - old, 0), max(old - new, 0)])

        return on_count

    def begin(self, ts: float) -> None:
        """The counts at the start (set silently by the people plan)."""
        self.start = ts
        self.initial = {sid: live.count for sid, live in self.world.spaces.items()}

    def dump(self, end: float) -> dict[str, Any]:
        """The truth so far as a JSON-ready object."""
        b = self.world.building
        return {
            "format": FORMAT,
            "site": b.site.id,
            "seed": self.world.seed,
            "start": self.start,
            "end": end,
            "spaces": {
                sid: {
                    "type": b.spaces[sid].type,
                    "initial": self.initial.get(sid, 0),
                    "changes": self.changes[sid],
                }
                for sid in self.world.spaces
            },
            "devices": {d.id: d.space for d in b.devices.values()},
            "outages": [asdict(o) for o in self.outages],
        }

    def write(self, path: Path | str, end: float) -> None:
        Path(path).write_text(json.dumps(self.dump(end), separators=(",", ":")) + "\n")


@dataclass(slots=True)
class Timeline:
    """One space's true head count over the run."""

    initial: int
    times: list[float]
    counts: list[int]

    @classmethod
    def of(cls, space: dict[str, Any]) -> Timeline:
        ch = space["changes"]
        return cls(int(space["initial"]), [c[0] for c in ch], [int(c[1]) for c in ch])

    def count_at(self, ts: float) -> int:
        i = bisect.bisect_right(self.times, ts)
        return self.initial if i == 0 else self.counts[i - 1]

    def per_second(self, t0: float, t1: float) -> Iterator[tuple[int, int]]:
        """(whole second, people present at it) for every second in ``[t0, t1)``."""
        for s in range(int(t0), int(t1)):
            yield s, self.count_at(s)


def load(path: Path | str) -> dict[str, Any]:
    """A truth file, checked for its format."""
    data: dict[str, Any] = json.loads(Path(path).read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file")
    return data
