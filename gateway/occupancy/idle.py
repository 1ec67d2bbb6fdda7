"""Idle episodes: a vacant stretch of at least ``idle_after_s`` inside business hours."""

from __future__ import annotations

import math

from gateway.occupancy.accumulate import IdleEpisode
from gateway.occupancy.fusion import VACANT
from gateway.occupancy.live import IDLE, IDLE_ENDED, EngineBase, SpaceLive


class IdleEpisodes(EngineBase):
    """Opens and closes each space's idle episode as its state and the opening hours change."""

    def _idle(self, space: SpaceLive, now: float) -> float:
        """Open or close the space's idle episode; the next instant that can change it."""
        if space.idle_start is not None:
            if space.state == VACANT and now < space.idle_until:
                return space.idle_until
            if space.state == VACANT:
                iv = self.cal.interval_at(now)
                if iv is not None and iv[0] <= space.idle_until:  # the next span adjoins
                    space.idle_until = iv[1]
                    return iv[1]
            self._close_episode(space, min(now, space.idle_until))
        if space.state != VACANT:
            return math.inf
        ia = self.settings.idle_after_s
        iv = self.cal.interval_at(now)
        if iv is None:
            nxt = self.cal.next_open(now)
            return math.inf if nxt is None else nxt[0] + ia
        start = max(space.since, iv[0])
        if start + ia > now:
            return min(start + ia, iv[1])
        space.idle_start, space.idle_until, space.idle_opened = start, iv[1], now
        self.out.episodes[(space.id, start)] = IdleEpisode(space.id, start, now)
        self._transition(space.id, IDLE, now)
        return iv[1]

    def _close_episode(self, space: SpaceLive, end: float) -> None:
        assert space.idle_start is not None
        ep = IdleEpisode(space.id, space.idle_start, space.idle_opened, end)
        self.out.episodes[(space.id, space.idle_start)] = ep
        space.idle_start, space.idle_until = None, math.inf
        self._transition(space.id, IDLE_ENDED, end)

    def idle_since(self, space: SpaceLive, now: float) -> float | None:
        """Start of the space's idle stretch when it is idle at ``now``, else None."""
        if space.state != VACANT:
            return None
        if space.idle_start is not None and now < space.idle_until:
            return space.idle_start
        iv = self.cal.interval_at(now)
        if iv is None:
            return None
        start = max(space.since, iv[0])
        return start if now - start >= self.settings.idle_after_s else None
