"""Live stream fan-out: hub changes rendered once, sent to every Server-Sent-Events client.

Hub callbacks run on the ingest and engine threads under their locks, so they only note what
changed (space ids and device ids coalesce in sets; notices queue up, bounded) and wake one
pump task on the event loop. The pump renders each change once, numbers it, keeps the last
few for clients that reconnect with ``Last-Event-ID``, and puts it on each client's bounded
queue; a client whose queue is full is dropped (it reconnects and re-reads), never allowed
to grow memory. Device availability also changes by silence, which no event announces, so
the pump compares devices' availability every few seconds.

A stream lives no longer than the token it was opened with: a ticket is redeemed only while
its token is live, revoking a token ends its open streams at once, and each stream checks
every ``token_check_s`` that its token is still live (a revoke by another process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.access.tokens import TokenStore
from gateway.api.deps import Principal
from gateway.api.routes.devices import device_public
from gateway.api.routes.spaces import space_public
from gateway.api.tickets import Tickets
from gateway.state.live import LiveState

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Client:
    queue: asyncio.Queue[str]
    dropped: bool = False
    token_id: str | None = None  # the token it was opened with (None: the bootstrap admin)
    revoked: bool = False


@dataclass
class _Pending:
    spaces: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    notices: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))


class StreamHub:
    """Tickets, clients and the pump of the ``/api/v1/stream`` endpoint."""

    def __init__(
        self,
        live: LiveState,
        tokens: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
        *,
        queue_size: int = 256,
        heartbeat_s: float = 15.0,
        retry_ms: int = 3000,
        ticket_ttl_s: float = 60.0,
        replay: int = 512,
        device_check_s: float = 5.0,
        token_check_s: float = 5.0,
    ) -> None:
        self.live, self.tokens, self.clock = live, tokens, clock
        self.queue_size = queue_size
        self.heartbeat_s = heartbeat_s
        self.retry_ms = retry_ms
        self.device_check_s = device_check_s
        self.token_check_s = token_check_s
        self.revoked = 0
        self.dropped = 0
        self._clients: set[_Client] = set()
        self.tickets = Tickets(ticket_ttl_s, self._live)
        self._buffer: deque[tuple[int, str]] = deque(maxlen=replay)
        self._seq = 0
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._woken = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._pump: asyncio.Task[None] | None = None
        self._online: dict[str, bool] = {}
        self._closed = False
        self._unsubscribe: list[Callable[[], None]] = [
            live.subscribe("spaces", self._on_spaces),
            live.subscribe("events", self._on_events),
            live.subscribe("notices", self._on_notice),
        ]
        if tokens is not None:
            tokens.on_revoke.append(self._on_revoke)
            self._unsubscribe.append(lambda: tokens.on_revoke.remove(self._on_revoke))

    @property
    def clients(self) -> int:
        return len(self._clients)

    # -- tickets ----------------------------------------------------------------------------
    @property
    def ticket_ttl_s(self) -> float:
        return self.tickets.ttl_s

    def issue_ticket(self, principal: Principal) -> str:
        """A one-time ticket standing for ``principal`` (see :class:`Tickets`)."""
        return self.tickets.issue(principal)

    def redeem(self, ticket: str) -> Principal | None:
        """The principal of a valid ticket, which is used up; None when unknown or expired."""
        return self.tickets.redeem(ticket)

    def _live(self, token_id: str | None) -> bool:
        tokens = self.tokens
        return token_id is None or tokens is None or bool(tokens.is_live(token_id))

    def _on_revoke(self, info: Any) -> None:
        """A token was revoked (any thread): end the streams opened with it."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed while the gateway stops
                loop.call_soon_threadsafe(self._end_streams, info.id)
        self.tickets.forget_token(info.id)

    def _end_streams(self, token_id: str) -> None:
        """On the event loop: mark the streams of a revoked token; each ends within 0.5 s."""
        for c in list(self._clients):
            if c.token_id == token_id:
                c.revoked = True
                self.revoked += 1

    # -- hub side (any thread) --------------------------------------------------------------
    # Changes are noted from the first client on, even while none is connected, so that a
    # client reconnecting with Last-Event-ID is replayed everything it missed.
    def _on_spaces(self, space_ids: list[str], _now: float) -> None:
        if self._loop is not None:
            with self._lock:
                self._pending.spaces.update(space_ids)
            self._poke()

    def _on_events(self, events: list[Any], _now: float) -> None:
        if self._loop is not None:
            with self._lock:
                self._pending.devices.update(e.device for e in events)
            self._poke()

    def _on_notice(self, item: dict[str, Any], _now: float) -> None:
        if self._loop is not None:
            with self._lock:
                self._pending.notices.append(item)
            self._poke()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or self._woken:
            return
        self._woken = True
        with contextlib.suppress(RuntimeError):  # the loop closed while the gateway stops
            loop.call_soon_threadsafe(wake.set)

    # -- pump (event loop) ------------------------------------------------------------------
    def _start(self) -> None:
        if self._pump is None or self._pump.done():
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._pump = self._loop.create_task(self._run(), name="stream-pump")

    async def _run(self) -> None:
        assert self._wake is not None
        next_check = 0.0
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.device_check_s)
            self._wake.clear()
            with self._lock:
                self._woken = False
                pending, self._pending = self._pending, _Pending()
            check = time.monotonic() >= next_check
            if check:
                next_check = time.monotonic() + self.device_check_s
            if not (pending.spaces or pending.devices or pending.notices or check):
                continue
            try:
                out = await asyncio.to_thread(self._render, pending, check)
            except Exception:
                log.exception("live stream: rendering changes failed")
                continue
            for name, data in out:
                self._send(name, data)
            await asyncio.sleep(0.05)  # let a burst of changes coalesce into one render

    def _render(self, p: _Pending, check_devices: bool) -> list[tuple[str, Any]]:
        """(event name, data) for each change; reads live state under the owners' locks."""
        live = self.live
        now = self.clock()
        out: list[tuple[str, Any]] = []
        if p.spaces:
            b = live.building
            wanted = [sid for sid in sorted(p.spaces) if sid in b.spaces]
            out += [
                ("space", space_public(b, v).model_dump(mode="json"))
                for v in live.space_views(wanted, now)
            ]
        devices = {d.id: d for d in live.devices()}
        changed = set(p.devices)
        if check_devices:
            for did, d in devices.items():
                online = live.is_online(d, now)
                if self._online.get(did) != online:
                    if did in self._online:
                        changed.add(did)
                    self._online[did] = online
        views = [
            device_public(devices[did], live.is_online(devices[did], now)).model_dump(mode="json")
            for did in sorted(changed)
            if did in devices
        ]
        for v in views:
            self._online[v["id"]] = v["online"]
        out += [("device", v) for v in views]
        out += [("notice", n) for n in p.notices]
        return out

    def _send(self, name: str, data: Any) -> None:
        self._seq += 1
        text = f"id: {self._seq}\nevent: {name}\ndata: {json.dumps(data, default=str)}\n\n"
        self._buffer.append((self._seq, text))
        for c in list(self._clients):
            try:
                c.queue.put_nowait(text)
            except asyncio.QueueFull:
                c.dropped = True
                self._clients.discard(c)
                self.dropped += 1
                log.info("live stream: dropped a client that reads too slowly")

    # -- clients ----------------------------------------------------------------------------
    async def events(
        self,
        last_id: int | None,
        should_exit: Callable[[], bool],
        principal: Principal | None = None,
    ) -> AsyncIterator[str]:
        """The text of one client's stream, until it disconnects, is dropped, its token is
        revoked or we stop."""
        self._start()
        token_id = None if principal is None else principal.token_id
        client = _Client(asyncio.Queue(maxsize=self.queue_size), token_id=token_id)
        # registered and caught up with no await in between: nothing is missed or sent twice
        self._clients.add(client)
        head = [f"retry: {self.retry_ms}\n\n"]
        first = self._buffer[0][0] if self._buffer else self._seq + 1
        if last_id is None or last_id > self._seq or first > last_id + 1:
            # new, or too far behind to replay (or the gateway restarted): re-read everything
            head.append(f"id: {self._seq}\nevent: reset\ndata: {{}}\n\n")
        else:
            head += [t for i, t in self._buffer if i > last_id]
        try:
            for t in head:
                yield t
            quiet = 0.0
            next_check = time.monotonic() + self.token_check_s
            while not (client.dropped or client.revoked or self._closed or should_exit()):
                if token_id is not None and time.monotonic() >= next_check:
                    next_check = time.monotonic() + self.token_check_s
                    if not await asyncio.to_thread(self._live, token_id):
                        break
                try:
                    yield await asyncio.wait_for(client.queue.get(), timeout=0.5)
                    quiet = 0.0
                except TimeoutError:
                    quiet += 0.5
                    if quiet >= self.heartbeat_s:
                        quiet = 0.0
                        yield ": keep-alive\n\n"
        finally:
            self._clients.discard(client)

    def close(self) -> None:
        """Stop the pump and end every stream (the app is shutting down)."""
        self._closed = True
        for unsub in self._unsubscribe:
            unsub()
        if self._pump is not None:
            self._pump.cancel()
