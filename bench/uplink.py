"""Benchmark: the northbound uplink (disk buffer, batching, PUBACK) against a real Mosquitto.

Both runs push the same events to a Mosquitto on a free port and count them at a QoS 1
subscriber on the central side:

- baseline: a bare paho client publishing one QoS 1 message per event (no buffer);
- uplink: the gateway's ``Uplink`` fed through the hub in batches of 500 events (as the
  ingest worker hands them over), buffered on disk (fsynced), forwarded in messages of
  ``--batch-events`` and deleted on PUBACK.

Prints events/second for both and the ratio, then one line holding a JSON object.

    .venv/bin/python bench/uplink.py [--events 100000] [--batch-events 500]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.events import Event  # noqa: E402
from gateway.hub import Hub  # noqa: E402
from gateway.publish.client import OutClient  # noqa: E402
from gateway.publish.spool import Spool  # noqa: E402
from gateway.publish.uplink import Uplink  # noqa: E402
from gateway.settings import MqttSettings  # noqa: E402
from tests.support import free_port, port_open, wait_for  # noqa: E402

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Counter:
    """The central side: counts events arriving on ``topic`` (JSON arrays or single events)."""

    def __init__(self, port: int, topic: str) -> None:
        self.events = 0
        self.lock = threading.Lock()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"count-{free_port()}")
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.subscribe(topic, qos=1)
        self.c.loop_start()

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        n = body["count"] if isinstance(body, dict) and "count" in body else 1
        with self.lock:
            self.events += n

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def events(n: int) -> list[Event]:
    base = time.time() - 3600
    return [
        Event("bench", f"dev-{i % 200}", f"space-{i % 50}", base + i * 0.01, "measurement",
              "co2_ppm", 400.0 + i % 900, "ppm")
        for i in range(n)
    ]  # fmt: skip


def run_baseline(port: int, evs: list[Event]) -> float:
    counter = Counter(port, "base/#")
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare")
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    for ev in evs:
        body = {"device": ev.device, "space": ev.space, "ts": ev.ts, "quantity": ev.quantity,
                "value": ev.value, "unit": ev.unit}  # fmt: skip
        c.publish("base/events", json.dumps(body), qos=1)
    wait_for(lambda: counter.events >= len(evs), timeout=600, interval=0.01)
    elapsed = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    counter.close()
    return len(evs) / elapsed


def run_uplink(port: int, evs: list[Event], batch_events: int, tmp: Path) -> tuple[float, int]:
    counter = Counter(port, "gw/bench/events")
    client = OutClient(MqttSettings(url=f"mqtt://127.0.0.1:{port}"), "bench-up", ("gw/s", "x"))
    spool = Spool(tmp / "bench.sqlite", max_bytes=1 << 30)
    up = Uplink(client, spool, "bench", "gw", batch_events=batch_events, recommend=None)
    hub = Hub()
    up.attach(hub)
    up.start()
    wait_for(lambda: up.connected, timeout=10)
    t0 = time.perf_counter()
    for i in range(0, len(evs), 500):
        hub.publish("events", evs[i : i + 500], 0.0)
    wait_for(lambda: counter.events >= len(evs), timeout=600, interval=0.01)
    elapsed = time.perf_counter() - t0
    wait_for(lambda: spool.records == 0, timeout=30)
    sent = up.sent_records
    up.stop()
    counter.close()
    return len(evs) / elapsed, sent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--batch-events", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        port = free_port()
        conf = tmp / "m.conf"
        lines = [f"listener {port} 127.0.0.1", "allow_anonymous true",
                 "max_inflight_messages 1000", "max_queued_messages 1000000"]  # fmt: skip
        if os.geteuid() == 0:
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        broker = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: port_open(port), timeout=10)
            evs = events(args.events)
            base = run_baseline(port, evs)
            print(f"bare paho, one QoS 1 message per event: {base:,.0f} events/s")
            rate, sent = run_uplink(port, evs, args.batch_events, tmp)
            print(
                f"uplink (disk buffer, fsync per flush, {args.batch_events} events a message, "
                f"deleted on PUBACK): {rate:,.0f} events/s in {sent} messages"
            )
            print(f"ratio uplink / bare: {rate / base:.1f}x")
        finally:
            broker.terminate()
            broker.wait(timeout=5)
    print(
        json.dumps(
            {
                "events": args.events,
                "batch_events": args.batch_events,
                "bare_events_per_s": round(base),
                "uplink_events_per_s": round(rate),
                "uplink_messages": sent,
                "ratio": round(rate / base, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
