"""What the gateway finds reaches the subscriptions that want it, in the body they asked for.

Findings come through the real paths -- a booking pushed by a platform's signed webhook and
released as a ghost by the engine and the booking feed, an alert and its work order raised by
a device going silent, a work order moved through the API -- and are read back from the
outbox as the receiver would get them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.integrations.webhooks import translate
from gateway.store.outbox_tables import DELIVERIES
from tests.services.conftest import T0, Site, iso, make_site

START = T0 + 4 * 3600  # 13:00 UTC: 14:00 in Amsterdam, the building's time zone


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(
        tmp_path,
        webhooks={"dashboard_url": "https://gw.example/"},
        booking_hooks={"integrations": {"acme": {"secret": ACME_SECRET}}},
    )


def sub(site: Site, **body: Any) -> str:
    r = site.client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", **body})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def outbox(site: Site, sid: str) -> list[tuple[str, Any]]:
    with site.gw.db.connect() as conn:
        rows = conn.execute(
            select(DELIVERIES.c.kind, DELIVERIES.c.body)
            .where(DELIVERIES.c.subscription == sid)
            .order_by(DELIVERIES.c.seq)
        ).all()
    return [(r.kind, json.loads(r.body)) for r in rows]


ACME_SECRET = "acme-platform-secret-0123456789abcdef0123456789"


def release_a_platform_booking(site: Site) -> str:
    """A booking the platform ``acme`` pushes through its signed webhook, released as a ghost."""
    site.send("ref/occupancy/pres-orion", {"presence": False})  # a working sensor: vacant
    site.advance(START - 1200, step=600)
    change = {"event": "created", "id": "acme-778", "space": "orion", "member": "m-7",
              "start": iso(START), "end": iso(START + 3600)}  # fmt: skip
    body = json.dumps(change).encode()
    t = int(site.clock.t)
    mac = hmac.new(ACME_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    r = site.client.post(
        "/api/v1/integrations/bookings",
        content=body,
        headers={"X-Gateway-Integration": "acme", "X-Gateway-Signature": f"t={t},v1={mac}",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    bid = str(r.json()["booking"])
    site.advance(START + 660)
    assert site.client.get(f"/api/v1/bookings/{bid}").json()["status"] == "released"
    return bid


def test_a_released_platform_booking_goes_back_to_its_platform_and_to_chat(site: Site) -> None:
    acme = sub(site, integration="acme")  # kinds default to booking_released
    other = sub(site, integration="other-platform")
    slack = sub(site, kinds=["booking_released"], format="slack")
    teams = sub(site, kinds=["booking_released"], format="teams")
    alerts_only = sub(site, kinds=["alert_raised"])
    bid = release_a_platform_booking(site)

    [(kind, env)] = outbox(site, acme)
    assert kind == "booking_released" and env["kind"] == "booking_released"
    assert set(env) == {"id", "kind", "time", "site", "payload"} and env["site"] == "svc-site"
    p = env["payload"]
    assert (p["booking"], p["source"], p["external_id"]) == (bid, "platform:acme", "acme-778")
    assert p["space"] == "orion" and "member" not in p  # the receiver needs no person
    assert outbox(site, other) == [] and outbox(site, alerts_only) == []

    sentence = (
        "Orion (meeting room, 8 seats) released: nobody came within 10 min of the 14:00 booking"
    )
    [(_, s_body)] = outbox(site, slack)
    assert s_body["text"] == f"{sentence} <https://gw.example/|Open the dashboard>"
    assert s_body["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": sentence}}
    [(_, t_body)] = outbox(site, teams)
    assert t_body["type"] == "message"
    [att] = t_body["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == sentence
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Open the dashboard",
        "url": "https://gw.example/",
    }


def test_a_silent_device_raises_alert_offline_and_a_work_order_then_clears(site: Site) -> None:
    every = sub(site)  # kinds default to *
    site.send("ref/occupancy/pres-dark", {"presence": False})
    site.advance(T0 + 3 * 86_400, step=3600)  # far past any silence timeout
    kinds = [k for k, _ in outbox(site, every)]
    assert {"alert_raised", "device_offline", "work_order_opened"} <= set(kinds)
    offline = next(env for k, env in outbox(site, every) if k == "device_offline")
    assert offline["payload"]["subject"] == "pres-dark"
    order = next(env for k, env in outbox(site, every) if k == "work_order_opened")["payload"]
    moved = site.client.patch(
        f"/api/v1/work-orders/{order['id']}", json={"status": "assigned", "assignee": "Kim"}
    )
    assert moved.status_code == 200, moved.text
    changed = [env["payload"] for k, env in outbox(site, every) if k == "work_order_changed"]
    assert [(c["id"], c["status"], c["assignee"]) for c in changed] == [
        (order["id"], "assigned", "Kim")
    ]
    site.send("ref/occupancy/pres-dark", {"presence": False})  # it speaks again
    assert "device_online" in [k for k, _ in outbox(site, every)]


def test_an_idle_room_and_its_end_are_told_once_each(site: Site) -> None:
    idle = sub(site, kinds=["space_idle", "space_idle_ended"], format="slack")
    site.send("ref/occupancy/pres-orion", {"presence": False})
    site.advance(T0 + 1200)  # past idle_after (900 s) in business hours
    site.gw.keeper.save()  # the engine saver announces the episode once it is saved
    site.gw.keeper.save()  # a second save tells nothing new
    site.send("ref/occupancy/pres-orion", {"presence": True})
    site.advance(T0 + 1260)
    site.gw.keeper.save()
    texts = [body["blocks"][0]["text"]["text"] for _, body in outbox(site, idle)]
    assert texts == [
        "Orion (meeting room, 8 seats) idle since 10:00",  # T0 is 10:00 in Amsterdam
        "Orion (meeting room, 8 seats) in use again at 10:20",
    ]


def test_a_staff_work_order_and_idle_episodes_are_findings_too() -> None:
    opened = translate({"type": "work_order_opened", "id": 3, "title": "Lamp", "ts": 1.0})
    assert opened == [("work_order_opened", {"id": 3, "title": "Lamp", "ts": 1.0})]
    idle = translate({"type": "idle_episode", "space": "orion", "start": 1.0, "end": None})
    ended = translate({"type": "idle_episode", "space": "orion", "start": 1.0, "end": 9.0})
    assert [k for k, _ in idle + ended] == ["space_idle", "space_idle_ended"]
    assert translate({"type": "something_else"}) == []


def test_recommendations_changed_is_told_after_the_baseline(site: Site) -> None:
    every = sub(site, kinds=["recommendation_changed"])
    hooks = site.gw.webhooks
    recs: list[dict[str, Any]] = [{"space": "orion", "kind": "chronic_underuse"}]
    hooks.recommendations = lambda _now: recs
    hooks._periodic(site.clock.t)  # the first look is the baseline: nothing told
    assert outbox(site, every) == []
    recs = [{"space": "focus", "kind": "right_size", "suggestion": "a 4-seat room"}]
    hooks._periodic(site.clock.t + 7200)
    [(_, env)] = outbox(site, every)
    assert [a["space"] for a in env["payload"]["added"]] == ["focus"]
    assert env["payload"]["removed"] == [{"space": "orion", "kind": "chronic_underuse"}]
