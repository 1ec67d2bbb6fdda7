"""Utilization bins: each space's state accounted over fixed bins and business hours."""

from __future__ import annotations

from gateway.occupancy.accumulate import Acc
from gateway.occupancy.fusion import OCCUPIED, UNKNOWN
from gateway.occupancy.live import EngineBase, SpaceLive


class Bins(EngineBase):
    """Splits each state's stretch over bins; closes bins as time passes them."""

    def _settle(self, space: SpaceLive, now: float) -> None:
        """Account the current state from ``seg_start`` to ``now`` into bins."""
        t = space.seg_start
        if now <= t:
            return
        space.seg_start = now
        if space.state == UNKNOWN:
            return
        occupied, occ = space.state == OCCUPIED, space.occupancy
        bin_s, cal = self.bin_s, self.cal
        while t < now:
            idx = int(t // bin_s)
            end = min(now, (idx + 1) * bin_s)
            dt = cal.open_in_bin(idx, t, end)
            if dt > 0:
                acc = space.bin
                if acc is None or acc.key != idx:
                    if acc is not None:
                        self._close_bin(space)
                    acc = space.bin = Acc(space.id, idx)
                    self._pending.add(space.id)
                acc.add(occupied, occ, dt)
            t = end

    def _close_bin(self, space: SpaceLive) -> None:
        acc = space.bin
        assert acc is not None
        space.bin = None
        self._pending.discard(space.id)
        self.out.bins.append(acc)

    def close_bins(self, now: float) -> int:
        """Close every bin that ended by ``now``; the number of spaces settled."""
        cur = int(now // self.bin_s)
        if cur <= self._cur_bin:
            return 0
        boundary = cur * self.bin_s
        span = range(self._cur_bin, cur) if cur - self._cur_bin < 2000 else range(0)
        was_open = not span or any(self.cal.bin_intervals(i) for i in span)
        ids = self._pending | self._known if was_open else set(self._pending)
        for sid in ids:
            sp = self.spaces[sid]
            self._settle(sp, boundary)
            if sp.bin is not None and sp.bin.key < cur:
                self._close_bin(sp)
        self._cur_bin = cur
        return len(ids)
