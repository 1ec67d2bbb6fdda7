"""The engine's deadlines, queued per whole second: a tick visits only the spaces that fell due."""

from __future__ import annotations

import heapq
import math

from gateway.occupancy.live import EngineBase, SpaceLive


class Deadlines(EngineBase):
    """``tick`` and the deadline queue behind it.

    Deadlines are bucketed by whole second: a tick pops only the seconds that passed (a small
    heap of ints) and visits the spaces queued under them; a space's entry is live while its
    ``scheduled`` still falls in that second. A deadline is a finite instant or ``inf``
    (nothing pending): ``inf`` is never queued, and a queued entry whose space's deadline
    became ``inf`` meanwhile is dropped when its second comes.
    """

    bad_deadlines = 0  # NaN deadlines refused (none is expected: the guard screens events)

    def tick(self, now: float) -> list[str]:
        """Recompute the spaces whose deadlines fell due, close bins; ids whose state changed."""
        changed: list[str] = []
        keys, buckets = self._keys, self._buckets
        heappush, inf = heapq.heappush, math.inf
        while keys and keys[0] <= now:
            k = heapq.heappop(keys)
            queued = buckets.pop(k)
            self._queued -= len(queued)
            k1 = k + 1
            later: list[SpaceLive] = []
            for space in queued:
                due = space.scheduled
                if not k <= due < k1:
                    continue  # superseded: the space's deadline moved to another second
                if due > now:
                    later.append(space)  # this second, but not yet
                    continue
                due = space.due
                if due == inf:
                    # newer evidence left it nothing pending (occupied by presence, say)
                    space.scheduled = inf
                    continue
                if due > now:
                    # newer evidence moved its deadline later: nothing can change before it
                    space.scheduled = due
                    nk = int(due)
                    q = buckets.get(nk)
                    if q is None:
                        buckets[nk] = [space]
                        heappush(keys, nk)
                    else:
                        q.append(space)
                    self._queued += 1
                    continue
                space.scheduled = inf
                self.due_recomputes += 1
                if self._recompute(space, now):
                    changed.append(space.id)
            if later:
                # only the second holding ``now`` can keep entries: no later key is due
                self._requeue(k, later)
                break
        self.close_bins(now)
        return changed

    def next_due(self) -> float:
        """The earliest live deadline (``inf`` when none): when the next tick has work."""
        keys, buckets = self._keys, self._buckets
        while keys:
            k = keys[0]
            live = [sp.scheduled for sp in buckets[k] if k <= sp.scheduled < k + 1]
            if live:
                return min(live)
            heapq.heappop(keys)  # every entry of that second was superseded
            self._queued -= len(buckets.pop(k))
        return math.inf

    def deadlines(self) -> list[tuple[float, str]]:
        """The live (deadline, space id) pairs waiting for a tick."""
        return [
            (sp.scheduled, sp.id)
            for k, queued in self._buckets.items()
            for sp in queued
            if k <= sp.scheduled < k + 1
        ]

    def _schedule(self, space: SpaceLive, due: float, now: float) -> None:
        # A deadline at or before ``now`` is already reflected in the state just computed.
        if due != due:  # NaN: no instant to wait for; counted, never queued
            self.bad_deadlines += 1
            due = math.inf
        space.due = due
        if due <= now or due >= space.scheduled:
            return
        space.scheduled = due
        self._requeue(int(due), [space])
        if self._queued > 2 * len(self.spaces) + 1024:
            # superseded entries wait in their second until it passes; rebuild from the live
            # deadlines once they outnumber the spaces (amortized O(1) per push, bounded memory)
            self._buckets, self._keys, self._queued = {}, [], 0
            for sp in self.spaces.values():
                if sp.scheduled < math.inf:
                    self._requeue(int(sp.scheduled), [sp])

    def _requeue(self, k: int, sids: list[SpaceLive]) -> None:
        queued = self._buckets.get(k)
        if queued is None:
            self._buckets[k] = sids
            heapq.heappush(self._keys, k)
        else:
            queued.extend(sids)
        self._queued += len(sids)
