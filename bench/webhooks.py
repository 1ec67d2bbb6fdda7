"""Benchmark: webhook deliveries through the durable outbox to a local receiver process.

The receiver is the tests' real HTTP server (``tests/integrations/webhook_receiver.py``, its
own process, answering 204). Three runs:

- baseline: a bare ``urllib`` loop POSTing the same bodies, no store, no signature;
- burst: ``--n`` findings queued at once through ``Webhooks.emit`` (outbox rows in the store),
  then the sender thread drains them: deliveries/second, queue to delivered;
- trickle: one finding every ``--gap-ms`` while the sender runs: delivery latency (queued in
  the outbox to answered 2xx) p50 and p99.

Prints the figures and the burst / bare ratio, then one line holding a JSON object.

    .venv/bin/python bench/webhooks.py [--n 2000] [--trickle 300] [--gap-ms 20] [--db-url URL]
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.building import load_building  # noqa: E402
from gateway.integrations.webhooks import Webhooks  # noqa: E402
from gateway.integrations.webhooks_metrics import quantile  # noqa: E402
from gateway.store import create_db_engine, init_db  # noqa: E402
from gateway.webhook_settings import WebhookSettings  # noqa: E402
from tests.support import free_port  # noqa: E402

RECEIVER = ROOT / "tests" / "integrations" / "webhook_receiver.py"
SECRET = "bench-secret-0123456789abcdef"
SUB = f"bench-{secrets.token_hex(4)}"  # a store given by --db-url keeps nothing of it after


def finding(i: int) -> dict[str, object]:
    return {"id": i, "kind": "co2_high", "subject": "orion", "message": f"CO2 {900 + i} ppm"}


def bare(url: str, n: int) -> float:
    body = json.dumps({"payload": finding(0)}).encode()
    t0 = time.perf_counter()
    for _ in range(n):
        req = urllib.request.Request(url, data=body, method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            r.read()
    return n / (time.perf_counter() - t0)


def build(db_url: str, url: str) -> Webhooks:
    db = create_db_engine(db_url)
    init_db(db)
    building = load_building(ROOT / "examples" / "building.yaml")
    config = SimpleNamespace(get=lambda: SimpleNamespace(building=building))
    hooks = Webhooks(
        db, building.site.id, WebhookSettings(), config, time.time,
        grace_s=600, link="http://127.0.0.1:8080/",
    )  # fmt: skip
    hooks.subs.create({"id": SUB, "url": url, "secret": SECRET, "kinds": ["alert_raised"]})
    return hooks


def drain(hooks: Webhooks, n: int) -> None:
    while hooks.subs.get(SUB)["delivered"] < n:
        time.sleep(0.01)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--trickle", type=int, default=300)
    ap.add_argument("--gap-ms", type=float, default=20.0)
    ap.add_argument("--db-url", default=None, help="default: a SQLite file in a temp folder")
    args = ap.parse_args()
    port = free_port()
    rcv = subprocess.Popen(
        [sys.executable, str(RECEIVER), str(port), SECRET], stdout=subprocess.PIPE
    )
    assert rcv.stdout is not None and rcv.stdout.readline().strip() == b"ready"
    url = f"http://127.0.0.1:{port}/hook"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = bare(url, args.n)
            print(f"bare urllib POST loop, no store: {base:,.0f} requests/s")
            hooks = build(args.db_url or f"sqlite:///{tmp}/bench.db", url)
            t0 = time.perf_counter()
            for i in range(args.n):
                hooks.emit("alert_raised", finding(i), time.time())
            queued = time.perf_counter() - t0
            print(f"queued {args.n} findings in the outbox: {args.n / queued:,.0f} findings/s")
            thread = threading.Thread(target=hooks.sender.run, daemon=True)
            t0 = time.perf_counter()
            thread.start()
            drain(hooks, args.n)
            rate = args.n / (time.perf_counter() - t0)
            print(f"outbox sender, burst of {args.n}: {rate:,.0f} deliveries/s")
            hooks.sender.latency_s = []
            for i in range(args.trickle):
                hooks.emit("alert_raised", finding(i), time.time())
                time.sleep(args.gap_ms / 1000)
            drain(hooks, args.n + args.trickle)
            lat = hooks.sender.latency_s
            p50, p99 = quantile(lat, 0.5) * 1000, quantile(lat, 0.99) * 1000
            print(
                f"latency, one finding every {args.gap_ms:g} ms: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            )
            print(f"ratio outbox / bare: {rate / base:.2f}x")
            hooks.stop()
            thread.join(timeout=10)
            hooks.subs.delete(SUB)
            hooks.outbox.forget(SUB)
            hooks.db.dispose()
    finally:
        rcv.kill()
        rcv.wait()
    print(
        json.dumps(
            {
                "n": args.n,
                "backend": "sqlite" if args.db_url is None else args.db_url.split(":", 1)[0],
                "bare_requests_per_s": round(base),
                "queue_findings_per_s": round(args.n / queued),
                "deliveries_per_s": round(rate),
                "latency_p50_ms": round(p50, 1),
                "latency_p99_ms": round(p99, 1),
                "ratio": round(rate / base, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
