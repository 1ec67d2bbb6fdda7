"""Benchmark: door request -> decision round trip through a real broker, under ingest load.

It starts its own Mosquitto and a real ``gateway run`` process (the access test building:
doors, plans, members), keeps a background load of sensor traffic flowing into the ingest
(``--rate`` messages/s), and sends ``--n`` door requests one after another, timing each from
publish to the decision's arrival. The baseline, in the same run and under the same load, is
a bare paho client that answers each request at once without deciding anything: what the
broker and the network cost alone.

    .venv/bin/python bench/access.py [--n 500] [--rate 2000] [--gap-ms 10]

The last line printed is one JSON object of the figures (``decision_ms_p50``,
``decision_ms_p99``, ...). The goal is p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin"

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from bench.ingest import start_broker  # noqa: E402
from tests.support import GatewayProcess, wait_for  # noqa: E402

BUILDING = ROOT / "tests" / "access" / "building.yaml"
TOKEN = "bench-access-admin-token-0123"  # `gateway run` refuses fewer than 24 characters
SENSORS = [
    ("zigbee2mqtt/z-orion-motion", lambda i: {"occupancy": i % 2 == 0, "battery": 90}),
    ("zigbee2mqtt/z-focus-motion", lambda i: {"occupancy": i % 3 == 0}),
    ("ref/counter/pc-orion", lambda i: {"count": i % 6}),
    ("ref/counter/pc-lounge", lambda i: {"count": i % 9}),
    ("ref/env/env-open-2", lambda i: {"temperature": 21 + i % 3, "co2": 600 + i % 400}),
    ("ref/occupancy/occ-desk-area", lambda i: {"presence": i % 2 == 1}),
]


def no_delay(_c: object, _u: object, sock: Any) -> None:
    """What a door controller should do too: no Nagle on its small packets."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def client(port: int, cid: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid)
    c.on_socket_open = no_delay
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def load(port: int, rate: float, stop: threading.Event, sent: list[int]) -> None:
    """Publish sensor traffic at ``rate`` messages/s (QoS 1) until ``stop``."""
    c = client(port, "bench-load")
    i, t0 = 0, time.perf_counter()
    info = None
    while not stop.is_set():
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        topic, body = SENSORS[i % len(SENSORS)]
        info = c.publish(topic, json.dumps(body(i)), qos=1)
        i += 1
    if info is not None and info.rc == mqtt.MQTT_ERR_SUCCESS:
        info.wait_for_publish(timeout=60)  # everything sent reached the broker
    sent[0] = i
    c.disconnect()
    c.loop_stop()


def round_trips(
    port: int, request_topic: str, reply_topic: str, n: int, gap_s: float, cid: str
) -> list[float]:
    """Send ``n`` requests one after another; the round trip of each, in ms."""
    got: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid)
    c.on_socket_open = no_delay
    c.on_message = lambda _c, _u, m: got.put((time.perf_counter(), json.loads(m.payload)))
    c.connect("127.0.0.1", port)
    c.subscribe(reply_topic, qos=1)
    c.loop_start()
    time.sleep(0.3)
    out: list[float] = []
    for k in range(n):
        rid = f"{cid}-{k}"
        credential = "04A1B2C3" if k % 4 else "FFFFFFFF"  # some denials too
        t0 = time.perf_counter()
        c.publish(request_topic, json.dumps({"request": rid, "credential": credential}), qos=1)
        while True:
            t1, body = got.get(timeout=5)
            if body.get("request") == rid:
                break
        out.append((t1 - t0) * 1000)
        time.sleep(gap_s)
    c.disconnect()
    c.loop_stop()
    return out


def echo(port: int, stop: threading.Event) -> None:
    """The baseline responder: answers every request at once, deciding nothing."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-echo")
    c.on_socket_open = no_delay

    def on_message(cl: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        body = json.loads(m.payload)
        cl.publish("bench/echo/decision", json.dumps({"request": body["request"]}), qos=1)

    c.on_message = on_message
    c.connect("127.0.0.1", port)
    c.subscribe("bench/echo/request", qos=1)
    c.loop_start()
    stop.wait()
    c.disconnect()
    c.loop_stop()


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="door requests")
    ap.add_argument("--rate", type=float, default=2000, help="background messages/s")
    ap.add_argument("--gap-ms", type=float, default=10, help="pause between requests")
    ap.add_argument("--load", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load:  # the background load process: publish until SIGINT, print the count
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        sent = [0]
        load(args.load, args.rate, stop, sent)
        print(sent[0])
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        broker, port = start_broker(work)  # deploy/mosquitto.conf's limits and TCP_NODELAY
        url = f"mqtt://127.0.0.1:{port}"
        gp = GatewayProcess(
            url,
            work,
            GATEWAY_BUILDING=str(BUILDING),
            GATEWAY_ADMIN_TOKEN=TOKEN,
            GATEWAY_ACCESS__KEY_DIR=str(work / "keys"),
            GATEWAY_INGEST__DEVICE_RATE_PER_S="0",  # the load is a few devices, fast
            # one card asks --n times at one door: without this the door's limit answers
            # all but the first access.door_burst as rate_limited, and that is timed instead
            GATEWAY_ACCESS__DOOR_RATE_PER_S="0",
            GATEWAY_LOG_LEVEL="WARNING",
        )
        gp.http.headers["Authorization"] = f"Bearer {TOKEN}"
        stop_echo = threading.Event()
        loader: subprocess.Popen[str] | None = None
        sent = [0]
        try:
            gp.start()
            committed0 = gp.get("/api/v1/stats")["messages_committed"]
            threading.Thread(target=echo, args=(port, stop_echo), daemon=True).start()
            # its own process, so the load does not share this process's interpreter lock
            loader = subprocess.Popen(
                [sys.executable, __file__, "--load", str(port), "--rate", str(args.rate)],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # the load is flowing before the first request
            gap = args.gap_ms / 1000
            t0 = time.perf_counter()
            base = round_trips(
                port, "bench/echo/request", "bench/echo/decision", args.n, gap, "b-echo"
            )
            door = round_trips(
                port,
                "ref/door/door-office-101/request",
                "ref/door/door-office-101/decision",
                args.n,
                gap,
                "b-door",
            )
            elapsed = time.perf_counter() - t0
            loader.send_signal(signal.SIGINT)
            out, _ = loader.communicate(timeout=120)
            sent[0] = int(out.strip().splitlines()[-1])
            stats = wait_for(
                lambda: (
                    (s := gp.get("/api/v1/stats"))["messages_committed"] - committed0 >= sent[0]
                    and s
                ),
                timeout=60,
            )
            audited = gp.get(
                "/api/v1/access/audit", params={"action": "door_decision", "limit": 1}
            )["total"]
        finally:
            if loader is not None and loader.poll() is None:
                loader.kill()
            stop_echo.set()
            gp.stop()
            broker.terminate()
            broker.wait()
    figures = {
        "requests": args.n,
        "background_rate_per_s": args.rate,
        "background_sent": sent[0],
        "background_committed": stats["messages_committed"] - committed0,
        "load_seconds": round(elapsed, 1),
        "decisions_audited": audited,
        "decision_ms_p50": round(statistics.median(door), 2),
        "decision_ms_p99": round(pct(door, 99), 2),
        "decision_ms_max": round(max(door), 2),
        "baseline_ms_p50": round(statistics.median(base), 2),
        "baseline_ms_p99": round(pct(base, 99), 2),
    }
    figures["p99_vs_baseline"] = round(figures["decision_ms_p99"] / figures["baseline_ms_p99"], 2)
    figures["goal_p99_under_50ms"] = figures["decision_ms_p99"] < 50
    print(
        f"door requests: {args.n}, background load {args.rate:g} msg/s "
        f"({sent[0]} sent, all committed)"
    )
    print(
        f"decision round trip  p50 {figures['decision_ms_p50']:.2f} ms   "
        f"p99 {figures['decision_ms_p99']:.2f} ms   max {figures['decision_ms_max']:.2f} ms"
    )
    print(
        f"bare echo (baseline) p50 {figures['baseline_ms_p50']:.2f} ms   "
        f"p99 {figures['baseline_ms_p99']:.2f} ms   -> p99 ratio {figures['p99_vs_baseline']}"
    )
    print(f"decisions audited: {audited} (expected {args.n})")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
