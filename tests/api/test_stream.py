"""The live stream: tickets, SSE framing, live space changes, replay, drop, shutdown."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.api.deps import Principal, Role
from gateway.api.stream import StreamHub
from gateway.hub import Hub
from tests.support import Broker, GatewayProcess, Publisher, wait_for


class SseReader:
    """Reads one SSE response on a thread; ``next_event`` returns parsed events in order."""

    def __init__(self, client: httpx.Client, url: str, **kw: Any) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.status: int | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(client, url, kw), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "no response from the stream"

    def _read(self, client: httpx.Client, url: str, kw: dict[str, Any]) -> None:
        try:
            with client.stream("GET", url, timeout=httpx.Timeout(5, read=30), **kw) as r:
                self.status = r.status_code
                self.headers = r.headers
                self._ready.set()
                for line in r.iter_lines():
                    self.lines.put(line)
        except httpx.HTTPError:
            pass
        finally:
            self._ready.set()
            self.lines.put(None)

    def next_block(self, timeout: float = 10) -> list[str] | None:
        """The lines of the next blank-line-terminated block; None at the end of the stream."""
        block: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if line is None:
                return None
            if line == "":
                if block:
                    return block
                continue
            block.append(line)

    def next_events(self, *names: str, timeout: float = 10) -> dict[str, dict[str, Any]]:
        """The next event of each name, whatever order they come in."""
        got: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while set(names) - set(got):
            block = self.next_block(max(0.01, deadline - time.monotonic()))
            assert block is not None, "stream ended"
            ev = self._parse(block)
            if ev.get("event") in names and ev["event"] not in got:
                got[ev["event"]] = ev
        return got

    @staticmethod
    def _parse(block: list[str]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for line in block:
            key, _, value = line.partition(":")
            fields[key] = value.lstrip(" ")
        if "data" in fields:
            fields["data"] = json.loads(fields["data"])
        return fields

    def next_event(self, name: str, timeout: float = 10) -> dict[str, Any]:
        """The next event called ``name`` (skipping others), as {id, event, data}."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            block = self.next_block(deadline - time.monotonic())
            assert block is not None, "stream ended"
            fields = self._parse(block)
            if fields.get("event") == name:
                return fields
        raise AssertionError(f"no {name!r} event within {timeout}s")


@pytest.fixture
def gateway(broker: Broker, workdir: Path) -> Iterator[GatewayProcess]:
    gp = GatewayProcess(broker.url, workdir, GATEWAY_API__STREAM_HEARTBEAT_S="1").start()
    yield gp
    gp.stop()


def ticket(gp: GatewayProcess) -> str:
    r = gp.http.post("/api/v1/stream/ticket")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_in"] == 60
    return str(body["ticket"])


def test_stream_sends_space_changes_live(gateway: GatewayProcess, broker: Broker) -> None:
    gp = gateway
    anon = httpx.Client(base_url=gp.http.base_url, timeout=5)
    assert anon.get("/api/v1/stream").status_code == 401
    assert anon.get("/api/v1/stream", params={"ticket": "made-up"}).status_code == 401
    assert anon.post("/api/v1/stream/ticket").status_code == 401
    t = ticket(gp)
    sse = SseReader(anon, f"/api/v1/stream?ticket={t}")  # no Authorization header at all
    assert sse.status == 200
    assert sse.headers["content-type"].startswith("text/event-stream")
    assert sse.next_block() == ["retry: 3000"]
    reset = sse.next_event("reset")
    assert reset["id"].isdigit()
    # the ticket was used up by opening the stream
    assert anon.get("/api/v1/stream", params={"ticket": t}).status_code == 401

    pub = Publisher(broker.port, client_id=f"stream-test-{gp.port}")
    try:
        pub.publish("ref/counter/pc-orion", {"count": 3})
        got = sse.next_events("space", "device")
        ev, dev = got["space"], got["device"]
        assert ev["data"]["id"] == "orion"
        assert (ev["data"]["state"], ev["data"]["occupancy"]) == ("occupied", 3)
        assert ev["data"]["capacity"] == 8  # the same public view as GET /spaces/orion
        assert dev["data"]["id"] == "pc-orion" and dev["data"]["online"] is True
        # a heartbeat comment arrives when nothing changes (GATEWAY_API__STREAM_HEARTBEAT_S=1)
        assert any(sse.next_block(5) == [": keep-alive"] for _ in range(5))
        # a client reconnecting with Last-Event-ID gets what it missed, in order
        missed_from = int(ev["id"]) - 1
        again = SseReader(gp.http, "/api/v1/stream", headers={"Last-Event-ID": str(missed_from)})
        assert again.status == 200
        replayed = again.next_event("space")
        assert replayed["id"] == ev["id"] and replayed["data"]["occupancy"] == 3
        pub.publish("ref/counter/pc-orion", {"count": 0})
        assert sse.next_event("space")["data"]["state"] == "vacant"
        assert again.next_event("space")["data"]["state"] == "vacant"
    finally:
        pub.close()
    fams = {f.name: f for f in text_string_to_metric_families(gp.http.get("/metrics").text)}
    assert fams["gateway_stream_clients"].samples[0].value == 2
    ticks = {s.name: s.value for s in fams["gateway_engine_tick_seconds"].samples}
    assert ticks["gateway_engine_tick_seconds_count"] >= 1
    # stopping the gateway ends open streams instead of waiting for the clients to leave
    t0 = time.monotonic()
    assert gp.stop() in (0, -15)  # uvicorn re-raises the SIGTERM it handled
    assert "gateway stopped" in gp.read_log()  # drained, not killed after the wait
    assert time.monotonic() - t0 < 15
    assert wait_for(lambda: sse.next_block(5) is None, timeout=10)


class _FakeGateway:
    """The live state as the stream reads it: only its hub's channels."""

    def __init__(self) -> None:
        self.hub = Hub()
        self.subscribe = self.hub.subscribe


def test_a_slow_client_is_dropped_not_buffered() -> None:
    async def run() -> tuple[list[str], int, int]:
        hub = StreamHub(_FakeGateway(), queue_size=3)  # type: ignore[arg-type]
        stream = hub.events(None, lambda: False)
        head = [await stream.__anext__(), await stream.__anext__()]  # retry, reset
        waiting = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.01)
        for i in range(10):  # the client reads nothing while ten changes go out
            hub._send("notice", {"type": "alert", "n": i})
        got = [await waiting]
        rest = [x async for x in stream]  # what was queued, then the stream ends
        hub.close()
        return head + got + rest, hub.dropped, hub.clients

    lines, dropped, clients = asyncio.run(run())
    assert lines[0] == "retry: 3000\n\n" and "event: reset" in lines[1]
    notices = [x for x in lines if "event: notice" in x]
    assert 1 <= len(notices) <= 4  # at most what fitted in its queue, not all ten
    assert (dropped, clients) == (1, 0)


def test_tickets_are_one_time_and_expire() -> None:
    hub = StreamHub(_FakeGateway(), ticket_ttl_s=0.2)  # type: ignore[arg-type]
    who = Principal(Role.staff, "desk")
    t = hub.issue_ticket(who)
    assert hub.redeem(t) == who
    assert hub.redeem(t) is None
    late = hub.issue_ticket(who)
    time.sleep(0.3)
    assert hub.redeem(late) is None
    hub.close()
