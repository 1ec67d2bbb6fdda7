"""The simulator against a real Mosquitto: documented shapes, several families, sane counts."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.building import Building, load_building
from gateway.errors import ConfigError, GatewayError
from gateway.simulate import Simulator, default_start, parse_broker_url
from tests.simulate.shapes import check

ROOT = Path(__file__).resolve().parents[2]
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed")
    port = free_port()
    conf = tmp_path_factory.mktemp("mosquitto") / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=5)


class Listener:
    """A paho subscriber to everything the simulator publishes."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sim-test-listener")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self.ready.set()
        self.client.on_message = lambda _c, _u, msg: self.messages.append(
            (msg.topic, bytes(msg.payload))
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.ready.wait(5)

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe([("ref/#", 1), ("zigbee2mqtt/#", 1)])

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def building() -> Building:
    return load_building(ROOT / "examples" / "building.yaml")


def test_publishes_documented_traffic(port: int, building: Building) -> None:
    listener = Listener(port)
    start = datetime(2026, 3, 4, 11, 30)  # naive: site local time, a busy Wednesday
    sim = Simulator(building, f"mqtt://127.0.0.1:{port}", speed=600, seed=3, start=start)
    began = time.monotonic()
    sim.run(threading.Event(), duration_s=3.0)
    assert 2.9 < time.monotonic() - began < 9
    deadline = time.monotonic() + 5
    while len(listener.messages) < sim.published and time.monotonic() < deadline:
        time.sleep(0.05)
    listener.close()

    assert sim.published == len(listener.messages) == sim.acked
    families = Counter(check(building, topic, payload) for topic, payload in listener.messages)
    assert {"ref-occupancy", "ref-counter", "ref-environment", "zigbee2mqtt"} <= set(families)
    assert {"ref-door", "ref-printer", "zigbee2mqtt-availability"} <= set(families)
    # 3 wall s x 600 = 30 simulated minutes of a 99-device building, rate-capped per device
    assert 300 < sim.published < 3000, families
    assert families["zigbee2mqtt-availability"] == 2 * sum(
        d.profile == "zigbee2mqtt" for d in building.devices.values()
    )
    elapsed = (sim.sim_time - start.replace(tzinfo=building.site.tz)).total_seconds()
    assert 1700 < elapsed < 1900


def test_stop_event_ends_the_run(port: int, building: Building) -> None:
    stop = threading.Event()
    sim = Simulator(building, f"mqtt://guest:secret@127.0.0.1:{port}", client_id="sim-stop")
    thread = threading.Thread(target=sim.run, args=(stop,))
    thread.start()
    time.sleep(0.5)
    stop.set()
    thread.join(timeout=7)
    assert not thread.is_alive()
    assert sim.published > 50  # availability and initial state of every device


def test_unreachable_broker_is_a_gateway_error(building: Building) -> None:
    sim = Simulator(building, f"mqtt://127.0.0.1:{free_port()}")
    with pytest.raises(GatewayError, match="cannot connect"):
        sim.run(threading.Event(), duration_s=1)


def test_broker_url() -> None:
    url = parse_broker_url("mqtt://user:p%40ss@broker.local:1884")
    assert (url.host, url.port, url.tls, url.username, url.password) == (
        "broker.local",
        1884,
        False,
        "user",
        "p@ss",
    )
    assert str(url) == "mqtt://broker.local:1884"
    assert parse_broker_url("mqtts://b").port == 8883
    with pytest.raises(ConfigError):
        parse_broker_url("http://b:80")


def test_default_start(building: Building) -> None:
    tz = building.site.tz
    wednesday = datetime(2026, 3, 4, 15, 0, tzinfo=tz).timestamp()
    saturday = datetime(2026, 3, 7, 6, 0, tzinfo=tz).timestamp()
    sunday = datetime(2026, 3, 8, 12, 0, tzinfo=tz).timestamp()
    assert default_start(building, wednesday) == datetime(2026, 3, 4, 7, 30, tzinfo=tz)
    assert default_start(building, saturday) == datetime(2026, 3, 7, 9, 30, tzinfo=tz)
    assert default_start(building, sunday) == datetime(2026, 3, 9, 7, 30, tzinfo=tz)
