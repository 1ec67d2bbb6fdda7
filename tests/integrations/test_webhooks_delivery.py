"""Webhook deliveries to a real receiver process that fails, hangs and recovers.

The gateway runs on a fake clock (its backoff is moved past by moving the clock); the HTTP
side is real: a receiver process on a free port, real sockets, a real timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.webhook_support import SECRET, Receiver, receiver_fixture  # noqa: F401
from tests.services.conftest import Site, make_site
from tests.support import wait_for

HOOKS = {"timeout_s": 0.5, "retry_min_s": 2.0, "retry_max_s": 60.0, "pause_after": 4}


@pytest.fixture
def hsite(tmp_path: Path, db_url: str) -> Iterator[Site]:
    yield from make_site(tmp_path, database_url=db_url, webhooks=HOOKS)


def subscribe(site: Site, r: Receiver, **kw: Any) -> dict[str, Any]:
    body = {"url": r.url, "secret": SECRET, "kinds": ["test", "alert_raised"], **kw}
    resp = site.client.post("/api/v1/webhooks", json=body)
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


def deliveries(site: Site, sid: str) -> list[dict[str, Any]]:
    page = site.client.get(f"/api/v1/webhooks/{sid}/deliveries").json()
    return list(reversed(page["data"]))  # oldest first


def sender_pass(site: Site, advance: float = 0.0) -> int:
    site.clock.t += advance
    return site.gw.webhooks.sender.pass_once()


def metric(site: Site, name: str, sub: str) -> float:
    text = site.client.get("/metrics").text
    for line in text.splitlines():
        if line.startswith(f'{name}{{subscription="{sub}"}}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} for {sub} not in /metrics")


def test_fail_hang_recover_delivers_each_once_in_order(hsite: Site, receiver: Receiver) -> None:
    site, r = hsite, receiver
    sub = subscribe(site, r)
    ids = [site.client.post(f"/api/v1/webhooks/{sub['id']}/test").json()["delivery_id"]]
    ids += [site.gw.webhooks.emit("alert_raised", {"n": i}, site.clock.t)[0] for i in range(4)]

    r.mode("fail")
    assert sender_pass(site) == 0
    first = deliveries(site, sub["id"])[0]
    assert (first["attempts"], first["last_status"], first["last_error"]) == (1, 500, "HTTP 500")
    assert sender_pass(site) == 0  # still in its backoff: not tried again
    assert len(r.log()) == 1

    r.mode("hang")
    t0 = time.monotonic()
    assert sender_pass(site, advance=120) == 0
    assert time.monotonic() - t0 < 3  # bounded by the timeout, not by the receiver
    first = deliveries(site, sub["id"])[0]
    assert first["attempts"] == 2 and first["last_error"] == "no answer within 0.5 s"

    r.mode("ok")
    assert sender_pass(site, advance=120) == 5
    assert r.accepted() == ids  # every one, once, in the order they were found
    assert all(e["sig_ok"] for e in r.log())
    got = r.bodies()
    assert [b["id"] for b in got] == ids and got[0]["kind"] == "test"
    assert [b["payload"].get("n") for b in got[1:]] == [0, 1, 2, 3]
    assert {d["status"] for d in deliveries(site, sub["id"])} == {"delivered"}
    assert metric(site, "gateway_webhook_delivered_total", sub["id"]) == 5
    assert metric(site, "gateway_webhook_failures_total", sub["id"]) == 2
    assert metric(site, "gateway_webhook_pending", sub["id"]) == 0


def test_a_receiver_that_hangs_holds_up_only_its_own_subscription(
    tmp_path: Path, receiver: Receiver
) -> None:
    other = Receiver()
    try:
        for site in make_site(tmp_path, webhooks={**HOOKS, "timeout_s": 5.0}):
            subscribe(site, receiver), subscribe(site, other)
            receiver.mode("hang")
            sender = site.gw.webhooks.sender
            thread = threading.Thread(target=sender.run, daemon=True)
            thread.start()
            try:
                site.gw.webhooks.emit("alert_raised", {"n": 0}, site.clock.t)
                wait_for(lambda: len(receiver.log()) == 1, timeout=5)  # it hangs on this one
                t0 = time.monotonic()
                for i in range(1, 4):
                    site.gw.webhooks.emit("test", {"n": i}, site.clock.t)
                wait_for(lambda: len(other.accepted()) == 4, timeout=4)
                assert time.monotonic() - t0 < 4  # well inside the hanging one's 5 s
                assert [b["payload"]["n"] for b in other.bodies()] == [0, 1, 2, 3]
                assert len(receiver.log()) == 1  # the hanging one: still its first, in order
            finally:
                sender.stop_event.set()
                site.gw.webhooks.outbox.wake.set()
                receiver.mode("ok")
                thread.join(timeout=10)
    finally:
        other.stop()


def test_a_subscription_that_keeps_failing_is_paused_alerts_and_resumes(
    hsite: Site, receiver: Receiver
) -> None:
    site, r = hsite, receiver
    sub = subscribe(site, r)
    did = site.gw.webhooks.emit("alert_raised", {"n": 1}, site.clock.t)[0]
    r.mode("fail")
    for _ in range(HOOKS["pause_after"]):
        sender_pass(site, advance=120)
    got = site.client.get(f"/api/v1/webhooks/{sub['id']}").json()
    assert got["state"] == "paused" and "4 failed attempts in a row" in got["paused_reason"]
    alerts = site.client.get("/api/v1/alerts", params={"active": True}).json()["data"]
    assert [(a["kind"], a["subject"]) for a in alerts] == [
        ("webhook_paused", f"webhook:{sub['id']}")
    ]
    assert metric(site, "gateway_webhook_paused", sub["id"]) == 1

    r.mode("ok")
    tried = len(r.log())
    sender_pass(site, advance=3600)
    assert len(r.log()) == tried  # paused: not tried however long it waits
    resumed = site.client.patch(f"/api/v1/webhooks/{sub['id']}", json={"state": "active"})
    assert resumed.status_code == 200 and resumed.json()["state"] == "active"
    assert sender_pass(site) >= 1
    assert did in r.accepted()
    assert site.client.get("/api/v1/alerts", params={"active": True}).json()["data"] == []


def test_the_outbox_cap_drops_the_oldest_and_counts_it(tmp_path: Path, receiver: Receiver) -> None:
    for site in make_site(tmp_path, webhooks={**HOOKS, "outbox_max": 3}):
        sub = subscribe(site, receiver)
        ids = [site.gw.webhooks.emit("alert_raised", {"n": i}, site.clock.t)[0] for i in range(5)]
        got = site.client.get(f"/api/v1/webhooks/{sub['id']}").json()
        assert (got["pending"], got["dropped"]) == (3, 2)
        assert metric(site, "gateway_webhook_dropped_total", sub["id"]) == 2
        assert sender_pass(site) == 3
        assert receiver.accepted() == ids[2:]  # the newest three


def test_bad_subscriptions_are_refused(hsite: Site) -> None:
    site = hsite
    c = site.client
    bad_kind = c.post("/api/v1/webhooks", json={"url": "http://x/", "kinds": ["nope"]})
    assert bad_kind.status_code == 422 and "unknown finding kind" in bad_kind.text
    assert c.post("/api/v1/webhooks", json={"url": "ftp://x/"}).status_code == 422
    assert (
        c.post("/api/v1/webhooks", json={"url": "http://x/\x00"}).status_code == 422
    )  # PG refuses NUL
    made = c.post("/api/v1/webhooks", json={"url": "http://x/", "id": "a"})
    assert made.status_code == 201 and len(made.json()["secret"]) >= 32
    assert "secret" not in c.get("/api/v1/webhooks/a").json()
    assert c.post("/api/v1/webhooks", json={"url": "http://x/", "id": "a"}).status_code == 409
    assert c.delete("/api/v1/webhooks/a").status_code == 204
    assert c.get("/api/v1/webhooks/a").status_code == 404
