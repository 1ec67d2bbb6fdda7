"""Supervised threads and loops: a failure is logged, counted and retried; health shows it.

Every long-lived thread of the gateway is started with :meth:`Supervisor.thread` and every
loop inside one has a :class:`Loop` record:
- a loop calls ``beat()`` at the top of each pass (its heartbeat, and the point where a test
  injects a fault), and reports a pass that raised with ``failed(err)`` -- logged with its
  traceback, counted -- then goes on with the next pass; ``passed()`` after a good pass;
- a thread whose target raises is restarted after a backoff (0.1 s doubling to 5 s); one
  whose target returns while the gateway is not stopping counts as stopped;
- a loop is *down* while its thread is stopped or dead, or after ``FAILING_AFTER`` failed
  passes in a row: health then says ``degraded`` and names it with its last error.

Nothing here knows what the loops do; the composition root names them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

FAILING_AFTER = 3  # failed passes in a row after which a loop counts as failing
BACKOFF_S = (0.1, 5.0)  # first and longest wait before a crashed thread is restarted


class InjectedFault(RuntimeError):
    """Raised by ``Loop.beat`` when a test armed a fault for that loop."""


@dataclass(frozen=True, slots=True)
class LoopHealth:
    """What health and /metrics show of one loop."""

    name: str
    state: str  # "running", "failing", "restarting", "stopped"
    passes: int
    failures: int
    restarts: int
    last_error: str | None
    last_error_at: float | None
    last_beat_at: float | None

    @property
    def down(self) -> bool:
        return self.state != "running"


class Loop:
    """The record of one supervised loop (thread-safe enough: counters under one lock)."""

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self.passes = 0
        self.failures = 0
        self.in_a_row = 0
        self.restarts = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.last_beat_at: float | None = None
        self.thread: threading.Thread | None = None
        self.stopped = False  # its thread returned while the gateway was not stopping
        self.restarting = False
        self._faults = 0  # armed by tests: the next beats raise

    def beat(self) -> None:
        """Mark the start of a pass; raises an injected fault when one is armed."""
        self.last_beat_at = self._clock()
        if self._faults:
            with self._lock:
                armed = self._faults
                if armed > 0:
                    self._faults -= 1
            if armed:
                raise InjectedFault(f"fault injected into {self.name}")

    def passed(self) -> None:
        """A pass completed."""
        with self._lock:
            self.passes += 1
            self.in_a_row = 0

    def failed(self, err: BaseException, what: str | None = None) -> None:
        """A pass raised ``err``: log it with its traceback and count it."""
        log.error(
            "%s failed in loop %s; retrying: %s",
            what or "a pass",
            self.name,
            err,
            exc_info=(type(err), err, err.__traceback__),
        )
        with self._lock:
            self.failures += 1
            self.in_a_row += 1
            self.last_error = f"{type(err).__name__}: {err}"[:500]
            self.last_error_at = self._clock()

    def run_pass(self, fn: Callable[..., Any], *args: Any) -> bool:
        """One guarded pass of ``fn``: True when it completed."""
        try:
            self.beat()
            fn(*args)
        except Exception as err:  # a pass must never take its loop down
            self.failed(err)
            return False
        self.passed()
        return True

    def inject(self, times: int = 1) -> None:
        """Make the next ``times`` beats raise (``-1``: every beat until ``clear``)."""
        with self._lock:
            self._faults = times

    def clear(self) -> None:
        with self._lock:
            self._faults = 0

    def health(self) -> LoopHealth:
        t = self.thread
        dead = t is not None and not t.is_alive() and not self.restarting
        if self.stopped or dead:
            state = "stopped"
        elif self.restarting:
            state = "restarting"
        elif self.in_a_row >= FAILING_AFTER:
            state = "failing"
        else:
            state = "running"
        return LoopHealth(
            self.name,
            state,
            self.passes,
            self.failures,
            self.restarts,
            self.last_error,
            self.last_error_at,
            self.last_beat_at,
        )


class Supervisor:
    """Starts the gateway's threads, restarts the ones that crash, and reports on every loop."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.loops: dict[str, Loop] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def loop(self, name: str) -> Loop:
        """The record of loop ``name`` (made on first use)."""
        with self._lock:
            lp = self.loops.get(name)
            if lp is None:
                lp = self.loops[name] = Loop(name, self.clock)
            return lp

    def thread(
        self, name: str, target: Callable[..., Any], *args: Any, daemon: bool = True
    ) -> threading.Thread:
        """A started thread running ``target(*args)``, restarted whenever it raises."""
        lp = self.loop(name)
        t = threading.Thread(target=self._run, args=(lp, target, args), name=name, daemon=daemon)
        lp.thread, lp.stopped = t, False
        t.start()
        return t

    def _run(self, lp: Loop, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
        delay = BACKOFF_S[0]
        while True:
            try:
                target(*args)
            except Exception as err:  # restart: a crashed thread must not stay dead
                lp.failed(err, "the thread")
                if self.stopping.is_set():
                    return
                lp.restarting = True
                self.stopping.wait(delay)
                delay = min(delay * 2, BACKOFF_S[1])
                lp.restarts += 1
                lp.restarting = False
                if self.stopping.is_set():
                    return
                continue
            if not self.stopping.is_set():
                lp.stopped = True
                log.error("thread %s returned while the gateway runs", lp.name)
            return

    def stop(self) -> None:
        """From now on a thread that returns is shutting down, not stopped."""
        self.stopping.set()

    def health(self) -> list[LoopHealth]:
        with self._lock:
            loops = list(self.loops.values())
        return [lp.health() for lp in loops]

    def down(self) -> list[LoopHealth]:
        """The loops that make the gateway degraded."""
        if self.stopping.is_set():
            return []
        return [h for h in self.health() if h.down]
