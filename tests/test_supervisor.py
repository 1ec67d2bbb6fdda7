"""Nothing dies silently: every loop of a running gateway survives a fault and health names it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.runtime import Gateway
from gateway.settings import load_settings
from gateway.supervisor import FAILING_AFTER, Supervisor
from tests.support import FIXTURES, Broker, Publisher, wait_for

TOKEN = "supervisor-test-token-0123456789"


# -- the supervisor alone ------------------------------------------------------------------


def test_a_thread_that_raises_is_restarted_and_counted() -> None:
    sup = Supervisor()
    runs: list[int] = []

    def target() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError(f"crash {len(runs)}")
        sup.stopping.wait()

    sup.thread("crashy", target)
    wait_for(lambda: len(runs) == 3, timeout=5)
    h = sup.loop("crashy").health()
    assert (h.restarts, h.failures, h.state) == (2, 2, "running")
    assert h.last_error == "RuntimeError: crash 2"
    sup.stop()


def test_a_thread_that_returns_while_running_is_stopped_and_degrades() -> None:
    sup = Supervisor()
    sup.thread("quitter", lambda: None)
    wait_for(lambda: sup.down(), timeout=5)
    assert [(h.name, h.state) for h in sup.down()] == [("quitter", "stopped")]
    sup.stop()
    assert sup.down() == []  # shutting down: returning threads are not a fault


def test_failing_passes_in_a_row_degrade_until_one_passes() -> None:
    sup = Supervisor()
    lp = sup.loop("passes")
    lp.inject(-1)
    for _ in range(FAILING_AFTER):
        assert not lp.run_pass(lambda: None)
    assert sup.down()[0].state == "failing"
    lp.clear()
    assert lp.run_pass(lambda: None)
    assert sup.down() == [] and lp.health().failures == FAILING_AFTER


# -- every loop of a real, running gateway ------------------------------------------------


@pytest.fixture
def running(broker: Broker, tmp_path: Path) -> Iterator[tuple[Gateway, TestClient, Publisher]]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'gw.db'}",
        building=FIXTURES / "building-small.yaml",
        admin_token=TOKEN,
        mqtt={"url": broker.url, "client_id": f"sup-{time.monotonic_ns()}"},
        occupancy={"tick_s": 0.05, "snapshot_s": 0.1},
        uplink={"url": broker.url, "flush_ms": 100, "buffer_dir": str(tmp_path / "uplink")},
        access={"key_dir": str(tmp_path / "keys"), "audit_flush_ms": 50, "erasure_check_s": 0.05},
        retention={"every_s": 0.05, "pause_s": 0.0},
        ingest={"writer_process": False},
    )
    g = Gateway(settings)
    g.start()
    wait_for(g.transport.connected.is_set)
    client = TestClient(create_app(g, manage=False))
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    pub = Publisher(broker.port, client_id=f"sup-pub-{time.monotonic_ns()}")
    yield g, client, pub
    pub.close()
    g.stop()


def _traffic(pub: Publisher) -> Callable[[], None]:
    n = iter(range(10**9))

    def poke() -> None:
        i = next(n)
        pub.publish("ref/counter/pc-orion", {"count": i % 4})
        pub.publish(
            "ref/door/door-office-101/request",
            json.dumps({"request": f"r-{i}", "credential": "nobody"}),
        )
        pub.publish("homeassistant/status", "online", qos=0)

    return poke


# loops that run on their own timers, and loops that run when traffic arrives
TIMED = ["engine-ticker", "engine-saver", "mqtt-out-tick", "member-services", "access-audit",
         "retention", "erasures"]  # fmt: skip
DRIVEN = ["ingest-worker", "ingest-commit", "ingest-apply", "door-decider", "mqtt-out", "uplink"]


@pytest.mark.parametrize("name", TIMED + DRIVEN)
def test_each_loop_survives_a_fault_and_a_persistent_one_degrades_health(
    running: tuple[Gateway, TestClient, Publisher], name: str, caplog: pytest.LogCaptureFixture
) -> None:
    g, client, pub = running
    poke = _traffic(pub)
    lp = g.supervisor.loop(name)

    def progressed(since: int) -> bool:
        poke()
        time.sleep(0.05)
        return lp.passes > since

    wait_for(lambda: progressed(0), timeout=15)  # the loop runs in this gateway
    assert client.get("/api/v1/health").json()["status"] == "ok"

    # one fault: logged with its traceback, counted, and the loop goes on
    before = lp.passes
    lp.inject(1)
    wait_for(lambda: poke() or lp.failures >= 1, timeout=15, interval=0.05)
    wait_for(lambda: progressed(before), timeout=15)
    assert any(
        name in r.getMessage() and r.exc_info and "fault injected" in str(r.exc_info[1])
        for r in caplog.records
    )
    metrics = client.get("/metrics").text
    assert f'gateway_loop_failures_total{{loop="{name}"}} 1.0' in metrics

    # a fault that persists: health degraded, naming the loop and its last error
    lp.inject(-1)

    def degraded() -> Any:
        poke()
        body = client.get("/api/v1/health").json()
        return body if body["status"] == "degraded" and name in body["failing"] else None

    body = wait_for(degraded, timeout=20, interval=0.1)
    assert "fault injected" in body["failing"][name]["last_error"]
    assert f'gateway_loop_up{{loop="{name}"}} 0.0' in client.get("/metrics").text

    # cleared: it recovers and health is ok again
    lp.clear()
    wait_for(
        lambda: poke() or client.get("/api/v1/health").json()["status"] == "ok",
        timeout=20,
        interval=0.1,
    )


def test_a_failing_tick_does_not_stop_saving(
    running: tuple[Gateway, TestClient, Publisher],
) -> None:
    g, _client, _pub = running
    saver = g.supervisor.loop("engine-saver")
    g.supervisor.loop("engine-ticker").inject(-1)
    start = saver.passes
    wait_for(lambda: saver.passes >= start + 5, timeout=10)
    assert g.supervisor.loop("engine-ticker").failures >= 5


def test_a_dead_network_thread_degrades_health(
    running: tuple[Gateway, TestClient, Publisher],
) -> None:
    g, client, _pub = running
    # paho's network thread of the door client ends (as an escaping error would end it)
    g.access.client.client.loop_stop()
    body = wait_for(
        lambda: (b := client.get("/api/v1/health").json())["status"] == "degraded" and b,
        timeout=10,
    )
    assert body["failing"]["door-decider"]["state"] == "stopped"
    assert threading.active_count() > 0
