"""Door controllers (``ref-door``): badges at room doors and the entrance, open, close, status."""

from __future__ import annotations

from typing import Any

from gateway.simulate.core import SimDevice, World
from gateway.simulate.people import Visit

MEMBERS = 300
STATUS_EVERY_S = 600.0
DENIED_P = 0.04
HELD_OPEN_P = 0.01


def member_id(n: int) -> str:
    """The member id of member number ``n``."""
    return f"m-{n:04d}"


def credential_of(member: str, n: int) -> str:
    """A stable card credential for a member (or a QR code now and then)."""
    if n % 7 == 0:
        return f"qr:{member}"
    return f"card:{(n * 2654435761) & 0xFFFFFFFF:08X}"


class Door(SimDevice):
    """A badge door: bound to a space it badges people in; unbound it is an entrance door."""

    def __init__(self, world: World, device_id: str, space: str | None) -> None:
        super().__init__(world, device_id, space)
        first = self.rng.randint(1, MEMBERS - 12)
        self.team = list(range(first, first + 12))  # who usually comes through this door
        world.listen(space, self._on_count)

    def start(self, ts: float) -> None:
        self._status(ts)

    def stop(self, ts: float) -> None:
        self.world.emit(f"ref/door/{self.id}/status", {"online": False})

    def arrivals(self, visits: list[Visit]) -> None:
        """Entrance doors: badge in everyone arriving at a desk, a few minutes before."""
        for start, _ in visits:
            self.world.clock.at(start - self.rng.uniform(60, 240), self._badge_in)

    def _on_count(self, ts: float, old: int, new: int) -> None:
        for _ in range(max(0, new - old)):
            self.world.clock.at(ts - self.rng.uniform(1, 4), self._badge_in)
        if new < old:  # leaving: push the exit button, no badge
            self.world.clock.at(ts, self._pass)

    def _status(self, ts: float) -> None:
        self.world.emit(f"ref/door/{self.id}/status", {"online": True})
        self.world.clock.at(ts + self.world.report_gap(STATUS_EVERY_S), self._status)

    def _event(self, event: str, n: int | None = None) -> None:
        payload: dict[str, Any] = {"event": event}
        if n is not None:
            member = member_id(n)
            payload["credential"] = credential_of(member, n)
            payload["member"] = member
        self.world.emit(f"ref/door/{self.id}/event", payload)

    def _badge_in(self, ts: float) -> None:
        clock = self.world.clock
        n = self.rng.choice(self.team) if self.space else self.rng.randint(1, MEMBERS)
        delay = 0.0
        if self.rng.random() < DENIED_P:
            stranger = self.rng.randint(1, MEMBERS)
            self._event("denied", stranger)
            delay = self.rng.uniform(5, 20)
        clock.at(ts + delay, lambda _t: self._event("granted", n))
        self._open_close(ts + delay + self.rng.uniform(1, 2.5))

    def _pass(self, ts: float) -> None:
        self._open_close(ts)

    def _open_close(self, ts: float) -> None:
        clock = self.world.clock
        clock.at(ts, lambda _t: self._event("opened"))
        if self.rng.random() < HELD_OPEN_P:
            clock.at(ts + 40, lambda _t: self._event("held_open"))
            clock.at(ts + self.rng.uniform(60, 120), lambda _t: self._event("closed"))
        else:
            clock.at(ts + self.rng.uniform(4, 9), lambda _t: self._event("closed"))
