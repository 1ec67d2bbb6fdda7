"""Benchmark: the gateway draining a broker backlog, against a bare paho client draining the same.

It starts its own Mosquitto (with ``deploy/mosquitto.conf``'s limits) on a free port and
publishes realistic traffic of the example building (every device family, real payload shapes,
QoS 1). Modes, all in one run by default:

* drain: both subscribers' persistent sessions are established, then N messages are queued at
  the broker while they are away. The ceiling is a bare paho client at QoS 1 that only counts;
  the gateway (its real ingest: transport, worker, store writer process, engine; in its own
  process, set up as ``gateway run`` sets it up) is timed from its start until the store holds
  every expected event and dead letter, read back from the store and compared event by event
  (device, quantity, value) with an offline decode of what was published: lost and duplicated
  are counted from that comparison. Peak RSS is the gateway's and its writer process's, added.
  The ratio is each run's gateway rate over its own ceiling (a shared machine drifts between
  runs); the printed figures are medians over runs.
* kill: the same drain, with the gateway killed (SIGKILL) part-way and restarted.
* live: a steady stream (default 5,000 messages/s) to a running gateway; latency is from the
  publish time stamped into reference-device payloads to the moment the row is seen in the
  store (polled every 5 ms). Before it, the disk's own sync latency is measured (``fsync_ms_*``):
  every commit waits for one sync, so the disk's tail shows in the live tail.

    .venv/bin/python bench/ingest.py [--n 50000] [--modes drain,kill,live] [--rate 5000]
                                     [--repeat 3]
                                     [--database-url postgresql://user@host/db]

The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from bench import targets  # noqa: E402
from tests.support import free_port, port_open, wait_for  # noqa: E402

BUILDING = ROOT / "examples" / "building.yaml"
Key = tuple[str, str, float | None, str | None]


def traffic(n: int) -> list[tuple[str, bytes]]:
    """``n`` messages of the example building's simulated days, in publish order."""
    from gateway.building import load_building
    from gateway.simulate import Traffic

    building = load_building(BUILDING)
    out: list[tuple[str, bytes]] = []
    day = 0
    while len(out) < n:
        start = datetime(2026, 3, 2 + day, 7, 30, tzinfo=building.site.tz).timestamp()
        t = Traffic(building, seed=day + 1, start=start, min_gap=0.0)
        msgs = t.advance(start)
        for step in range(1, 13 * 60 + 1):
            msgs += t.advance(start + step * 60)
        out += [(m.topic, m.payload.encode()) for m in msgs]
        day += 1
    return out[:n]


def expected(msgs: list[tuple[str, bytes]]) -> tuple[Counter[Key], int]:
    """The events (by device, quantity, value) and dead letters the messages must produce."""
    from gateway.building import load_building
    from gateway.errors import DecodeError
    from gateway.profiles import ProfileRegistry

    building = load_building(BUILDING)
    reg = ProfileRegistry.load(ROOT / "device_profiles")
    events: Counter[Key] = Counter()
    dead = 0
    for topic, payload in msgs:
        try:
            d = reg.decode(topic, payload)
        except DecodeError:
            dead += 1
            continue
        if d is None:
            continue
        b = building.devices.get(d.device)
        if b is None or b.profile != d.profile:
            dead += 1
            continue
        for r in d.readings:
            v = r.value
            events[(d.device, r.quantity, *_split(v))] += 1
    return events, dead


def _split(v: Any) -> tuple[float | None, str | None]:
    return (None, v) if isinstance(v, str) else (float(v), None)


def stored(db: str) -> tuple[Counter[Key], int]:
    c = targets.Reader(db)
    rows = c.rows("SELECT device, quantity, value_num, value_text FROM event")
    dead = c.rows("SELECT count(*) FROM deadletter")[0][0]
    c.close()
    return Counter((d, q, n, t) for d, q, n, t in rows), int(dead)


def counts(db: str) -> int:
    c = targets.Reader(db)
    try:
        got = c.rows(
            "SELECT (SELECT count(*) FROM event) + (SELECT count(*) FROM deadletter)",
            missing_ok=True,
        )
    finally:
        c.close()
    return int(got[0][0]) if got else 0


def progress(db: str) -> int:
    """An upper bound of ``counts`` read from the newest ids (two index lookups, where a count
    walks a whole index: polled every 20 ms, that took a tenth of a core from the gateway)."""
    c = targets.Reader(db)
    try:
        got = c.rows(
            "SELECT (SELECT coalesce(max(id), 0) FROM event) "
            "+ (SELECT coalesce(max(id), 0) FROM deadletter)",
            missing_ok=True,
        )
    finally:
        c.close()
    return int(got[0][0]) if got else 0


def compare(exp: tuple[Counter[Key], int], got: tuple[Counter[Key], int]) -> tuple[int, int]:
    lost = sum((exp[0] - got[0]).values()) + max(0, exp[1] - got[1])
    dup = sum((got[0] - exp[0]).values()) + max(0, got[1] - exp[1])
    return lost, dup


# -- broker and clients -------------------------------------------------------------------
def start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    keep = ("max_inflight_messages", "max_inflight_bytes", "max_queued_messages",
            "max_queued_bytes", "max_packet_size", "set_tcp_nodelay")  # fmt: skip
    lines = [
        line
        for line in (ROOT / "deploy" / "mosquitto.conf").read_text().splitlines()
        if line.split(" ")[0] in keep
    ]
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join([f"listener {port} 127.0.0.1", "allow_anonymous true", *lines]))
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(lambda: port_open(port), timeout=10)
    return proc, port


def subscriptions() -> list[str]:
    from gateway.profiles import ProfileRegistry

    return sorted(set(ProfileRegistry.load(ROOT / "device_profiles").subscriptions()))


def establish_session(port: int, client_id: str, topics: list[str]) -> None:
    """Connect with a persistent session, subscribe at QoS 1, leave: the broker queues for it."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    c.connect("127.0.0.1", port)
    c.loop_start()
    info = c.subscribe([(t, 1) for t in topics])
    wait_for(lambda: info[0] == 0, timeout=5)
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


def drop_session(port: int, client_id: str) -> None:
    """End a persistent session, so a later run's traffic is not queued for it as well."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect("127.0.0.1", port)
    c.disconnect()


def median_of(runs: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """Medians of the figures that vary from run to run on a shared machine; every run's
    losses and duplicates add up (each one is a failure), peak memory is the highest."""
    out = dict(runs[len(runs) // 2])
    for k in keys:
        vals = [r[k] for r in runs if r.get(k) is not None]
        out[k] = statistics.median(vals) if vals else None
    for k in ("lost", "duplicated"):
        if k in out:
            out[k] = sum(r[k] for r in runs)
    for k in ("peak_rss_mb", "rss_growth_mb_second_half"):
        if k in out:
            out[k] = max(r.get(k, 0.0) for r in runs)
    out["runs"] = len(runs)
    return out


def publish_all(port: int, msgs: list[tuple[str, bytes]]) -> float:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    t0 = time.perf_counter()
    infos: list[mqtt.MQTTMessageInfo] = []
    for i, (t, p) in enumerate(msgs):
        if i >= 30_000:  # message ids wrap at 65,535: keep fewer than that outstanding
            infos[i - 30_000].wait_for_publish(timeout=60)
        infos.append(c.publish(t, p, qos=1))
    for info in infos[-1000:]:
        info.wait_for_publish(timeout=60)
    elapsed = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return len(msgs) / elapsed


def vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass  # it has gone
    return 0.0


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    kids: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += [int(k) for k in children.read_text().split()]
        except OSError:
            continue
    return kids


def family_hwm_mb(pid: int) -> float:
    """Peak resident memory of a process and its children (the gateway and its store writer),
    each its own peak, added up."""
    return vm_hwm_mb(pid) + sum(vm_hwm_mb(k) for k in children_of(pid))


# -- children: the ceiling and the gateway, each in its own process ----------------------
def child_ceiling(port: int, client_id: str, n: int) -> None:
    got = 0
    done = time.perf_counter()

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        nonlocal got, done
        got += 1
        if got == n:
            done = time.perf_counter()

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    c.on_message = on_message
    t0 = time.perf_counter()
    c.connect("127.0.0.1", port)
    c.loop_start()
    wait_for(lambda: got >= n, timeout=600, interval=0.01)
    c.disconnect()
    c.loop_stop()
    cpu = os.times()
    out = {"elapsed": done - t0, "rss_mb": vm_hwm_mb(os.getpid()), "cpu_s": cpu.user + cpu.system}
    print(json.dumps(out), flush=True)


def child_gateway(port: int, client_id: str, db: str) -> None:
    from gateway.runtime import Gateway
    from gateway.runtime.gctune import tune_gc
    from gateway.settings import load_settings

    settings = load_settings(
        mqtt={"url": f"mqtt://127.0.0.1:{port}", "client_id": client_id, "embedded": False},
        database_url=db,
        building=BUILDING,
        admin_token="bench",
    )
    gw = Gateway(settings)
    tune_gc()  # as ``gateway run`` does
    stop = False

    def on_term(_s: int, _f: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    main0 = time.thread_time()  # the imports and settings before the clock starts
    print(json.dumps({"start": time.time()}), flush=True)
    gw.start()
    while not stop:
        time.sleep(0.05)
    threads = thread_cpu_s(client_id)  # before stopping: the threads are still there
    threads["MainThread"] -= main0
    gw.stop()
    s = gw.pipeline.stats
    out = {"redelivered": s.redelivered, "rate_limited": s.rate_limited, "threads": threads}
    print(json.dumps(out), flush=True)


def thread_cpu_s(client_id: str) -> dict[str, float]:
    """CPU seconds each of this process's threads has used, by name (the client id left out,
    so runs compare): where the gateway's share of one GIL goes."""
    out: dict[str, float] = {}
    for t in threading.enumerate():
        if t.ident is None:
            continue
        try:
            cpu = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
        except OSError:  # gone meanwhile
            continue
        name = t.name.replace(f"-{client_id}", "")
        out[name] = out.get(name, 0.0) + cpu
    return out


def read_json(proc: subprocess.Popen[str]) -> Any:
    """The next JSON line a child prints (skipping anything else, such as py-spy's notes)."""
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"child exited with {proc.wait()} before reporting")
        if line.startswith("{"):
            return json.loads(line)


def spawn(*args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    prof = os.environ.get("BENCH_PYSPY")  # profile the gateway: BENCH_PYSPY=out.txt (raw)
    if prof and args[0] == "--child-gateway":
        spy = str(Path(sys.executable).with_name("py-spy"))
        subprocess.Popen(
            [spy, "record", "-p", str(proc.pid), "-o", prof, "-f", "raw", "-r", "200", "-t"]
            + (["--gil"] if os.environ.get("BENCH_PYSPY_GIL") else [])
            + (["--subprocesses"] if os.environ.get("BENCH_PYSPY_CHILDREN") else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return proc


def fsync_latency(work: Path, n: int = 300) -> dict[str, float]:
    """How long the disk under the store takes to sync an appended 64 KiB, as a SQLite
    commit with ``synchronous=FULL`` does: every stored message waits for one such sync, so
    its tail bounds the live latency's tail (the machine otherwise idle)."""
    lat = []
    path = work / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(n):
            os.write(fd, b"\0" * 65536)
            t = time.perf_counter()
            os.fsync(fd)
            lat.append((time.perf_counter() - t) * 1000)
            time.sleep(0.01)
    finally:
        os.close(fd)
        path.unlink()
    lat.sort()
    return {
        "fsync_ms_p50": round(lat[len(lat) // 2], 2),
        "fsync_ms_p99": round(lat[int(0.99 * (len(lat) - 1))], 2),
        "fsync_ms_max": round(lat[-1], 2),
    }


# -- modes ----------------------------------------------------------------------------------
def run_drain(
    port: int,
    work: Path,
    msgs: list[tuple[str, bytes]],
    exp: Any,
    kill_at: float | None,
    run: int = 0,
    broker_pid: int = 0,
) -> dict[str, Any]:
    tag = f"{'kill' if kill_at else 'drain'}{run or ''}-{port}"
    topics = subscriptions()
    db = targets.database(work, tag)
    gw_id, ceil_id = f"gw-{tag}", f"ceiling-{tag}"
    establish_session(port, gw_id, topics)
    establish_session(port, ceil_id, topics)
    pub_rate = publish_all(port, msgs)
    out: dict[str, Any] = {"publish_msgs_per_s": round(pub_rate)}
    per_1k = 1000 / len(msgs)  # CPU figures are ms per 1,000 messages
    if kill_at is None:
        broker0 = cpu_s(broker_pid)
        ceil = spawn("--child-ceiling", str(port), ceil_id, str(len(msgs)))
        res = read_json(ceil)
        broker_cpu = cpu_s(broker_pid) - broker0
        ceil.wait()
        out["ceiling_msgs_per_s"] = round(len(msgs) / res["elapsed"])
        out["ceiling_rss_mb"] = round(res["rss_mb"], 1)
        out["ceiling_cpu_ms_per_1k"] = {
            "client": round(res["cpu_s"] * 1000 * per_1k, 1),
            "broker": round(broker_cpu * 1000 * per_1k, 1),
        }
    broker0 = cpu_s(broker_pid)
    target = sum(exp[0].values()) + exp[1]
    gw = spawn("--child-gateway", str(port), gw_id, str(db))
    t_start = read_json(gw)["start"]
    gw_cpu0 = cpu_s(gw.pid), sum(cpu_s(k) for k in children_of(gw.pid))  # start-up aside
    rss = 0.0
    rss_half: float | None = None  # peak RSS when half was stored: flat memory keeps it
    killed = False
    while True:
        n = progress(db)
        if n >= target or (kill_at is not None and not killed and n >= kill_at * target):
            n = counts(db)  # ids may have gaps: the exact count decides
        rss = max(rss, family_hwm_mb(gw.pid))
        if rss_half is None and n >= target / 2 and not killed:
            rss_half = rss
        if kill_at is not None and not killed and n >= kill_at * target:
            gw.kill()
            gw.wait()
            killed = True
            out["killed_at_rows"] = n
            gw = spawn("--child-gateway", str(port), gw_id, str(db))
            read_json(gw)
        if n >= target or time.time() - t_start > 600:
            break
        time.sleep(0.02)
    elapsed = time.time() - t_start
    if kill_at is None:  # where the CPU went while the gateway drained (both cores)
        out["gateway_cpu_ms_per_1k"] = {
            "gateway": round((cpu_s(gw.pid) - gw_cpu0[0]) * 1000 * per_1k, 1),
            "writer": round(
                (sum(cpu_s(k) for k in children_of(gw.pid)) - gw_cpu0[1]) * 1000 * per_1k, 1
            ),
            "broker": round((cpu_s(broker_pid) - broker0) * 1000 * per_1k, 1),
        }
    time.sleep(1.0)  # anything still arriving would be a duplicate: let it land
    rss = max(rss, family_hwm_mb(gw.pid))
    gw.send_signal(signal.SIGTERM)
    tail = [x for x in gw.communicate(timeout=60)[0].splitlines() if x.startswith("{")]
    lost, dup = compare(exp, stored(db))
    out.update(
        gateway_msgs_per_s=round(len(msgs) / elapsed),
        lost=lost,
        duplicated=dup,
        peak_rss_mb=round(rss, 1),
        gateway=json.loads(tail[-1]) if tail else {},
    )
    threads = out["gateway"].pop("threads", {})
    if kill_at is None:  # busiest first, the idle left out
        busy = sorted(threads.items(), key=lambda kv: -kv[1])
        out["gateway_thread_cpu_ms_per_1k"] = {
            k: round(v * 1000 * per_1k, 1) for k, v in busy if v * 1000 * per_1k >= 0.5
        }
    if rss_half is not None:  # memory under sustained overload: grows in the second half?
        out["rss_growth_mb_second_half"] = round(rss - rss_half, 1)
    return out


def run_live(
    port: int, work: Path, n: int, rate: int, run: int = 0, broker_pid: int = 0
) -> dict[str, Any]:
    db = targets.database(work, f"live{run or ''}-{port}")
    gw = spawn("--child-gateway", str(port), f"gw-live{run or ''}-{port}", str(db))
    read_json(gw)
    wait_for(lambda: targets.ready(db), timeout=30)
    time.sleep(2.0)  # connected and subscribed
    # the publisher is a process of its own: sharing a GIL with this poller, its network
    # thread fell behind and messages waited in its queue before they reached the broker
    pub = spawn("--child-publisher", str(port), str(rate), str(n))
    stamped = read_json(pub)["stamped"]  # traffic made, connected
    conn = targets.Reader(db)
    last_id, lat, rx = 0, [], []
    kids = children_of(gw.pid)
    cpu0 = [cpu_s(gw.pid), sum(map(cpu_s, kids)), cpu_s(broker_pid), cpu_s(pub.pid)]
    t0 = time.perf_counter()
    done: list[Any] = []
    reader = threading.Thread(target=lambda: done.append(read_json(pub)), daemon=True)
    reader.start()

    def poll() -> None:
        nonlocal last_id
        rows = conn.rows(
            "SELECT id, ts, received_at FROM event WHERE id > ? ORDER BY id", (last_id,), True
        )
        now = time.time()
        for rid, ts, rec in rows:
            last_id = rid
            if ts != rec:  # a stamped reference payload: ts is its publish time
                lat.append((now - ts) * 1000)
                rx.append((rec - ts) * 1000)  # publish to the gateway's network thread

    while not done:
        poll()
        time.sleep(0.005)
    span = time.perf_counter() - t0
    cpu1 = [cpu_s(gw.pid), sum(map(cpu_s, kids)), cpu_s(broker_pid), cpu_s(pub.pid)]
    # cores each kept busy while the stream was offered: when they add up to the machine's,
    # the latency measures the machine rather than the gateway
    cores = {
        who: round((b - a) / span, 2)
        for who, a, b in zip(("gateway", "writer", "broker", "publisher"), cpu0, cpu1, strict=True)
    }
    end = time.time() + 10
    while time.time() < end and len(lat) < 0.99 * stamped:
        poll()
        time.sleep(0.005)
    pub.wait()
    gw.send_signal(signal.SIGTERM)
    gw.communicate(timeout=60)
    lat.sort()
    rx.sort()
    return {
        "offered_msgs_per_s": done[0]["offered"],
        "latency_samples": len(lat),
        "latency_ms_p50": round(statistics.median(lat), 1) if lat else None,
        "latency_ms_p99": round(lat[int(0.99 * (len(lat) - 1))], 1) if lat else None,
        "received_ms_p50": round(statistics.median(rx), 1) if rx else None,
        "received_ms_p99": round(rx[int(0.99 * (len(rx) - 1))], 1) if rx else None,
        "cores_busy": cores,
    }


class LeanPublisher:
    """A minimal MQTT 3.1.1 publisher at QoS 1 over a plain socket: packets framed by hand,
    PUBACKs counted by a reader thread. paho's Python client costs most of a core at 5,000
    messages a second on a slow machine, and then the latency it leaves in its own queue
    is what a live run measures, not the gateway."""

    def __init__(self, port: int, client_id: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = client_id.encode()
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack("!H", len(cid)) + cid
        self.sock.sendall(b"\x10" + _varint(len(body)) + body)
        ack = self.sock.recv(4)
        if len(ack) < 4 or ack[0] != 0x20 or ack[3] != 0:
            raise RuntimeError(f"broker refused the publisher: {ack!r}")
        self.mid = 0
        self.sent = 0
        self.acked = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def publish(self, items: list[tuple[str, bytes]]) -> None:
        out = []
        for topic, payload in items:
            self.mid = self.mid % 65535 + 1
            t = topic.encode()
            var = struct.pack("!H", len(t)) + t + struct.pack("!H", self.mid)
            out.append(b"\x32" + _varint(len(var) + len(payload)) + var + payload)
        self.sock.sendall(b"".join(out))
        self.sent += len(items)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while len(buf) >= 4 and buf[0] == 0x40:  # PUBACK: 0x40, 2, packet id
                self.acked += 1
                buf = buf[4:]

    def close(self, timeout: float = 30) -> None:
        wait_for(lambda: self.acked >= self.sent, timeout=timeout, interval=0.01)
        self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        self.sock.close()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = n >> 7, n & 0x7F
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def child_publisher(port: int, rate: int, n: int) -> None:
    """Offer ``n`` messages at ``rate`` a second, each reference payload stamped with its
    publish time; report the rate offered once the broker has acknowledged the last."""
    stamped = []
    for topic, payload in traffic(n):
        obj = json.loads(payload) if topic.startswith("ref/") else None
        stamped.append((topic, payload, obj if isinstance(obj, dict) else None))
    pub = LeanPublisher(port, "bench-live")
    print(json.dumps({"stamped": sum(1 for s in stamped if s[2] is not None)}), flush=True)
    tick, per_tick = 0.01, max(1, rate // 100)
    t0 = time.perf_counter()
    sent = 0
    while sent < len(stamped):
        now = time.time()
        pub.publish(
            [
                (topic, payload if obj is None else json.dumps({**obj, "ts": now}).encode())
                for topic, payload, obj in stamped[sent : sent + per_tick]
            ]
        )
        sent += per_tick
        delay = t0 + (sent / per_tick) * tick - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    offered = len(stamped) / (time.perf_counter() - t0)
    pub.close()
    print(json.dumps({"offered": round(offered)}), flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-ceiling":
        child_ceiling(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-publisher":
        child_publisher(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-gateway":
        child_gateway(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--modes", default="drain,kill,live")
    ap.add_argument("--rate", type=int, default=5_000)
    ap.add_argument("--live-seconds", type=float, default=10.0)
    ap.add_argument(
        "--repeat", type=int, default=1, help="drain and live runs; medians are reported"
    )
    ap.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql://user@host/db): each run gets a fresh database "
        "on it, dropped at the end (default: SQLite files in a temp folder)",
    )
    args = ap.parse_args()
    targets.use_server(args.database_url)
    modes = args.modes.split(",")
    msgs = traffic(args.n)
    exp = expected(msgs)
    print(f"{len(msgs)} messages, {sum(exp[0].values())} events + {exp[1]} dead letters expected")
    result: dict[str, Any] = {"messages": len(msgs)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        broker, port = start_broker(work)
        try:
            if "drain" in modes:
                runs = []
                for i in range(args.repeat):  # ceiling and gateway side by side in each run
                    d = run_drain(port, work, msgs, exp, None, i, broker.pid)
                    d["ratio"] = round(d["gateway_msgs_per_s"] / d["ceiling_msgs_per_s"], 3)
                    print(f"drain {i + 1}/{args.repeat}: {d}", flush=True)
                    runs.append(d)
                    for who in ("gw", "ceiling"):
                        drop_session(port, f"{who}-drain{i or ''}-{port}")
                d = median_of(runs, ("gateway_msgs_per_s", "ceiling_msgs_per_s", "ratio"))
                print(f"drain, medians of {args.repeat}: {d}")
                result.update(d)
            if "kill" in modes:
                k = run_drain(port, work, msgs, exp, 0.4)
                print(f"drain with kill -9 at 40%: {k}")
                result.update(kill_lost=k["lost"], kill_duplicated=k["duplicated"])
            if "live" in modes:
                disk = fsync_latency(work)  # the floor under a commit, measured in this run
                print(f"the disk under the store: {disk}", flush=True)
                result.update(disk)
                n_live = int(args.rate * args.live_seconds)
                lives = []
                for i in range(args.repeat):
                    lives.append(run_live(port, work, n_live, args.rate, i, broker.pid))
                    print(f"live {i + 1}/{args.repeat}: {lives[-1]}", flush=True)
                    drop_session(port, f"gw-live{i or ''}-{port}")
                lv = median_of(lives, ("latency_ms_p50", "latency_ms_p99", "offered_msgs_per_s"))
                print(f"live, medians of {args.repeat}: {lv}")
                result.update({k: v for k, v in lv.items() if k != "runs"})
        finally:
            broker.terminate()
            broker.wait()
            targets.drop_all()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
