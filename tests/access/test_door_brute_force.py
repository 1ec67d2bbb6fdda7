"""Card guessing at one door: the first few guesses are decided, then every request is
``denied`` as ``rate_limited`` whatever its card; one alert and one work order per trip, the
lockout doubling while the guessing goes on, counted in ``/metrics``.

The request body is the reference controller's (docs/reference-devices.md, ``ref-door``):
``{"request": "r-123", "credential": "04A1B2C3", "ts": ...}``. The clock is the test's: every
guess of a burst arrives at the same instant, as 3,000 guesses in 0.6 s nearly do.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from gateway.store.audit import AUDIT
from tests.access.conftest import Site

DOOR = "door-office-101"
M1_CARD = "04A1B2C3"  # m-1, plan team-101: office-101
LOCKOUT_AFTER = 10  # access.lockout_after's default


def ask(site: Site, req: str, credential: str, door: str = DOOR) -> dict[str, Any]:
    body = json.dumps({"request": req, "credential": credential, "ts": site.clock.t}).encode()
    out = site.gw.access.decider.handle(f"ref/door/{door}/request", body)
    assert out is not None and out[0] == f"ref/door/{door}/decision"
    answer: dict[str, Any] = json.loads(out[1])
    assert answer["request"] == req
    return answer


def audit(site: Site) -> list[dict[str, Any]]:
    site.gw.access.decider.flush()
    with site.gw.db.connect() as conn:
        rows = conn.execute(
            select(AUDIT).where(AUDIT.c.action == "door_decision").order_by(AUDIT.c.id)
        ).all()
    return [dict(r._mapping) for r in rows]


def alerts_and_orders(site: Site, active: bool | None = None) -> tuple[list[Any], list[Any]]:
    site.gw.access.decider.flush()  # hands the trips to the member services ...
    site.gw.services.pump_queue()  # ... whose worker raises the alert and its work order
    alerts, _ = site.gw.services.alerts.query(kind="door_rate_limited", active=active)
    orders, _ = site.gw.services.orders.query(kind="door_rate_limited")
    return alerts, orders


def metric(text: str, name: str, door: str) -> float:
    m = re.search(rf'^{name}{{door="{door}"}} (\S+)$', text, re.M)
    assert m is not None, f"{name} for {door} not in /metrics"
    return float(m.group(1))


def test_three_thousand_guesses_then_the_valid_card(site: Site) -> None:
    guesses = [f"{i:08X}" for i in range(0xA0000000, 0xA0000000 + 2999)] + [M1_CARD]
    answers = [ask(site, f"g-{i}", card) for i, card in enumerate(guesses)]
    rows = audit(site)
    assert len(rows) == 3000  # every guess is answered and audited
    normal = [r for r in rows if r["reason"] != "rate_limited"]
    assert len(normal) == LOCKOUT_AFTER
    assert all(r["reason"] == "unknown credential" for r in normal)
    assert rows[:LOCKOUT_AFTER] == normal  # the first ones, then the limit
    assert {(r["result"], r["reason"]) for r in rows[LOCKOUT_AFTER:]} == {
        ("denied", "rate_limited")
    }
    assert {a["decision"] for a in answers} == {"denied"}
    # the valid card, the last guess, opens nothing and says nothing of its member ...
    assert answers[-1] == {"request": "g-2999", "decision": "denied", "open_s": 0}
    # ... while the audit keeps whose card it was
    assert rows[-1]["member"] == "m-1" and rows[-1]["detail"]["limit"] == "lockout"
    assert rows[-1]["credential"].startswith("hmac:")

    alerts, orders = alerts_and_orders(site)
    assert [(a["subject"], a["cleared_at"]) for a in alerts] == [(DOOR, None)]
    assert "10 denials in a row" in alerts[0]["message"]
    assert [(o["subject"], o["status"], o["alert"]) for o in orders] == [
        (DOOR, "open", alerts[0]["id"])
    ]
    text = site.client.get("/metrics").text
    assert metric(text, "gateway_door_rate_limited_total", DOOR) == 2990
    assert metric(text, "gateway_door_lockouts_total", DOOR) == 1
    assert metric(text, "gateway_door_rate_limited_total", "door-orion") == 0
    # requests on made-up door ids are audited as unknown doors, never a label
    for i in range(50):
        body = json.dumps({"request": f"x-{i}", "credential": "00"}).encode()
        assert site.gw.access.decider.handle(f"ref/door/fake-{i}/request", body) is None
    text = site.client.get("/metrics").text
    labels = set(re.findall(r'^gateway_door_rate_limited_total{door="([^"]+)"}', text, re.M))
    assert labels == {"door-main", "door-office-101", "door-orion"}


def test_the_lockout_doubles_and_a_member_clears_it(site: Site) -> None:
    clock = site.clock
    t0 = clock.t
    for i in range(LOCKOUT_AFTER):
        assert ask(site, f"a-{i}", f"BAD{i}")["decision"] == "denied"
    assert ask(site, "valid-in-lockout", M1_CARD)["decision"] == "denied"  # locked for 30 s
    clock.t = t0 + 29.9
    assert ask(site, "still", M1_CARD)["decision"] == "denied"
    clock.t = t0 + 30
    for i in range(LOCKOUT_AFTER):  # the guessing goes on: the next lockout lasts 60 s
        assert ask(site, f"b-{i}", f"BAD{i}")["decision"] == "denied"
    clock.t = t0 + 30 + 59.9
    assert ask(site, "still-2", M1_CARD)["decision"] == "denied"
    assert audit(site)[-1]["reason"] == "rate_limited"
    alerts, orders = alerts_and_orders(site)
    assert len(alerts) == 1 and len(orders) == 1  # one trip, however many lockouts
    assert site.gw.access.decider.limiter.lockouts == {DOOR: 2}
    # past the second lockout and a quiet period, a member is granted and the alert clears
    clock.t = t0 + 30 + 59.9 + 30
    assert ask(site, "member", M1_CARD) == {"request": "member", "decision": "granted", "open_s": 5}
    alerts, orders = alerts_and_orders(site)
    assert [a["cleared_at"] for a in alerts] == [clock.t]
    assert len(orders) == 1  # the order stays for staff to close
    # the next guessing is a new trip: a new alert; its fault's order is still open
    for i in range(LOCKOUT_AFTER + 1):
        ask(site, f"c-{i}", f"BAD{i}")
    alerts, orders = alerts_and_orders(site)
    assert len(alerts) == 2 and len(orders) == 1
    assert audit(site)[-1]["reason"] == "rate_limited"


def test_a_flood_of_valid_cards_is_rate_limited(site: Site) -> None:
    """A copied valid card replayed fast: the bucket (access.door_burst) limits it too."""
    answers = [ask(site, f"v-{i}", M1_CARD)["decision"] for i in range(25)]
    assert answers == ["granted"] * 20 + ["denied"] * 5
    rows = audit(site)
    assert rows[-1]["detail"]["limit"] == "rate" and rows[-1]["member"] == "m-1"
    site.clock.t += 1.0  # one token a second (access.door_rate_per_s)
    assert [ask(site, f"w-{i}", M1_CARD)["decision"] for i in range(2)] == ["granted", "denied"]
    alerts, _ = alerts_and_orders(site)
    assert [a["subject"] for a in alerts] == [DOOR]
    assert "more than 20 requests at once" in alerts[0]["message"]
